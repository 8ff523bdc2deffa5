"""Hostile but validly signed deliveries, and secrets too weak to sign anything with.

Whatever is wrong with a delivery, the verifier raises its own ``WebhookVerificationError`` (so
the view answers 400, never 500), and a secret nobody should use fails when the verifier is built.
"""

import base64
import sys
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings

from integrations.codat.webhooks import (
    MAX_WEBHOOK_ID_LENGTH,
    MIN_SECRET_BYTES,
    WebhookVerificationError,
    WebhookVerifier,
    sign_webhook,
)

SECRET = "whsec_" + base64.b64encode(b"hostile-tests-secret-0123456789").decode()
NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def signed(body: bytes, msg_id: str = "msg_hostile") -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(NOW_TS),
        "webhook-signature": sign_webhook(SECRET, msg_id, NOW_TS, body),
    }


@pytest.mark.parametrize("opening", ['{"a":', "["])
def test_a_signed_body_nested_past_the_recursion_limit_is_a_verification_error(opening):
    # Far past both limits: Python's (sys.getrecursionlimit()) and the C parser's own, higher one.
    depth = max(sys.getrecursionlimit(), 100_000)
    closing = "}" if opening.startswith("{") else "]"
    body = (opening * depth + "1" + closing * depth).encode()
    if opening == "[":
        body = b'{"a":' + body + b"}"

    with pytest.raises(WebhookVerificationError, match="not valid JSON"):
        WebhookVerifier(SECRET).verify(body, signed(body))


def test_a_webhook_id_longer_than_the_table_can_hold_is_refused():
    body = b"{}"
    longest = "m" * MAX_WEBHOOK_ID_LENGTH
    assert WebhookVerifier(SECRET).verify(body, signed(body, longest)).webhook_id == longest

    too_long = "m" * (MAX_WEBHOOK_ID_LENGTH + 1)
    with pytest.raises(WebhookVerificationError, match="webhook-id"):
        WebhookVerifier(SECRET).verify(body, signed(body, too_long))


def test_the_limit_matches_the_column_the_id_is_stored_in():
    from integrations.syncs.models import WebhookEvent

    assert WebhookEvent._meta.get_field("webhook_id").max_length == MAX_WEBHOOK_ID_LENGTH


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_YQ",  # one byte of key
        "whsec_" + base64.b64encode(b"x" * (MIN_SECRET_BYTES - 1)).decode(),
        "whsec_" + base64.b64encode(b"x" * (MIN_SECRET_BYTES - 1)).decode().rstrip("="),
    ],
)
def test_a_trivially_short_secret_is_refused_when_the_verifier_is_built(secret):
    with pytest.raises(ValueError, match="too short") as excinfo:
        WebhookVerifier(secret)
    assert secret.removeprefix("whsec_") not in str(excinfo.value)


def test_a_short_previous_secret_is_refused_too():
    with pytest.raises(ValueError, match="too short"):
        WebhookVerifier([SECRET, "whsec_YWJj"])


def test_the_shortest_acceptable_secret_and_the_development_secrets_are_accepted():
    shortest = "whsec_" + base64.b64encode(b"k" * MIN_SECRET_BYTES).decode()
    for secret in (shortest, settings.DEV_WEBHOOK_SECRET, settings.CODAT_SANDBOX_WEBHOOK_SECRET):
        WebhookVerifier(secret)
