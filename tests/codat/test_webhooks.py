import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from integrations.codat.webhooks import (
    WebhookVerificationError,
    WebhookVerifier,
    sign_webhook,
    verify_webhook,
)

SECRET = "whsec_" + base64.b64encode(b"current-secret-0123456789abcdef").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"previous-secret-0123456789abcde").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody-elses-secret-012345678").decode()

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
MSG_ID = "msg_2Lb1QxVn0d7vQeXk5yWqYbZ3"

BODY = json.dumps(
    {
        "id": "743ec94a-8aa4-44bb-8bd4-e1855ee0e74b",
        "eventType": "expenses.sync.successful",
        "generatedDate": "2026-03-02T11:59:58Z",
        "payload": {
            "syncId": "6fb40d5e-b13e-11ed-afa1-0242ac120002",
            "transactions": [{"id": "t1", "status": "Completed", "amount": 12.5}],
        },
    }
).encode()

pytestmark = pytest.mark.usefixtures("frozen_time")


@pytest.fixture
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_headers(body=BODY, *, secret=SECRET, timestamp=NOW_TS, msg_id=MSG_ID, prefix="webhook"):
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(timestamp),
        f"{prefix}-signature": sign_webhook(secret, msg_id, timestamp, body),
    }


def test_a_valid_webhook_returns_id_timestamp_and_decimal_payload():
    verified = verify_webhook(BODY, signed_headers(), SECRET)

    assert verified.webhook_id == MSG_ID
    assert verified.timestamp == NOW
    assert verified.payload["eventType"] == "expenses.sync.successful"
    amount = verified.payload["payload"]["transactions"][0]["amount"]
    assert amount == Decimal("12.5")
    assert isinstance(amount, Decimal)


def test_sign_webhook_is_hmac_sha256_over_id_timestamp_and_body():
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{MSG_ID}.{NOW_TS}.".encode() + BODY, hashlib.sha256).digest()

    assert sign_webhook(SECRET, MSG_ID, NOW_TS, BODY) == "v1," + base64.b64encode(digest).decode()


def test_header_names_are_case_insensitive():
    headers = {name.title(): value for name, value in signed_headers().items()}

    assert verify_webhook(BODY, headers, SECRET).webhook_id == MSG_ID


def test_svix_header_spellings_are_accepted():
    verified = verify_webhook(BODY, signed_headers(prefix="svix"), SECRET)

    assert verified.webhook_id == MSG_ID


def test_a_tampered_body_is_rejected():
    tampered = BODY.replace(b"Completed", b"Failed")

    with pytest.raises(WebhookVerificationError, match="No signature matches"):
        verify_webhook(tampered, signed_headers(), SECRET)


def test_a_reserialised_body_is_rejected():
    reserialised = json.dumps(json.loads(BODY), indent=2).encode()

    with pytest.raises(WebhookVerificationError):
        verify_webhook(reserialised, signed_headers(), SECRET)


def test_the_wrong_secret_is_rejected():
    with pytest.raises(WebhookVerificationError, match="No signature matches"):
        verify_webhook(BODY, signed_headers(secret=OTHER_SECRET), SECRET)


def test_a_changed_webhook_id_is_rejected():
    headers = signed_headers()
    headers["webhook-id"] = "msg_somebody_else"

    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, SECRET)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_rejected(missing):
    headers = signed_headers()
    del headers[missing]

    with pytest.raises(WebhookVerificationError, match="Missing"):
        verify_webhook(BODY, headers, SECRET)


def test_an_empty_header_is_treated_as_missing():
    headers = signed_headers()
    headers["webhook-id"] = ""

    with pytest.raises(WebhookVerificationError, match="Missing"):
        verify_webhook(BODY, headers, SECRET)


def test_a_timestamp_301_seconds_old_is_rejected():
    with pytest.raises(WebhookVerificationError, match="old"):
        verify_webhook(BODY, signed_headers(timestamp=NOW_TS - 301), SECRET)


def test_a_timestamp_301_seconds_in_the_future_is_rejected():
    with pytest.raises(WebhookVerificationError, match="future"):
        verify_webhook(BODY, signed_headers(timestamp=NOW_TS + 301), SECRET)


@pytest.mark.parametrize("skew", [-299, 299])
def test_a_timestamp_within_five_minutes_is_accepted(skew):
    verified = verify_webhook(BODY, signed_headers(timestamp=NOW_TS + skew), SECRET)

    assert verified.timestamp == datetime.fromtimestamp(NOW_TS + skew, tz=UTC)


def test_a_non_numeric_timestamp_is_rejected():
    headers = signed_headers()
    headers["webhook-timestamp"] = "yesterday"

    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(BODY, headers, SECRET)


def test_old_and_new_secrets_both_verify_during_rotation():
    verifier = WebhookVerifier([SECRET, OLD_SECRET])

    assert verifier.verify(BODY, signed_headers(secret=SECRET)).webhook_id == MSG_ID
    assert verifier.verify(BODY, signed_headers(secret=OLD_SECRET)).webhook_id == MSG_ID
    with pytest.raises(WebhookVerificationError):
        verifier.verify(BODY, signed_headers(secret=OTHER_SECRET))


def test_any_of_several_space_separated_signatures_may_match():
    foreign = sign_webhook(OTHER_SECRET, MSG_ID, NOW_TS, BODY)
    ours = sign_webhook(SECRET, MSG_ID, NOW_TS, BODY)
    headers = signed_headers()
    headers["webhook-signature"] = f"v2,c29tZXRoaW5n {foreign} {ours}"

    assert verify_webhook(BODY, headers, SECRET).webhook_id == MSG_ID


def test_a_stale_timestamp_fails_even_when_another_secret_is_configured():
    verifier = WebhookVerifier([OTHER_SECRET, SECRET])

    with pytest.raises(WebhookVerificationError, match="old"):
        verifier.verify(BODY, signed_headers(timestamp=NOW_TS - 600))


@pytest.mark.parametrize(
    "signature",
    [
        "garbage",
        "v1",
        "v1,",
        "v1,not base64 at all!!",
        "v1,abc,def",
        "v1,é",
        ",,,",
        "v1,Zm9v v1",
    ],
)
def test_a_garbage_signature_header_raises_only_verification_error(signature):
    headers = signed_headers()
    headers["webhook-signature"] = signature

    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, SECRET)


def test_a_body_that_is_not_utf8_is_rejected():
    body = b"\xff\xfe{}"

    with pytest.raises(WebhookVerificationError, match="UTF-8"):
        verify_webhook(body, signed_headers(body=b"{}"), SECRET)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_a_correctly_signed_body_that_is_not_a_json_object_is_rejected(body):
    with pytest.raises(WebhookVerificationError, match="JSON"):
        verify_webhook(body, signed_headers(body=body), SECRET)


@pytest.mark.parametrize("secrets", [[], [""], "whsec_"])
def test_a_verifier_without_a_usable_secret_is_a_configuration_error(secrets):
    with pytest.raises(ValueError):
        WebhookVerifier(secrets)


def test_the_secret_never_appears_in_the_verifier_repr():
    assert SECRET.removeprefix("whsec_") not in repr(WebhookVerifier(SECRET))
