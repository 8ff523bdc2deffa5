"""System checks of our own: a deployment must not run on the sandbox or on development secrets.

Each is an Error, so `manage.py check --deploy` (which production runs before starting, see the
README) exits non-zero. They are deploy checks rather than start-up errors because running with
DEBUG off against the sandbox is legitimate on a developer's machine (benchmarks, `gunicorn`
trials); only a deployment must not. A secret the webhook verifier cannot use at all is wrong
everywhere, so that check runs with every command that checks (runserver, migrate, check).
"""

from django.conf import settings
from django.core import checks

from integrations.codat.factory import webhook_verifier

SETTINGS_HINT = "Set it in the environment (see .env.example)."


@checks.register(checks.Tags.security, deploy=True)
def codat_is_real(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    if settings.CODAT_BASE_URL == settings.CODAT_SANDBOX_URL:
        errors.append(
            checks.Error(
                f"CODAT_BASE_URL is the embedded sandbox ({settings.CODAT_SANDBOX_URL}), so the "
                "portal would sync to a fake ledger.",
                hint=f"Set CODAT_BASE_URL={settings.CODAT_PRODUCTION_URL}.",
                id="expenses_portal.E001",
            )
        )
    if not settings.CODAT_API_KEY:
        errors.append(
            checks.Error("CODAT_API_KEY is empty.", hint=SETTINGS_HINT, id="expenses_portal.E002")
        )
    elif settings.CODAT_API_KEY == settings.DEV_CODAT_API_KEY:
        errors.append(
            checks.Error(
                "CODAT_API_KEY is the well-known development key.",
                hint="Use the API key from Codat's portal.",
                id="expenses_portal.E003",
            )
        )
    if not settings.CODAT_WEBHOOK_SECRETS:
        errors.append(
            checks.Error(
                "No webhook secret is set, so no Codat webhook could be verified.",
                hint="Set CODAT_WEBHOOK_SECRET to the endpoint's whsec_ secret from Codat.",
                id="expenses_portal.E004",
            )
        )
    elif settings.DEV_WEBHOOK_SECRET in settings.CODAT_WEBHOOK_SECRETS:
        errors.append(
            checks.Error(
                "CODAT_WEBHOOK_SECRET (or a previous secret) is the well-known development "
                "secret, so anyone could forge Codat's webhooks.",
                hint="Use the endpoint's whsec_ secret from Codat.",
                id="expenses_portal.E005",
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def sandbox_has_own_secrets(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A deployed sandbox (a demo or staging server) is reachable by others: its key and signing
    secret must not be the ones printed in the README."""
    if not settings.CODAT_SANDBOX_ENABLED:
        return []
    errors = []
    if settings.DEV_CODAT_API_KEY in settings.CODAT_SANDBOX_API_KEYS:
        errors.append(
            checks.Error(
                "CODAT_SANDBOX_ENABLED is on and CODAT_SANDBOX_API_KEYS accepts the well-known "
                "development key.",
                hint="Set CODAT_SANDBOX_API_KEYS to keys of your own, or switch the sandbox off.",
                id="expenses_portal.E006",
            )
        )
    if settings.CODAT_SANDBOX_WEBHOOK_SECRET == settings.DEV_WEBHOOK_SECRET:
        errors.append(
            checks.Error(
                "CODAT_SANDBOX_ENABLED is on and the sandbox signs webhooks with the well-known "
                "development secret.",
                hint="Set CODAT_SANDBOX_WEBHOOK_SECRET, or switch the sandbox off.",
                id="expenses_portal.E007",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def webhook_secrets_are_usable(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not settings.CODAT_WEBHOOK_SECRETS:
        return []  # none at all only matters in a deployment (E004)
    try:
        webhook_verifier()
    except ValueError as exc:  # the verifier's message never includes the secret
        return [
            checks.Error(
                f"CODAT_WEBHOOK_SECRET or CODAT_WEBHOOK_PREVIOUS_SECRETS cannot be used: {exc}",
                id="expenses_portal.E008",
            )
        ]
    return []
