"""read.completed.initial after Link seeds the ledger; read.completed after each refresh."""

import datetime

import httpx
import pytest
import respx
import time_machine
from standardwebhooks import Webhook

from codat_sandbox import engine, jsonutil, services
from codat_sandbox.models import WebhookMessage

from .conftest import link_company

URL = "http://webhooks.test/codat/"
SECRET = "whsec_c2FuZGJveC1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA=="
LINKED_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
REFRESHED_AT = datetime.datetime(2026, 3, 2, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CODAT_SANDBOX_WEBHOOK_SECRET = SECRET


def envelopes(event_type):
    return [
        jsonutil.loads(body)
        for body in WebhookMessage.objects.filter(event_type=event_type)
        .order_by("created")
        .values_list("body", flat=True)
    ]


def by_type(payload):
    return {summary["dataType"]: summary for summary in payload["dataTypes"]}


@pytest.mark.django_db
def test_link_approval_reports_the_initial_read_of_every_data_type(api):
    with time_machine.travel(LINKED_AT, tick=False):
        linked = link_company(api, configure=False)
    [envelope] = envelopes("read.completed.initial")
    assert set(envelope) == {"id", "eventType", "generatedDate", "payload"}
    assert envelope["eventType"] == "read.completed.initial"
    assert envelope["generatedDate"] == "2026-03-02T09:00:00Z"
    payload = envelope["payload"]
    assert payload["referenceCompany"]["id"] == linked["company"]["id"]
    assert payload["referenceCompany"]["name"] == "Acme Ltd"
    # Nothing was fetched before the first read, so nothing bounds what is new.
    assert payload["modifiedFromDate"] is None
    summaries = by_type(payload)
    assert set(summaries) == set(services.EXPENSES_DATA_TYPES)
    assert summaries["suppliers"] == {
        "connectionId": linked["connection"]["id"],
        "dataType": "suppliers",
        "recordsModified": True,
        "status": "Complete",
        "issues": [],
    }
    assert not envelopes("read.completed")


@pytest.mark.django_db
def test_reconnecting_does_not_report_a_second_initial_read(api, client):
    linked = link_company(api, configure=False)
    cid, conn = linked["company"]["id"], linked["connection"]
    api.patch(f"/companies/{cid}/connections/{conn['id']}", {"status": "Unlinked"})
    client.post(conn["linkUrl"].split("testserver", 1)[1], {"decision": "approve"})
    assert WebhookMessage.objects.filter(event_type="connection.reconnected").exists()
    assert len(envelopes("read.completed.initial")) == 1


@pytest.mark.django_db
def test_refresh_all_reports_one_read_completed_when_its_pulls_finish(api, settings):
    settings.CODAT_SANDBOX_SYNC_DELAY = 60
    with time_machine.travel(LINKED_AT, tick=False):
        linked = link_company(api, configure=False)
    cid = linked["company"]["id"]
    with time_machine.travel(REFRESHED_AT, tick=False):
        assert api.post(f"/companies/{cid}/data/all").status_code == 204
        engine.advance()
        assert not envelopes("read.completed"), "reported before the pulls finished"
    with time_machine.travel(REFRESHED_AT + datetime.timedelta(seconds=61), tick=False):
        engine.advance()
        engine.advance()  # a second pass finds nothing left to report
        assert api.get(f"/companies/{cid}/dataStatus").status_code == 200
    [envelope] = envelopes("read.completed")
    payload = envelope["payload"]
    assert payload["referenceCompany"]["id"] == cid
    assert payload["modifiedFromDate"] == "2026-03-02T09:00:00Z"
    summaries = by_type(payload)
    assert set(summaries) == set(services.EXPENSES_DATA_TYPES)
    assert {s["status"] for s in summaries.values()} == {"Complete"}
    assert {s["connectionId"] for s in summaries.values()} == {linked["connection"]["id"]}
    # Nothing was written to the ledger since Link's fetch.
    assert not any(s["recordsModified"] for s in summaries.values())


@pytest.mark.django_db
def test_refreshing_one_data_type_reports_whether_its_records_changed(api):
    with time_machine.travel(LINKED_AT, tick=False):
        linked = link_company(api)
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    supplier_id = linked["config"]["supplier"]["id"]
    with time_machine.travel(REFRESHED_AT, tick=False):
        api.put(
            f"/companies/{cid}/connections/{conn}/push/suppliers/{supplier_id}",
            {"supplierName": "Renamed Supplier", "status": "Active"},
        )
        engine.advance()
        queued = api.post(f"/companies/{cid}/data/queue/suppliers")
        assert queued.status_code == 200
        # Reading the pull operation finishes it without waiting for advance().
        fetched = api.get(f"/companies/{cid}/data/history/{queued.json()['id']}").json()
        assert fetched["status"] == "Complete"
        api.post(f"/companies/{cid}/data/queue/taxRates")
        engine.advance()
    # Both reads completed at the same (frozen) instant, so tell them apart by what they read.
    reads = envelopes("read.completed")
    assert sorted(s["dataType"] for e in reads for s in e["payload"]["dataTypes"]) == [
        "suppliers",
        "taxRates",
    ]
    [suppliers] = [e for e in reads if e["payload"]["dataTypes"][0]["dataType"] == "suppliers"]
    [tax_rates] = [e for e in reads if e["payload"]["dataTypes"][0]["dataType"] == "taxRates"]
    assert len(suppliers["payload"]["dataTypes"]) == 1
    assert suppliers["payload"]["dataTypes"][0]["recordsModified"] is True
    assert len(tax_rates["payload"]["dataTypes"]) == 1
    assert tax_rates["payload"]["dataTypes"][0]["recordsModified"] is False
    assert tax_rates["payload"]["modifiedFromDate"] == "2026-03-02T09:00:00Z"


@pytest.mark.django_db(transaction=True)
def test_advance_delivers_read_events_signed(api):
    with respx.mock:
        route = respx.post(URL).mock(return_value=httpx.Response(204))
        linked = link_company(api, configure=False)
        api.post(f"/companies/{linked['company']['id']}/data/queue/customers")
        engine.advance()  # completes the read; its message is due from this moment
        engine.advance()
    delivered = [
        Webhook(SECRET).verify(call.request.content.decode(), dict(call.request.headers))
        for call in route.calls
    ]
    read_events = [e["eventType"] for e in delivered if e["eventType"].startswith("read.")]
    assert read_events == ["read.completed.initial", "read.completed"]
    assert not WebhookMessage.objects.filter(delivered_at__isnull=True).exists()
