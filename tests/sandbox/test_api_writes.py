"""Push writes: accounts, bank accounts, suppliers, customers, options and push operations."""

import datetime

import pytest
import time_machine

from codat_sandbox import engine
from codat_sandbox.models import LedgerRecord, PushOperation

from .conftest import link_company

pytestmark = pytest.mark.django_db

READ_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
CHANGED_AT = READ_AT + datetime.timedelta(hours=1)
UPDATED_AT = READ_AT + datetime.timedelta(hours=2)


def _paths(linked):
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    return cid, f"/companies/{cid}/connections/{conn}"


def test_options_describe_the_platform_fields(api):
    linked = link_company(api, "gbol")
    _, base = _paths(linked)
    for data_type in ("chartOfAccounts", "bankAccounts"):
        option = api.get(f"{base}/options/{data_type}")
        assert option.status_code == 200
        body = option.json()
        assert {"type", "displayName", "required"} <= set(body)
        assert body["properties"]


def test_create_supplier_goes_pending_then_success_and_lands_in_the_ledger(api):
    linked = link_company(api)
    cid, base = _paths(linked)
    response = api.post(
        f"{base}/push/suppliers",
        {"supplierName": "Brand New Supplier", "status": "Active", "defaultCurrency": "USD"},
    )
    assert response.status_code == 200
    op = response.json()
    assert op["status"] == "Pending" and op["statusCode"] == 202
    assert op["dataType"] == "suppliers" and op["dataConnectionKey"] == linked["connection"]["id"]
    assert op["data"]["supplierName"] == "Brand New Supplier"
    engine.advance()
    done = api.get(f"/companies/{cid}/push/{op['pushOperationKey']}").json()
    assert done["status"] == "Success" and done["statusCode"] == 200
    record_id = done["changes"][0]["recordRef"]["id"]
    supplier = api.get(f"/companies/{cid}/data/suppliers/{record_id}").json()
    assert supplier["supplierName"] == "Brand New Supplier"


def test_an_invalid_record_fails_with_validation_items(api):
    linked = link_company(api)
    cid, base = _paths(linked)
    existing = LedgerRecord.objects.filter(company_id=cid, data_type="suppliers").first()
    op = api.post(
        f"{base}/push/suppliers",
        {"supplierName": existing.data["supplierName"], "status": "Active"},
    ).json()
    engine.advance()
    done = api.get(f"/companies/{cid}/push/{op['pushOperationKey']}").json()
    assert done["status"] == "Failed"
    assert done["validation"]["errors"], done


def test_a_schema_invalid_body_is_a_400(api):
    linked = link_company(api)
    _, base = _paths(linked)
    assert api.post(f"{base}/push/suppliers", {"supplierName": "No status"}).status_code == 400
    assert api.post(f"{base}/push/customers", {"status": "Nope"}).status_code == 400


def test_timeout_in_minutes_zero_times_out(api):
    linked = link_company(api)
    cid, base = _paths(linked)
    op = api.post(
        f"{base}/push/customers?timeoutInMinutes=0",
        {"customerName": "Slow Customer", "status": "Active"},
    ).json()
    assert op["timeoutInMinutes"] == 0
    done = api.get(f"/companies/{cid}/push/{op['pushOperationKey']}").json()
    assert done["status"] == "TimedOut"


def test_update_supplier_follows_the_platform_matrix(api):
    qbo = link_company(api, "qhyg", name="QBO Co")
    cid, base = _paths(qbo)
    supplier_id = qbo["config"]["supplier"]["id"]
    response = api.put(
        f"{base}/push/suppliers/{supplier_id}",
        {"supplierName": "Renamed Supplier", "status": "Active"},
    )
    assert response.status_code == 200
    engine.advance()
    assert api.get(f"/companies/{cid}/data/suppliers/{supplier_id}").json()["supplierName"] == (
        "Renamed Supplier"
    )
    assert api.put(f"{base}/push/suppliers/nope", {"status": "Active"}).status_code == 404
    netsuite = link_company(api, "akxx", name="NetSuite Co")
    _, ns_base = _paths(netsuite)
    refused = api.put(
        f"{ns_base}/push/suppliers/{netsuite['config']['supplier']['id']}", {"status": "Active"}
    )
    assert refused.status_code == 400


def test_create_bank_account_and_account(api):
    linked = link_company(api)
    cid, base = _paths(linked)
    bank = api.post(
        f"{base}/push/bankAccounts",
        {
            "accountName": "New Card",
            "accountType": "Credit",
            "currency": "USD",
            "nominalCode": "4999",
            "status": "Active",
        },
    ).json()
    account = api.post(
        f"{base}/push/accounts",
        {
            "name": "Software Subscriptions",
            "fullyQualifiedCategory": "Expense.Software",
            "type": "Expense",
            "currency": "USD",
            "nominalCode": "6123",
            "status": "Active",
        },
    ).json()
    engine.advance()
    statuses = {
        op["pushOperationKey"]: op for op in api.get(f"/companies/{cid}/push").json()["results"]
    }
    assert statuses[bank["pushOperationKey"]]["dataType"] == "bankAccounts"
    for key in (bank["pushOperationKey"], account["pushOperationKey"]):
        assert statuses[key]["status"] in ("Success", "Failed")
    listed = api.get(f"/companies/{cid}/push", QUERY_STRING="query=dataType%3DbankAccounts")
    assert listed.json()["totalResults"] == 1


def test_push_operation_lookup_errors(api):
    linked = link_company(api)
    cid, _ = _paths(linked)
    assert api.get(f"/companies/{cid}/push/not-a-key").status_code == 404
    assert api.get(f"/companies/{cid}/push/{PushOperation().key}").status_code == 404
    other = f"/companies/{cid}/connections/00000000-0000-0000-0000-000000000000/push/suppliers"
    assert api.post(other, {"status": "Active"}).status_code == 404


@pytest.mark.parametrize(
    ("data_type", "name_field"), [("suppliers", "supplierName"), ("customers", "customerName")]
)
def test_an_update_older_than_the_ledgers_record_fails_unless_forced(api, data_type, name_field):
    with time_machine.travel(READ_AT, tick=False):
        linked = link_company(api)
        cid, base = _paths(linked)
        record_id = linked["config"][data_type.removesuffix("s")]["id"]
        as_read = api.get(f"/companies/{cid}/data/{data_type}/{record_id}").json()

    def update(name, query="", **extra):
        op = api.put(
            f"{base}/push/{data_type}/{record_id}{query}",
            {name_field: name, "status": "Active", **extra},
        )
        assert op.status_code == 200, op.content
        engine.advance()
        return api.get(f"/companies/{cid}/push/{op.json()['pushOperationKey']}").json()

    # Someone else changes the record after our read (no sourceModifiedDate: no check).
    with time_machine.travel(CHANGED_AT, tick=False):
        assert update("Changed Elsewhere")["status"] == "Success"
    with time_machine.travel(UPDATED_AT, tick=False):
        stale = update("Our Stale Edit", sourceModifiedDate=as_read["sourceModifiedDate"])
        assert stale["status"] == "Failed" and stale["changes"] == []
        [error] = stale["validation"]["errors"]
        assert error["itemId"] == record_id
        assert "modified in the accounting software" in error["message"]
        assert "forceUpdate" in error["message"]
        current = api.get(f"/companies/{cid}/data/{data_type}/{record_id}").json()
        assert current[name_field] == "Changed Elsewhere"
        # Echoing what a fresh read says is not a conflict.
        fresh = update("Fresh Edit", sourceModifiedDate=current["sourceModifiedDate"])
        assert fresh["status"] == "Success"
        forced = update(
            "Forced Edit", "?forceUpdate=true", sourceModifiedDate=as_read["sourceModifiedDate"]
        )
        assert forced["status"] == "Success"
        assert api.get(f"/companies/{cid}/data/{data_type}/{record_id}").json()[name_field] == (
            "Forced Edit"
        )


def test_force_update_must_be_a_boolean(api):
    linked = link_company(api)
    _, base = _paths(linked)
    supplier_id = linked["config"]["supplier"]["id"]
    response = api.put(
        f"{base}/push/suppliers/{supplier_id}?forceUpdate=maybe", {"status": "Active"}
    )
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "forceUpdate"
    not_a_date = api.put(
        f"{base}/push/suppliers/{supplier_id}", {"status": "Active", "sourceModifiedDate": "soon"}
    )
    assert not_a_date.status_code == 400
