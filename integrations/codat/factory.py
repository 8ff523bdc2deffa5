"""Build the Codat client and webhook verifier from Django settings (the only Django use here)."""

from __future__ import annotations

from django.conf import settings

from .client import CodatClient
from .webhooks import WebhookVerifier


def codat_client(*, interactive: bool = False, **overrides) -> CodatClient:
    """A client for the configured Codat (real or sandbox). Use it as a context manager.

    Every request goes through Codat's limits (``integrations.syncs.limits``). Pass
    ``interactive=True`` only where a person is waiting on the answer: such requests may use
    the daily quota's reserve that background work leaves alone.
    """
    # Imported here: the limiter is Django-aware and lives with the data it guards.
    from integrations.syncs.limits import CodatLimiter

    options = {
        "base_url": settings.CODAT_BASE_URL,
        "api_key": settings.CODAT_API_KEY,
        "production_url": settings.CODAT_PRODUCTION_URL,
        "sandbox_url": settings.CODAT_SANDBOX_URL,
        "timeout": float(settings.CODAT_TIMEOUT_SECONDS),
        "gate": CodatLimiter(interactive=interactive),
    }
    return CodatClient(**(options | overrides))


def webhook_verifier() -> WebhookVerifier:
    # The current secret first, then any previous ones still accepted while Codat rotates.
    secrets = settings.CODAT_WEBHOOK_SECRETS
    return WebhookVerifier(secrets)
