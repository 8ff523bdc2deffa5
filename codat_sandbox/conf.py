"""Every setting the sandbox reads, in one place, with its default.

Each reader looks the setting up when called, not at import, so a test that overrides a setting
(pytest-django's `settings` fixture) is seen by the next request.
"""

import datetime
import re
from pathlib import Path

from django.conf import settings

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8000/codat-sandbox"
DEFAULT_REDIRECT_URL = (
    "http://127.0.0.1:8000/link/return/?companyId={companyId}&statusCode={statusCode}"
)
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (0, 5, 30, 120, 600)


def public_base_url() -> str:
    """Scheme and host the sandbox is reached on, for URLs built outside a request
    (webhook payloads). Derived from the portal's CODAT_SANDBOX_URL setting."""
    url = getattr(settings, "CODAT_SANDBOX_URL", DEFAULT_SANDBOX_URL)
    match = re.match(r"^(https?://[^/]+)", url)
    return match.group(1) if match else "http://127.0.0.1:8000"


def sync_delay() -> datetime.timedelta:
    """How long a sync, push operation or refresh stays in progress before it completes."""
    return datetime.timedelta(seconds=float(getattr(settings, "CODAT_SANDBOX_SYNC_DELAY", 1.0)))


def api_keys() -> list[str]:
    return list(getattr(settings, "CODAT_SANDBOX_API_KEYS", ["sandbox-dev-key"]))


def state_dir() -> Path:
    """Where the gateway keeps its cross-process counters and slot locks (locks.py)."""
    return Path(getattr(settings, "CODAT_SANDBOX_STATE_DIR", settings.VAR_DIR / "codat-sandbox"))


def daily_quota() -> int:
    return int(getattr(settings, "CODAT_SANDBOX_DAILY_QUOTA", 100000))


def concurrency_limit() -> int:
    return int(getattr(settings, "CODAT_SANDBOX_CONCURRENCY", 10))


def webhook_url() -> str:
    return getattr(settings, "CODAT_SANDBOX_WEBHOOK_URL", "") or ""


def webhook_secret() -> str:
    return getattr(settings, "CODAT_SANDBOX_WEBHOOK_SECRET", "")


def webhook_retry_schedule() -> tuple[int, ...]:
    """Seconds to wait before each delivery attempt; its length is the number of attempts."""
    return tuple(
        getattr(settings, "CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE)
    )


def redirect_url_template() -> str:
    """Where Link sends the SMB back to, with {placeholder}s for the connection's details."""
    return getattr(settings, "CODAT_SANDBOX_REDIRECT_URL", DEFAULT_REDIRECT_URL)


def portal_csp() -> dict:
    """The portal's Content-Security-Policy, which the Link pages extend."""
    return dict(getattr(settings, "SECURE_CSP", {}))


def background_enabled() -> bool:
    return bool(getattr(settings, "CODAT_SANDBOX_BACKGROUND", True))


def tick_seconds() -> float:
    return float(getattr(settings, "CODAT_SANDBOX_TICK_SECONDS", 0.5))
