"""Expense, reimbursable, adjustment and transfer syncs: progression, statuses, duplicates and
the platform support matrix."""

from decimal import Decimal

import pytest

from codat_sandbox import engine
from codat_sandbox.models import FaultSettings, LedgerRecord, SandboxConnection, SandboxSync

from .conftest import expense, expense_account, link_company, new_id

pytestmark = pytest.mark.django_db


def _post_expenses(api, cid, items):
    return api.post(f"/companies/{cid}/sync/expenses/expense-transactions", items)


def test_a_create_returns_a_sync_id_at_once_then_progresses_to_2000(api, settings):
    settings.CODAT_SANDBOX_SYNC_DELAY = 3600  # nothing is due until we say so
    linked = link_company(api)
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    response = _post_expenses(api, cid, [txn])
    assert response.status_code == 200
    sync_id = response.json()["syncId"]
    status = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()
    assert status["syncStatusCode"] == 1000 and status["dataPushed"] is False
    pending = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions").json()
    assert pending["results"][0]["status"] == "Pending"

    settings.CODAT_SANDBOX_SYNC_DELAY = 0
    SandboxSync.objects.update(due_at=SandboxSync.objects.get().created)
    engine.advance()

    status = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()
    assert status["syncStatusCode"] == 2000
    assert status["syncStatus"] == "Complete"
    assert status["dataPushed"] is True
    assert status["errorMessage"] == "" and status["companyId"] == cid
    one = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}")
    assert isinstance(one.json(), list) and one.json()[0]["status"] == "Completed"
    record_id = one.json()[0]["message"]
    record = LedgerRecord.objects.get(company_id=cid, data_type="expenses", record_id=record_id)
    assert record.data["lines"][0]["netAmount"] == Decimal("12.50")
    assert record.data["transactionId"] == txn["id"]


def test_sync_status_endpoints(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    base = f"/companies/{cid}/sync/expenses/syncs"
    assert api.get(f"{base}/latest/status").status_code == 404
    assert api.get(f"{base}/lastSuccessful/status").status_code == 404
    assert api.get(f"{base}/list/status").json() == []
    good = _post_expenses(api, cid, [expense(api, linked)]).json()["syncId"]
    bad = _post_expenses(api, cid, [expense(api, linked, currency="JPY")]).json()["syncId"]
    engine.advance()
    assert api.get(f"{base}/latest/status").json()["syncId"] == bad
    assert api.get(f"{base}/lastSuccessful/status").json()["syncId"] == good
    listing = api.get(f"{base}/list/status").json()
    assert [s["syncId"] for s in listing] == [bad, good]
    assert api.get(f"{base}/{new_id()}/status").status_code == 404
    assert api.get(f"{base}/not-a-uuid/status").status_code == 404


def test_a_failing_transaction_fails_the_sync_with_a_codat_message(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    good, bad = expense(api, linked), expense(api, linked, issueDate="2001-01-01")
    sync_id = _post_expenses(api, cid, [good, bad]).json()["syncId"]
    engine.advance()
    status = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()
    assert status["syncStatusCode"] == 5130 and status["syncStatus"] == "PushError"
    assert status["dataPushed"] is True
    results = {
        t["transactionId"]: t
        for t in api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions").json()[
            "results"
        ]
    }
    assert results[good["id"]]["status"] == "Completed"
    assert results[bad["id"]]["status"] in ("ValidationError", "PushError")
    assert results[bad["id"]]["message"]


def test_transactions_page(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    sync_id = _post_expenses(api, cid, [expense(api, linked) for _ in range(3)]).json()["syncId"]
    page = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions?pageSize=2")
    body = page.json()
    assert body["totalResults"] == 3 and len(body["results"]) == 2 and "next" in body["_links"]


def test_a_completed_id_is_refused_and_a_failed_id_accepted_again(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    done = expense(api, linked)
    failed = expense(api, linked, currency="JPY")
    _post_expenses(api, cid, [done, failed])
    engine.advance()
    again = _post_expenses(api, cid, [done])
    assert again.status_code == 400
    assert again.json()["error"] == (
        f"One or more transactions have previously been processed: {done['id']}"
    )
    fixed = {**failed, "currency": done["currency"]}
    assert _post_expenses(api, cid, [fixed]).status_code == 200


def test_the_same_id_twice_in_one_request_is_refused(api):
    linked = link_company(api)
    txn = expense(api, linked)
    assert _post_expenses(api, linked["company"]["id"], [txn, txn]).status_code == 400


@pytest.mark.parametrize(
    ("body", "item"),
    [
        ([], "body"),
        ([{"type": "Payment"}], "[0].id"),
        ("many", "body"),
    ],
)
def test_request_bodies_are_validated_against_the_spec(api, body, item):
    linked = link_company(api)
    if body == "many":
        body = [expense(api, linked) for _ in range(51)]
    response = _post_expenses(api, linked["company"]["id"], body)
    assert response.status_code == 400
    errors = response.json()["validation"]["errors"]
    assert any(e["itemId"] == item for e in errors), errors


def test_field_level_validation(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    bad = expense(api, linked, type="TransferIn", id="nope")
    bad["lines"] = [{"taxAmount": 1}] * 101
    errors = _post_expenses(api, cid, [bad]).json()["validation"]["errors"]
    ids = {e["itemId"] for e in errors}
    assert {"[0].type", "[0].id", "[0].lines", "[0].lines[0].netAmount"} <= ids


def test_expense_update_is_202_and_modifies_the_ledger_record(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    _post_expenses(api, cid, [txn])
    engine.advance()
    update = {k: v for k, v in txn.items() if k != "id"}
    update["lines"] = [{**txn["lines"][0], "netAmount": Decimal("20.00")}]
    response = api.put(f"/companies/{cid}/sync/expenses/expense-transactions/{txn['id']}", update)
    assert response.status_code == 202
    sync_id = response.json()["syncId"]
    engine.advance()
    assert (
        api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()["syncStatusCode"]
        == 2000
    )
    records = LedgerRecord.objects.filter(company_id=cid, data_type="expenses")
    assert records.count() == 1
    assert records.get().data["lines"][0]["netAmount"] == Decimal("20")
    unknown = api.put(f"/companies/{cid}/sync/expenses/expense-transactions/{new_id()}", update)
    assert unknown.status_code == 404


def test_expense_update_is_422_where_the_platform_cannot(api):
    linked = link_company(api, "trji")
    cid = linked["company"]["id"]
    body = {"type": "Payment", "issueDate": "2026-01-01", "currency": "GBP"}
    response = api.put(f"/companies/{cid}/sync/expenses/expense-transactions/{new_id()}", body)
    assert response.status_code == 422
    assert response.json()["service"] == "ExpenseSyncApi"


def test_reimbursables_are_refused_on_xero_and_written_as_bills_on_qbo(api):
    xero = link_company(api, "gbol", name="Xero Co")
    item = {
        "id": new_id(),
        "contactRef": {"id": xero["config"]["supplier"]["id"]},
        "issueDate": "2026-06-01",
        "dueDate": "2026-07-01",
        "currency": "GBP",
        "lines": [{"netAmount": 10}],
    }
    refused = api.post(
        f"/companies/{xero['company']['id']}/sync/expenses/reimbursable-expense-transactions",
        [item],
    )
    assert refused.status_code == 400
    qbo = link_company(api, "qhyg", name="QBO Co")
    cid = qbo["company"]["id"]
    account = expense_account(api, cid, "reimbursable-expense-transactions")
    from datetime import date

    today = date.today().isoformat()
    item = {
        **item,
        "contactRef": {"id": qbo["config"]["supplier"]["id"]},
        "currency": "USD",
        "issueDate": today,
        "dueDate": today,
        "lines": [{"netAmount": 10, "accountRef": {"id": account["id"]}}],
    }
    sync_id = api.post(
        f"/companies/{cid}/sync/expenses/reimbursable-expense-transactions", [item]
    ).json()["syncId"]
    engine.advance()
    txn = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions").json()
    assert txn["results"][0]["status"] == "Completed", txn
    assert LedgerRecord.objects.filter(company_id=cid, data_type="bills").count() == 1
    update = {k: v for k, v in item.items() if k != "id"}
    response = api.put(
        f"/companies/{cid}/sync/expenses/reimbursable-expense-transactions/{item['id']}", update
    )
    assert response.status_code == 200


def test_transfers_put_creates_then_update_follows_the_matrix(api):
    from datetime import date

    linked = link_company(api, "gbol")
    cid = linked["company"]["id"]
    banks = [
        r
        for r in LedgerRecord.objects.filter(company_id=cid, data_type="bankAccounts")
        if r.data.get("status") == "Active" and r.data.get("currency") == "GBP"
    ]
    assert len(banks) >= 2
    body = {
        "date": date.today().isoformat(),
        "description": "Card top-up",
        "from": {"accountRef": {"id": banks[0].record_id}, "amount": 100},
        "to": {"accountRef": {"id": banks[1].record_id}, "amount": 100},
    }
    txn_id = new_id()
    path = f"/companies/{cid}/sync/expenses/transfer-transactions/{txn_id}"
    response = api.put(path, body)
    assert response.status_code == 200
    engine.advance()
    status = api.get(
        f"/companies/{cid}/sync/expenses/syncs/{response.json()['syncId']}/transactions"
    ).json()["results"][0]
    assert status["status"] == "Completed", status
    assert LedgerRecord.objects.filter(company_id=cid, data_type="transfers").count() == 1
    # Xero creates transfers but cannot update them.
    assert api.put(path, body).status_code == 400


def test_adjustments_only_where_supported(api):
    linked = link_company(api, "qhyg")
    body = [
        {
            "id": new_id(),
            "date": "2026-06-01",
            "currency": "USD",
            "lines": [{"amount": 1, "accountRef": {"id": "1"}}],
        }
    ]
    response = api.post(
        f"/companies/{linked['company']['id']}/sync/expenses/adjustment-transactions", body
    )
    assert response.status_code == 400
    assert "not supported" in response.json()["error"]


def test_a_deauthorized_connection_fails_syncs_with_4040(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    SandboxConnection.objects.filter(pk=linked["connection"]["id"]).update(status="Deauthorized")
    sync_id = _post_expenses(api, cid, [expense(api, linked)]).json()["syncId"]
    status = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()
    assert status["syncStatusCode"] == 4040
    txn = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions").json()
    assert txn["results"][0]["status"] == "PushError"


def test_long_running_syncs_report_1010_until_the_fault_is_lifted(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    faults = FaultSettings.objects.create(company_id=cid, long_running_syncs=True)
    sync_id = _post_expenses(api, cid, [expense(api, linked)]).json()["syncId"]
    path = f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status"
    assert api.get(path).json()["syncStatusCode"] == 1010
    faults.long_running_syncs = False
    faults.save()
    assert api.get(path).json()["syncStatusCode"] == 2000


def test_no_accounting_connection_is_a_400(api):
    company = api.post("/companies", {"name": "Bare"}).json()
    response = _post_expenses(
        api,
        company["id"],
        [{"id": new_id(), "type": "Payment", "issueDate": "2026-01-01", "currency": "USD"}],
    )
    assert response.status_code == 400


def test_the_management_command_advances_due_work(api):
    from django.core.management import call_command

    linked = link_company(api)
    cid = linked["company"]["id"]
    _post_expenses(api, cid, [expense(api, linked)])
    call_command("sandbox_advance")
    assert SandboxSync.objects.get(company_id=cid).status_code == 2000


def test_a_transaction_id_is_found_in_any_spelling_of_its_uuid(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    upper = new_id().upper()
    sync_id = _post_expenses(api, cid, [expense(api, linked, id=upper)]).json()["syncId"]
    engine.advance()
    base = f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions"
    listed = api.get(base).json()["results"]
    assert [t["transactionId"] for t in listed] == [upper.lower()]
    for spelling in (upper, upper.lower(), "{" + upper + "}", upper.replace("-", "")):
        response = api.get(f"{base}/{spelling}")
        assert response.status_code == 200, (spelling, response.content)
        assert response.json()[0]["transactionId"] == upper.lower()
    assert api.get(f"{base}/{new_id().upper()}").status_code == 404
    assert api.get(f"{base}/not-a-uuid").status_code == 404
