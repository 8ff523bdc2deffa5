"""Verify Codat's signed webhooks (Standard Webhooks, the scheme Svix implements).

Codat signs ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` with HMAC-SHA256 under the
endpoint's ``whsec_`` secret. The check must run on the raw request body: re-serialising the
parsed JSON changes bytes and breaks the signature.

``verify`` raises exactly one exception type, ``WebhookVerificationError``, whatever is wrong
with the request, so a view can answer 400 for all of it and never 500 on hostile input.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import standardwebhooks

from .types import WebhookEvent

# The library rejects timestamps more than this far from now; kept here only to document it.
TOLERANCE_SECONDS = 5 * 60
# Standard Webhooks secrets are base64 of 24 to 64 random bytes (Svix, and so Codat, issue 24);
# anything shorter is a typo or a placeholder that an attacker could guess.
MIN_SECRET_BYTES = 24
# The longest webhook-id we can record: WebhookEvent.webhook_id is a CharField(max_length=255).
MAX_WEBHOOK_ID_LENGTH = 255

_HEADER_NAMES = ("id", "timestamp", "signature")


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh Codat webhook. ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    webhook_id: str
    timestamp: datetime
    payload: WebhookEvent


class WebhookVerifier:
    """Checks signatures against one or more secrets (several while a secret is rotated).

    A malformed secret is a configuration mistake, so the constructor raises ``ValueError``
    for it rather than letting every delivery fail verification quietly.
    """

    def __init__(self, secrets: str | Iterable[str]) -> None:
        if isinstance(secrets, str):
            secrets = [secrets]
        self._webhooks: list[standardwebhooks.Webhook] = []
        for secret in secrets:
            if not secret:
                continue
            try:
                webhook = standardwebhooks.Webhook(secret)
            except (binascii.Error, ValueError, standardwebhooks.webhooks.EmptyWebhookSecretError):
                # Never echo the secret itself.
                raise ValueError("A Codat webhook secret is not a valid whsec_ secret.") from None
            if _key_length(secret) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"A Codat webhook secret is too short: its key must be at least "
                    f"{MIN_SECRET_BYTES} bytes (whsec_ and {MIN_SECRET_BYTES * 4 // 3}+ base64 "
                    f"characters)."
                )
            self._webhooks.append(webhook)
        if not self._webhooks:
            raise ValueError("At least one Codat webhook secret is required.")

    def __repr__(self) -> str:
        return f"<WebhookVerifier with {len(self._webhooks)} secret(s)>"

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> VerifiedWebhook:
        """Return the verified webhook, or raise ``WebhookVerificationError``."""
        if isinstance(body, bytes):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise WebhookVerificationError("Body is not UTF-8.") from None
        else:
            text = body
        normalised = _standard_headers(headers)
        if len(normalised.get("webhook-id", "")) > MAX_WEBHOOK_ID_LENGTH:
            raise WebhookVerificationError(
                f"The webhook-id header is longer than {MAX_WEBHOOK_ID_LENGTH} characters."
            )

        for webhook in self._webhooks:
            try:
                webhook.verify(text, normalised, json_parse=False)
            except standardwebhooks.webhooks.WebhookVerificationError as exc:
                # Only a signature mismatch can be cured by another secret; a missing header or
                # a stale timestamp fails the same way under every secret.
                if str(exc) == "No matching signature found":
                    continue
                raise WebhookVerificationError(_plain_reason(str(exc))) from None
            except (ValueError, TypeError, IndexError):
                # The library unpacks "v1,<base64>" without guarding it, so a garbled signature
                # header surfaces as ValueError (binascii.Error is one too).
                raise WebhookVerificationError("Malformed webhook-signature header.") from None
            except Exception:
                # The contract is one exception type for any bad request; nothing else escapes.
                raise WebhookVerificationError("Webhook headers could not be checked.") from None
            break
        else:
            raise WebhookVerificationError("No signature matches any configured secret.")

        try:
            payload = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            # A signed body is still untrusted input: nesting deeper than the parser's
            # recursion limit makes the parser raise RecursionError, not ValueError.
            raise WebhookVerificationError("Signed body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookVerificationError("Signed body is not a JSON object.")
        timestamp = datetime.fromtimestamp(float(normalised["webhook-timestamp"]), tz=UTC)
        return VerifiedWebhook(
            webhook_id=normalised["webhook-id"], timestamp=timestamp, payload=payload
        )


def verify_webhook(
    body: bytes | str, headers: Mapping[str, str], secrets: str | Iterable[str]
) -> VerifiedWebhook:
    return WebhookVerifier(secrets).verify(body, headers)


def sign_webhook(secret: str, msg_id: str, timestamp: int | datetime, body: bytes | str) -> str:
    """The ``webhook-signature`` value Codat would send; for tests and the sandbox."""
    if isinstance(timestamp, int):
        timestamp = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return standardwebhooks.Webhook(secret).sign(msg_id, timestamp, text)


def _standard_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {str(key).lower(): value for key, value in headers.items()}
    normalised = {}
    for name in _HEADER_NAMES:
        # Svix-era senders use svix-*; the Standard Webhooks names win when both are present.
        value = lowered.get(f"webhook-{name}") or lowered.get(f"svix-{name}")
        if value:
            normalised[f"webhook-{name}"] = value
    return normalised


def _key_length(secret: str) -> int:
    """Bytes of HMAC key in a secret, decoded as the library decodes it (padding optional)."""
    return len(base64.b64decode(secret.removeprefix("whsec_") + "=="))


def _plain_reason(library_reason: str) -> str:
    return {
        "Missing required headers": "Missing webhook-id, webhook-timestamp or webhook-signature.",
        "Invalid Signature Headers": "The webhook-timestamp header is not a Unix timestamp.",
        "Message timestamp too old": "Timestamp is more than 5 minutes old.",
        "Message timestamp too new": "Timestamp is more than 5 minutes in the future.",
    }.get(library_reason, library_reason)


__all__ = [
    "MAX_WEBHOOK_ID_LENGTH",
    "MIN_SECRET_BYTES",
    "TOLERANCE_SECONDS",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "WebhookVerifier",
    "sign_webhook",
    "verify_webhook",
]
