"""Signed webhooks (Standard Webhooks) with retries, delivered outside any transaction."""

import datetime

import httpx
import pytest
import respx
from django.utils import timezone
from standardwebhooks import Webhook

from codat_sandbox import engine, jsonutil, outbox
from codat_sandbox.models import LedgerRecord, WebhookMessage

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
    message = outbox.enqueue_webhook("expenses.sync.successful", {"syncId": "x"})
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[httpx.Response(500), httpx.ConnectError("down"), httpx.Response(204)]
        )
        now = timezone.now()
        assert outbox.deliver_due_webhooks(now) == 1
        message.refresh_from_db()
        assert message.attempts == 1 and message.delivered_at is None
        assert message.last_error == "HTTP 500"
        assert message.next_attempt_at == now + datetime.timedelta(seconds=5)
        assert outbox.deliver_due_webhooks(now) == 0  # not due yet
        outbox.deliver_due_webhooks(now + datetime.timedelta(seconds=5))
        message.refresh_from_db()
        assert message.attempts == 2 and "ConnectError" in message.last_error
        outbox.deliver_due_webhooks(now + datetime.timedelta(seconds=40))
        message.refresh_from_db()
        assert message.delivered_at is not None and message.attempts == 3

    ids = {call.request.headers["webhook-id"] for call in route.calls}
    assert ids == {str(message.id)}
    request = route.calls[-1].request
    verified = Webhook(SECRET).verify(request.content.decode(), dict(request.headers))
    assert verified["eventType"] == "expenses.sync.successful"


@pytest.mark.django_db(transaction=True)
def test_delivery_gives_up_after_the_schedule():
    message = outbox.enqueue_webhook("connection.deleted", {})
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(503))
        later = timezone.now()
        for _ in range(5):
            outbox.deliver_due_webhooks(later)
            later += datetime.timedelta(minutes=10)
    message.refresh_from_db()
    assert message.attempts == 3 and message.next_attempt_at is None
    assert message.delivered_at is None


@pytest.mark.django_db
def test_no_delivery_inside_a_transaction():
    outbox.enqueue_webhook("connection.deleted", {})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        assert outbox.deliver_due_webhooks() == 0
        assert not route.called


@pytest.mark.django_db
def test_no_url_means_no_messages(settings):
    settings.CODAT_SANDBOX_WEBHOOK_URL = ""
    assert outbox.enqueue_webhook("connection.deleted", {}) is None
    assert not WebhookMessage.objects.exists()


# --- {dataType}.write.successful|unsuccessful (Platform spec DataTypeWriteWebhook) ---------------

WRITE_PAYLOAD_FIELDS = {
    "id",
    "type",
    "referenceCompany",
    "connectionId",
    "requestedOnDate",
    "completedOnDate",
    "status",
    "record",
    "attachmentId",
}


def _write_event(event_type):
    envelope = jsonutil.loads(WebhookMessage.objects.get(event_type=event_type).body)
    assert envelope["eventType"] == event_type
    payload = envelope["payload"]
    assert set(payload) <= WRITE_PAYLOAD_FIELDS, set(payload) - WRITE_PAYLOAD_FIELDS
    return payload


def _push(api, linked, path, record):
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    response = api.post(f"/companies/{cid}/connections/{conn}/push/{path}", record)
    assert response.status_code == 200, response.content
    engine.advance()
    key = response.json()["pushOperationKey"]
    return api.get(f"/companies/{cid}/push/{key}").json()


def _assert_common(payload, linked, operation, type_, status):
    assert payload["id"] == operation["pushOperationKey"]
    assert payload["type"] == type_
    assert payload["referenceCompany"]["id"] == linked["company"]["id"]
    assert payload["referenceCompany"]["name"] == linked["company"]["name"]
    assert payload["connectionId"] == linked["connection"]["id"]
    assert payload["requestedOnDate"] == operation["requestedOnUtc"]
    assert payload["completedOnDate"] == operation["completedOnUtc"]
    assert payload["status"] == status


@pytest.mark.django_db
def test_a_successful_create_sends_write_successful_with_the_new_record(api):
    linked = link_company(api)
    done = _push(api, linked, "suppliers", {"supplierName": "Webhook Supplier", "status": "Active"})
    assert done["status"] == "Success"
    payload = _write_event("suppliers.write.successful")
    _assert_common(payload, linked, done, "Create", "Success")
    assert payload["record"] == {"id": done["changes"][0]["recordRef"]["id"]}
    assert payload["attachmentId"] is None


@pytest.mark.django_db
def test_a_successful_update_sends_type_update_with_the_record_id(api):
    linked = link_company(api)
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    supplier_id = linked["config"]["supplier"]["id"]
    response = api.put(
        f"/companies/{cid}/connections/{conn}/push/suppliers/{supplier_id}",
        {"supplierName": "Renamed By Webhook Test", "status": "Active"},
    )
    engine.advance()
    done = api.get(f"/companies/{cid}/push/{response.json()['pushOperationKey']}").json()
    assert done["status"] == "Success"
    payload = _write_event("suppliers.write.successful")
    _assert_common(payload, linked, done, "Update", "Success")
    assert payload["record"] == {"id": supplier_id}


@pytest.mark.django_db
def test_a_failed_create_sends_write_unsuccessful_without_a_record(api):
    linked = link_company(api)
    existing = LedgerRecord.objects.filter(
        company_id=linked["company"]["id"], data_type="suppliers"
    ).first()
    done = _push(
        api,
        linked,
        "suppliers",
        {"supplierName": existing.data["supplierName"], "status": "Active"},
    )
    assert done["status"] == "Failed"
    payload = _write_event("suppliers.write.unsuccessful")
    _assert_common(payload, linked, done, "Create", "Failed")
    # `record` is an optional object; a failed create wrote none, so it is left out, not null.
    assert "record" not in payload
    assert not WebhookMessage.objects.filter(event_type="suppliers.write.successful").exists()


@pytest.mark.django_db
def test_a_timed_out_create_sends_write_unsuccessful_timed_out(api):
    linked = link_company(api)
    done = _push(
        api,
        linked,
        "customers?timeoutInMinutes=0",
        {"customerName": "Slow Customer", "status": "Active"},
    )
    assert done["status"] == "TimedOut"
    payload = _write_event("customers.write.unsuccessful")
    _assert_common(payload, linked, done, "Create", "TimedOut")
    assert "record" not in payload


@pytest.mark.django_db
def test_push_validation_items_name_the_field(api):
    linked = link_company(api)
    existing = LedgerRecord.objects.filter(
        company_id=linked["company"]["id"], data_type="suppliers"
    ).first()
    done = _push(
        api,
        linked,
        "suppliers",
        {"supplierName": existing.data["supplierName"], "status": "Active"},
    )
    items = done["validation"]["errors"]
    assert items and all(item["itemId"] for item in items), items
    assert "supplierName" in {item["itemId"] for item in items}


# --- company.created / company.deleted (Platform spec CompanyWebhook) ---------------------------


@pytest.mark.django_db
def test_company_events_leave_out_an_unknown_last_sync(api):
    company = api.post("/companies", {"name": "Never Synced Ltd"}).json()
    api.delete(f"/companies/{company['id']}")
    for event_type in ("company.created", "company.deleted"):
        payload = jsonutil.loads(WebhookMessage.objects.get(event_type=event_type).body)["payload"]
        assert "lastSync" not in payload
        assert payload["id"] == company["id"] and payload["name"] == "Never Synced Ltd"
        assert set(payload) <= {"id", "name", "description", "redirect", "created", "tags"}
