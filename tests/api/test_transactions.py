import base64
import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from integrations.companies.models import AuditEvent
from integrations.transactions import intake
from integrations.transactions.models import Transaction
from tests.api.conftest import spend
from tests.models.factories import make_bank_account, make_company, make_connection, make_receipt

pytestmark = pytest.mark.django_db


def url(company, *rest):
    return "/".join([f"/companies/{company.pk}/transactions", *rest])


def test_a_batch_is_stored_with_decimal_strings(api, company):
    response = api.post(
        url(company), {"transactions": [spend("tx-1"), spend("tx-2", type="Refund")]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2
    first = body["transactions"][0]
    assert first["reference"] == "tx-1" and first["status"] == "ready"
    assert first["statusLabel"] == "Ready"
    assert first["lines"] == [{"netAmount": "10.00", "taxAmount": "2.00"}]
    assert first["card"] == "card-1" and first["category"] == "TRAVEL"
    assert first["issueDate"] == "2026-03-14" and first["ledgerRecordId"] is None
    txn = Transaction.objects.get(pk=first["id"])
    assert txn.net_amount == Decimal("10.00") and txn.status == Transaction.Status.READY
    assert txn.partner_reference == "tx-1"
    event = AuditEvent.objects.get(action="transactions.intake")
    assert event.actor_label == "api:card-processor"


def test_money_as_a_json_number_is_refused(api, company):
    response = api.post(
        url(company), {"transactions": [spend(lines=[{"netAmount": 10.5, "taxAmount": "0"}])]}
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "transactions[0].lines[0].netAmount"
    assert not Transaction.objects.exists()


def test_same_reference_and_body_answers_with_the_stored_transaction(api, company):
    first = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    # "10.0" means the same amount as "10.00": still the same body.
    again = api.post(
        url(company),
        {"transactions": [spend(lines=[{"netAmount": "10.0", "taxAmount": "2"}])]},
    )
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert again.json()["transactions"][0]["id"] == first["id"]
    assert Transaction.objects.count() == 1


def test_a_different_body_for_a_known_reference_is_409(api, company):
    api.post(url(company), {"transactions": [spend()]})
    response = api.post(
        url(company), {"transactions": [spend("tx-new"), spend(merchantName="Other")]}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "reference_conflict"
    assert body["fields"] == [
        {"field": "transactions[1].reference", "message": body["message"], "index": 1}
    ]
    assert not Transaction.objects.filter(partner_reference="tx-new").exists()


def test_the_same_reference_twice_in_one_batch(api, company):
    same = api.post(url(company), {"transactions": [spend(), spend()]})
    assert same.status_code == 201 and same.json()["created"] == 1
    ids = {t["id"] for t in same.json()["transactions"]}
    assert len(ids) == 1
    clash = api.post(url(company), {"transactions": [spend("x"), spend("x", notes="y")]})
    assert clash.status_code == 409 and clash.json()["fields"][0]["index"] == 1


def test_a_bad_item_names_its_index_and_field_and_nothing_is_stored(api, company):
    items = [spend(f"tx-{n}") for n in range(5)]
    items[3]["currency"] = "pounds"
    response = api.post(url(company), {"transactions": items})
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {
            "field": "transactions[3].currency",
            "message": response.json()["fields"][0]["message"],
            "index": 3,
        }
    ]
    items[3]["currency"] = "GBP"
    items[2]["card"] = "no-such-card"
    response = api.post(url(company), {"transactions": items})
    assert response.status_code == 422
    assert response.json()["fields"][0] == {
        "field": "transactions[2].card",
        "message": "No card 'no-such-card' in this company.",
        "index": 2,
    }
    assert not Transaction.objects.exists()


def test_501_items_are_refused_500_are_taken(api, company):
    too_many = {"transactions": [spend(f"tx-{n}") for n in range(501)]}
    response = api.post(url(company), too_many)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert not Transaction.objects.exists()
    response = api.post(url(company), {"transactions": too_many["transactions"][:500]})
    assert response.status_code == 201
    assert Transaction.objects.count() == 500


def test_a_concurrent_duplicate_meets_the_unique_constraint(company, monkeypatch):
    """Another request stores the reference between our look-up and our insert: the insert
    fails on the constraint, and the retry answers as a replay (same body) or 409."""
    real = intake.stored_by_reference
    calls = []

    def racing(company_, references):
        calls.append(1)
        if len(calls) == 1:
            # The other request commits right now, with the same body.
            intake._create_batch(company_, [_spend()], actor_label="other")
            return {}
        return real(company_, references)

    monkeypatch.setattr(intake, "stored_by_reference", racing)
    outcomes = intake.create_batch(company, [_spend()])
    assert len(calls) == 3  # ours, the other request's, our retry
    assert outcomes[0].created is False
    assert Transaction.objects.filter(partner_reference="tx-1").count() == 1


def test_a_concurrent_duplicate_with_another_body_is_a_conflict(company, monkeypatch):
    real = intake.stored_by_reference
    calls = []

    def racing(company_, references):
        calls.append(1)
        if len(calls) == 1:
            intake._create_batch(company_, [_spend(notes="theirs")], actor_label="other")
            return {}
        return real(company_, references)

    monkeypatch.setattr(intake, "stored_by_reference", racing)
    with pytest.raises(intake.ReferenceConflict):
        intake.create_batch(company, [_spend()])
    assert Transaction.objects.get(partner_reference="tx-1").notes == "theirs"


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks tables instead of waiting; "
    "the race itself is covered above, and CI runs this on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_threads_sending_the_same_batch_store_it_once(company):
    # Real threads on their own connections meet at the unique constraint: one row, no error.
    errors, results = [], []

    def send():
        try:
            results.append(intake.create_batch(company, [_spend()])[0].created)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [False, False, False, True]
    assert Transaction.objects.filter(partner_reference="tx-1").count() == 1


def _spend(**fields):
    values = {
        "reference": "tx-1",
        "kind": "expense",
        "expense_type": "Payment",
        "issue_date": timezone.localdate(),
        "currency": "GBP",
        "net_amount": Decimal("10"),
    }
    values.update(fields)
    return intake.Spend(**values)


def test_reimbursable_and_transfer(api, company):
    bank_a = make_bank_account(company, codat_id="BA-1")
    make_bank_account(company, codat_id="BA-2")
    claim = spend("claim-1", kind="reimbursable", dueDate="2026-04-14")
    del claim["type"]
    transfer = {
        "reference": "tr-1",
        "kind": "transfer",
        "issueDate": "2026-03-14",
        "currency": "GBP",
        "transfer": {
            "from": {"bankAccountId": "BA-1", "amount": "100.00"},
            "to": {"bankAccountId": "BA-2", "amount": "100.00"},
        },
    }
    response = api.post(url(company), {"transactions": [claim, transfer]})
    assert response.status_code == 201, response.content
    out = response.json()["transactions"]
    assert out[0]["kind"] == "reimbursable" and out[0]["type"] is None
    assert out[1]["transfer"]["from"] == {"bankAccountId": "BA-1", "amount": "100.00"}
    assert out[1]["lines"] == []
    assert Transaction.objects.get(partner_reference="tr-1").from_bank_account == bank_a
    bad = {**transfer, "reference": "tr-2"}
    del bad["transfer"]
    response = api.post(url(company), {"transactions": [bad]})
    assert response.status_code == 422 and response.json()["fields"][0]["index"] == 0


def test_get_reads_status_words_ledger_id_and_reason(api, company):
    created = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    txn = Transaction.objects.get(pk=created["id"])
    Transaction.objects.filter(pk=txn.pk).update(
        status="needs_attention",
        **Transaction.attention(
            "no_bank_account", "Choose the card's bank account.", "card_mapping"
        ),
    )
    body = api.get(url(company, str(txn.pk))).json()
    assert body["status"] == "needs_attention" and body["statusLabel"] == "Needs attention"
    assert body["reason"] == "Choose the card's bank account."
    assert body["reasonCode"] == "no_bank_account"
    Transaction.objects.filter(pk=txn.pk).update(
        status="completed", ledger_record_id="LEDGER-77", **Transaction.attention()
    )
    body = api.get(url(company, str(txn.pk))).json()
    assert body["status"] == "receipt_missing" and body["ledgerRecordId"] == "LEDGER-77"
    assert body["reason"] is None
    make_receipt(txn)
    assert api.get(url(company, str(txn.pk))).json()["status"] == "in_ledger"


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "123", "00000000-0000-0000-0000-000000000000", "%20"]
)
def test_malformed_or_unknown_transaction_id_is_404(api, company, bad):
    response = api.get(url(company, bad))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_transaction_under_another_companys_path_is_404(api, company):
    other = make_company(name="Other Ltd")
    created = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    for method, path in [
        ("get", url(other, created["id"])),
        ("get", url(other, created["id"], "receipts")),
    ]:
        response = getattr(api, method)(path)
        assert response.status_code == 404
        assert "Pret" not in response.content.decode() and "tx-1" not in response.content.decode()
    response = api.put(url(other, created["id"]), spend(notes="stolen"))
    assert response.status_code == 404
    assert Transaction.objects.get(pk=created["id"]).notes == ""


def test_list_filters_and_pages(api, company):
    items = [spend(f"tx-{n}", issueDate=f"2026-03-{10 + n}") for n in range(5)]
    api.post(url(company), {"transactions": items})
    Transaction.objects.filter(partner_reference="tx-0").update(status="failed")
    page = api.get(url(company), limit=2).json()
    seen = [t["reference"] for t in page["items"]]
    while page["nextCursor"]:
        page = api.get(url(company), limit=2, cursor=page["nextCursor"]).json()
        seen += [t["reference"] for t in page["items"]]
    assert seen == [f"tx-{n}" for n in range(5)]
    failed = api.get(url(company), status="failed").json()["items"]
    assert [t["reference"] for t in failed] == ["tx-0"]
    ranged = api.get(url(company), issuedFrom="2026-03-12", issuedTo="2026-03-13").json()
    assert [t["reference"] for t in ranged["items"]] == ["tx-2", "tx-3"]
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api.get(url(company), updatedSince=later).json()["items"] == []
    naive = api.get(url(company), updatedSince="2000-01-01T00:00:00").json()["items"]
    assert len(naive) == 5
    assert api.get(url(company), status="nonsense").status_code == 422
    assert api.get(url(company), cursor="bm9wZQ").status_code == 400
    naive_cursor = base64.urlsafe_b64encode(
        json.dumps(["2026-01-01T00:00:00", str(uuid.uuid4())]).encode()
    ).decode()
    assert api.get(url(company), cursor=naive_cursor).status_code == 400


def test_list_costs_the_same_queries_at_10_and_60_rows(api, company, django_assert_num_queries):
    api.post(url(company), {"transactions": [spend(f"a-{n}") for n in range(10)]})
    with django_assert_num_queries(3):  # key, company, page
        api.get(url(company), limit=200)
    api.post(url(company), {"transactions": [spend(f"b-{n}") for n in range(50)]})
    with django_assert_num_queries(3):
        api.get(url(company), limit=200)


def test_update_before_sync_saves_and_readies(api, company):
    created = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    Transaction.objects.filter(pk=created["id"]).update(
        status="needs_attention", **Transaction.attention("no_category", "Pick one.", "transaction")
    )
    response = api.put(url(company, created["id"]), spend(merchantName="Pret"))
    assert response.status_code == 200, response.content
    assert response.json()["merchantName"] == "Pret" and response.json()["status"] == "ready"
    assert response.json()["reason"] is None
    assert AuditEvent.objects.filter(action="transaction.change").exists()
    # The reference cannot change.
    assert api.put(url(company, created["id"]), spend("other")).status_code == 422


def test_update_in_flight_is_409(api, company):
    created = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    Transaction.objects.filter(pk=created["id"]).update(status="syncing")
    response = api.put(url(company, created["id"]), spend(merchantName="Pret"))
    assert response.status_code == 409 and response.json()["code"] == "not_editable"


@pytest.mark.parametrize(("platform", "expected"), [("qhyg", 200), ("trji", 409)])
def test_update_after_sync_where_the_platform_supports_it(api, company, platform, expected):
    make_connection(company, platform_key=platform, platform_name=platform)
    created = api.post(url(company), {"transactions": [spend()]}).json()["transactions"][0]
    Transaction.objects.filter(pk=created["id"]).update(status="completed", ledger_record_id="L1")
    response = api.put(url(company, created["id"]), spend(notes="corrected"))
    assert response.status_code == expected, response.content
    txn = Transaction.objects.get(pk=created["id"])
    if expected == 200:
        assert txn.pending_edit and txn.status == Transaction.Status.READY
    else:
        assert txn.notes == "" and txn.status == Transaction.Status.COMPLETED
