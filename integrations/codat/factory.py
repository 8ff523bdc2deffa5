"""Build the Codat client and webhook verifier from Django settings (the only Django use here)."""

from __future__ import annotations

from django.conf import settings

from .client import CodatClient
from .webhooks import WebhookVerifier


def codat_client(**overrides) -> CodatClient:
    """A client for the configured Codat (real or sandbox). Use it as a context manager."""
    options = {
        "base_url": settings.CODAT_BASE_URL,
        "api_key": settings.CODAT_API_KEY,
        "production_url": settings.CODAT_PRODUCTION_URL,
        "sandbox_url": settings.CODAT_SANDBOX_URL,
        "timeout": float(settings.CODAT_TIMEOUT_SECONDS),
    }
    return CodatClient(**(options | overrides))


def webhook_verifier() -> WebhookVerifier:
    # CODAT_WEBHOOK_SECRETS (a list) lets an old and a new secret overlap during rotation; the
    # single CODAT_WEBHOOK_SECRET is what settings define today.
    secrets = getattr(settings, "CODAT_WEBHOOK_SECRETS", None) or [settings.CODAT_WEBHOOK_SECRET]
    return WebhookVerifier(secrets)
