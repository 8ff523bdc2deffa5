"""Webhooks the sandbox really sends (signed, over HTTP) checked by the portal's verifier."""

from __future__ import annotations

import base64
import json
import os

import pytest

from codat_sandbox.models import WebhookMessage
from integrations.codat.factory import webhook_verifier
from integrations.codat.webhooks import WebhookVerificationError, WebhookVerifier

from .helpers import INTEGRATION_DB, advance_until, expense, link_company

pytestmark = INTEGRATION_DB


def _event(delivery) -> dict:
    return json.loads(delivery.body)


def _sync_deliveries(capture, sync_id: str) -> list:
    return [
        d
        for d in capture.snapshot()
        if _event(d).get("eventType") == "expenses.sync.successful"
        and _event(d)["payload"].get("syncId") == sync_id
    ]


def _start_sync(codat) -> tuple[str, str, str]:
    lc = link_company(codat)
    txn = expense(lc)
    sync_id = codat.create_expense_transactions(lc.company_id, [txn])["syncId"]
    return lc.company_id, sync_id, txn["id"]


def test_sync_webhook_verifies_with_the_portal_secret(codat, webhook_capture, webhook_secret):
    company_id, sync_id, transaction_id = _start_sync(codat)

    [delivery] = advance_until(
        lambda: _sync_deliveries(webhook_capture, sync_id), "the sync webhook"
    )
    verified = webhook_verifier().verify(delivery.body, delivery.headers)

    event = verified.payload
    assert verified.webhook_id == delivery.headers["webhook-id"] == event["id"]
    assert event["eventType"] == "expenses.sync.successful"
    assert event["payload"]["syncId"] == sync_id
    assert event["payload"]["referenceCompany"]["id"] == company_id
    assert [(t["id"], t["status"]) for t in event["payload"]["transactions"]] == [
        (transaction_id, "Completed")
    ]
    assert delivery.path == "/codat/webhooks"
    assert delivery.answered == 200

    # Everything else the sandbox sent on the way (company created, connection linked ...) is
    # signed the same way.
    for other in webhook_capture.snapshot():
        webhook_verifier().verify(other.body, other.headers)

    # A changed body (here: the completed transaction rewritten as failed),
    # a trailing byte, or another secret, and verification fails.
    tampered = delivery.body.replace(b'"Completed"', b'"PushError"')
    assert tampered != delivery.body
    with pytest.raises(WebhookVerificationError):
        webhook_verifier().verify(tampered, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        webhook_verifier().verify(delivery.body + b" ", delivery.headers)
    other_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(other_secret).verify(delivery.body, delivery.headers)


def test_webhook_retry_after_a_failed_delivery_keeps_its_id(
    codat, webhook_capture, webhook_secret, settings
):
    # Answer 500 to the first delivery of every message; retry with no wait.
    webhook_capture.fail_first_attempt = True
    settings.CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    _, sync_id, _ = _start_sync(codat)

    def two_attempts():
        found = _sync_deliveries(webhook_capture, sync_id)
        return found if len(found) >= 2 else None

    failed, retried = advance_until(two_attempts, "the sync webhook's retry")
    assert (failed.answered, retried.answered) == (500, 200)
    assert retried.headers["webhook-id"] == failed.headers["webhook-id"]
    assert retried.body == failed.body
    # The retry is freshly signed and still verifies.
    first = webhook_verifier().verify(failed.body, failed.headers)
    second = webhook_verifier().verify(retried.body, retried.headers)
    assert first.webhook_id == second.webhook_id

    # The sandbox recorded two attempts and stopped once the receiver said 200.
    message = WebhookMessage.objects.get(pk=failed.headers["webhook-id"])
    assert message.attempts == 2
    assert message.delivered_at is not None
    assert len(_sync_deliveries(webhook_capture, sync_id)) == 2
