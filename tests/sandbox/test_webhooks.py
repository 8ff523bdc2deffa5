"""Signed webhooks (Standard Webhooks) with retries, delivered outside any transaction."""

import datetime

import httpx
import pytest
import respx
from django.utils import timezone
from standardwebhooks import Webhook

from codat_sandbox import engine, jsonutil
from codat_sandbox.models import WebhookMessage

from .conftest import expense, link_company

URL = "http://webhooks.test/codat/"
SECRET = "whsec_c2FuZGJveC1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA=="


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CODAT_SANDBOX_WEBHOOK_SECRET = SECRET
    settings.CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE = (0, 5, 30)


@pytest.mark.django_db
def test_link_and_sync_events_are_recorded_with_codat_envelopes(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    events = list(WebhookMessage.objects.values_list("event_type", flat=True))
    assert events[:1] == ["company.created"]
    assert {"connection.created", "connection.connected", "expenses.sync.successful"} <= set(events)
    message = WebhookMessage.objects.get(event_type="expenses.sync.successful")
    envelope = jsonutil.loads(message.body)
    assert envelope["id"] == str(message.id)
    assert envelope["eventType"] == "expenses.sync.successful"
    assert envelope["generatedDate"].endswith("Z")
    payload = envelope["payload"]
    assert payload["syncId"] == sync_id
    assert payload["referenceCompany"]["id"] == cid
    assert payload["transactions"] == [
        {"id": txn["id"], "status": "Completed", "errorMessage": None}
    ]
    connected = jsonutil.loads(WebhookMessage.objects.get(event_type="connection.connected").body)[
        "payload"
    ]
    assert connected["connection"]["status"] == "Linked"


@pytest.mark.django_db
def test_a_failed_sync_sends_unsuccessful(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    api.post(
        f"/companies/{cid}/sync/expenses/expense-transactions",
        [expense(api, linked, currency="JPY")],
    )
    engine.advance()
    message = WebhookMessage.objects.get(event_type="expenses.sync.unsuccessful")
    transaction = jsonutil.loads(message.body)["payload"]["transactions"][0]
    assert transaction["status"] in ("Failed", "PushError") and transaction["errorMessage"]


@pytest.mark.django_db(transaction=True)
def test_delivery_is_signed_and_retried_with_the_same_id():
    message = engine.enqueue_webhook("expenses.sync.successful", {"syncId": "x"})
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[httpx.Response(500), httpx.ConnectError("down"), httpx.Response(204)]
        )
        now = timezone.now()
        assert engine.deliver_due_webhooks(now) == 1
        message.refresh_from_db()
        assert message.attempts == 1 and message.delivered_at is None
        assert message.last_error == "HTTP 500"
        assert message.next_attempt_at == now + datetime.timedelta(seconds=5)
        assert engine.deliver_due_webhooks(now) == 0  # not due yet
        engine.deliver_due_webhooks(now + datetime.timedelta(seconds=5))
        message.refresh_from_db()
        assert message.attempts == 2 and "ConnectError" in message.last_error
        engine.deliver_due_webhooks(now + datetime.timedelta(seconds=40))
        message.refresh_from_db()
        assert message.delivered_at is not None and message.attempts == 3

    ids = {call.request.headers["webhook-id"] for call in route.calls}
    assert ids == {str(message.id)}
    request = route.calls[-1].request
    verified = Webhook(SECRET).verify(request.content.decode(), dict(request.headers))
    assert verified["eventType"] == "expenses.sync.successful"


@pytest.mark.django_db(transaction=True)
def test_delivery_gives_up_after_the_schedule():
    message = engine.enqueue_webhook("connection.deleted", {})
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(503))
        later = timezone.now()
        for _ in range(5):
            engine.deliver_due_webhooks(later)
            later += datetime.timedelta(minutes=10)
    message.refresh_from_db()
    assert message.attempts == 3 and message.next_attempt_at is None
    assert message.delivered_at is None


@pytest.mark.django_db
def test_no_delivery_inside_a_transaction():
    engine.enqueue_webhook("connection.deleted", {})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        assert engine.deliver_due_webhooks() == 0
        assert not route.called


@pytest.mark.django_db
def test_no_url_means_no_messages(settings):
    settings.CODAT_SANDBOX_WEBHOOK_URL = ""
    assert engine.enqueue_webhook("connection.deleted", {}) is None
    assert not WebhookMessage.objects.exists()
