"""Typed Codat Expenses API client: ``CodatClient``, its errors and webhook verification.

No Django models here; ``factory`` is the one module that reads Django settings.
"""

from .client import PRODUCTION_URL, CodatClient, RequestGate
from .errors import (
    CodatAlreadyProcessedError,
    CodatAuthError,
    CodatConflictError,
    CodatError,
    CodatHeldBackError,
    CodatNotFoundError,
    CodatQuotaReservedError,
    CodatRateLimitedError,
    CodatRedirectError,
    CodatRequestError,
    CodatTransientError,
    CodatValidationError,
    GateRefusal,
    RateLimit,
)
from .webhooks import VerifiedWebhook, WebhookVerificationError, WebhookVerifier, verify_webhook

__all__ = [
    "PRODUCTION_URL",
    "CodatAlreadyProcessedError",
    "CodatAuthError",
    "CodatClient",
    "CodatConflictError",
    "CodatError",
    "CodatHeldBackError",
    "CodatNotFoundError",
    "CodatQuotaReservedError",
    "CodatRateLimitedError",
    "CodatRedirectError",
    "CodatRequestError",
    "CodatTransientError",
    "CodatValidationError",
    "GateRefusal",
    "RateLimit",
    "RequestGate",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "WebhookVerifier",
    "verify_webhook",
]
