"""The sync pipeline end to end against the sandbox over real HTTP."""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from codat_sandbox import limits
from codat_sandbox.models import SandboxSync
from integrations.ledger.models import (
    BankAccount,
    CardMapping,
    CategoryMapping,
    LedgerAccount,
    Supplier,
)
from integrations.syncs import events, tasks
from integrations.syncs.models import Sync, SyncTransaction, WebhookEvent
from integrations.syncs.services import follow, preflight, push, receipts
from integrations.transactions.models import Receipt, Transaction
from tests.integration.helpers import advance_until, tiny_png
from tests.models.factories import make_card, make_category, make_receipt

from .helpers import PIPELINE, linked_portal

pytestmark = PIPELINE


def _webhook_event(delivery, company):
    """What the receiver hands a handler: the stored event with its payload."""
    envelope = json.loads(delivery.body)
    return SimpleNamespace(event_type=envelope["eventType"], payload=envelope, company=company)


def _codat_requests() -> int:
    return limits.current_usage(timezone.now())


def _sync_deliveries(capture):
    return [d for d in capture.snapshot() if b'"expenses.sync.' in d.body]


def test_ready_spend_lands_once_with_its_receipt_through_the_webhook(codat, webhook_capture):
    portal = linked_portal(codat)
    first = portal.expense(net_amount="12.50", merchant_name="Trainline")
    second = portal.expense(net_amount="3.20", merchant_name="Pret")
    make_receipt(
        first,
        file=SimpleUploadedFile("ticket.png", tiny_png(), "image/png"),
        original_filename="ticket.png",
        size=len(tiny_png()),
        content_type="image/png",
    )

    assert preflight.preflight_company(portal.company.pk).queued == 2
    requests_before = _codat_requests()
    result = push.push_company(portal.company.pk)
    assert (result.sent, result.transactions) == (1, 2)
    [sync] = Sync.objects.all()
    assert sync.send_state == Sync.SendState.ACCEPTED
    assert str(sync.codat_sync_id) == str(SandboxSync.objects.get().id)
    assert set(Transaction.objects.values_list("status", flat=True)) == {"syncing"}

    [delivery] = advance_until(lambda: _sync_deliveries(webhook_capture), "the sync's webhook")
    follow.handle_sync_successful(_webhook_event(delivery, portal.company))
    # One create and one read of the sync's transactions (for the ledger record ids).
    assert _codat_requests() - requests_before == 2

    sync.refresh_from_db()
    assert sync.status_code == Sync.StatusCode.SUCCESS and sync.completed_count == 2
    for txn in (first, second):
        txn.refresh_from_db()
        [record] = portal.ledger_records(txn)
        assert txn.status == Transaction.Status.COMPLETED
        assert txn.ledger_record_id == record.record_id

    # The same webhook again changes nothing and costs nothing.
    follow.handle_sync_successful(_webhook_event(delivery, portal.company))
    assert SyncTransaction.objects.filter(status="Completed").count() == 2
    assert _codat_requests() - requests_before == 2

    assert receipts.transactions_with_pending_receipts(sync) == [first.pk]
    assert receipts.upload_for_transaction(first.pk).uploaded == 1
    receipt = Receipt.objects.get()
    assert receipt.upload_status == Receipt.UploadStatus.UPLOADED
    assert receipt.codat_attachment_id


def test_transfers_go_one_put_each(codat):
    portal = linked_portal(codat)
    banks = [
        a["id"]
        for a in codat.get_mapping_options(portal.codat_id)["accounts"]
        if a["isBankAccount"] and a.get("currency") in ("", None, portal.linked.currency)
    ]
    source, target = (
        BankAccount.objects.get_or_create(
            company=portal.company,
            codat_id=bank_id,
            defaults={"name": f"Bank {bank_id}", "currency": portal.linked.currency},
        )[0]
        for bank_id in banks[:2]
    )
    transfers = [
        portal.expense(
            kind=Transaction.Kind.TRANSFER,
            expense_type="",
            card=None,
            category=None,
            from_bank_account=source,
            to_bank_account=target,
            from_amount=amount,
            to_amount=amount,
        )
        for amount in ("100.00", "25.00")
    ]

    assert preflight.preflight_company(portal.company.pk).queued == 2
    assert push.push_company(portal.company.pk).sent == 2
    follow.poll_due()

    assert sorted(SandboxSync.objects.values_list("kind", flat=True)) == ["transfer", "transfer"]
    for txn in transfers:
        txn.refresh_from_db()
        assert txn.status == Transaction.Status.COMPLETED
        [record] = portal.ledger_records(txn)
        assert record.data["from"]["amount"] == txn.from_amount


def test_an_unsuccessful_webhook_reads_codats_verdict(codat, webhook_capture):
    portal = linked_portal(codat)
    portal.account.codat_id = "gone-since-refresh"
    portal.account.save()
    txn = portal.expense()
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    [delivery] = advance_until(lambda: _sync_deliveries(webhook_capture), "the sync's webhook")
    event = _webhook_event(delivery, portal.company)
    assert event.event_type == "expenses.sync.unsuccessful"

    follow.handle_sync_unsuccessful(event)

    sync = Sync.objects.get()
    assert (sync.status_code, sync.failed_count) == (5130, 1)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.FAILED
    assert "gone-since-refresh" in txn.needs_attention_reason


def test_a_webhook_for_a_sync_we_do_not_know_is_left_to_the_poller(codat):
    stranger = SimpleNamespace(
        event_type="expenses.sync.successful",
        payload={"payload": {"syncId": "8f9c1d3e-0000-4000-8000-000000000000"}},
        company=None,
    )
    follow.handle_sync_successful(stranger)
    assert not Sync.objects.exists()


def test_a_reimbursable_claim_is_billed_to_the_employee(codat):
    portal = linked_portal(codat)
    [account_id] = [
        a["id"]
        for a in codat.get_mapping_options(portal.codat_id)["accounts"]
        if "reimbursable-expense-transactions" in (a.get("validFor") or [])
        and not a["isBankAccount"]
    ][:1]
    account, _ = LedgerAccount.objects.get_or_create(
        company=portal.company, codat_id=account_id, defaults={"name": "Staff expenses"}
    )
    account.valid_for = [*account.valid_for, "reimbursable-expense-transactions"]
    account.save()
    category = make_category(portal.company, name="Mileage")
    CategoryMapping.objects.create(category=category, account=account)
    employee = Supplier.objects.get(company=portal.company, codat_id=portal.linked.supplier_id)
    claim = portal.expense(
        kind=Transaction.Kind.REIMBURSABLE,
        expense_type="",
        card=None,
        category=category,
        supplier=employee,
    )

    assert preflight.preflight_company(portal.company.pk).queued == 1
    assert push.push_company(portal.company.pk).sent == 1
    follow.poll_due()

    claim.refresh_from_db()
    assert claim.status == Transaction.Status.COMPLETED
    [bill] = portal.ledger_records(claim)
    assert bill.data["supplierRef"] == {"id": employee.codat_id}


def test_webhooks_out_of_order_and_repeated_end_in_codats_latest_word(codat, webhook_capture):
    portal = linked_portal(codat)
    good_account = portal.account.codat_id
    portal.account.codat_id = "gone-since-refresh"
    portal.account.save()
    txn = portal.expense()
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)  # sync A: refused by the ledger
    [late] = advance_until(lambda: _sync_deliveries(webhook_capture), "sync A's webhook")

    # Before A's webhook is processed, the mapping is fixed and the row sent again (sync B).
    portal.account.codat_id = good_account
    portal.account.save()
    Transaction.objects.filter(pk=txn.pk).update(status="ready")
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    deliveries = advance_until(lambda: _sync_deliveries(webhook_capture)[1:], "sync B's webhook")
    follow.handle_sync_successful(_webhook_event(deliveries[0], portal.company))
    follow.handle_sync_unsuccessful(_webhook_event(late, portal.company))
    follow.handle_sync_unsuccessful(_webhook_event(late, portal.company))

    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED
    assert txn.ledger_record_id == portal.ledger_records(txn)[0].record_id
    assert sorted(Sync.objects.values_list("status_code", flat=True)) == [2000, 5130]


def test_adjustments_go_in_batches_where_the_platform_takes_them(codat):
    portal = linked_portal(codat, platform_key="pqsw")  # QuickBooks Desktop
    accounts = codat.get_mapping_options(portal.codat_id)["accounts"]
    adjustable = [a for a in accounts if "adjustment-transactions" in (a.get("validFor") or [])]
    target = next(a for a in adjustable if not a["isBankAccount"])
    source = next(a for a in adjustable if a["isBankAccount"])
    account, _ = LedgerAccount.objects.get_or_create(
        company=portal.company, codat_id=target["id"], defaults={"name": target["name"]}
    )
    account.valid_for = ["adjustment-transactions"]
    account.save()
    bank, _ = BankAccount.objects.get_or_create(
        company=portal.company,
        codat_id=source["id"],
        defaults={"name": source["name"], "currency": portal.linked.currency},
    )
    category = make_category(portal.company, name="Write-offs")
    CategoryMapping.objects.create(category=category, account=account)
    card = make_card(portal.company, currency=portal.linked.currency)
    CardMapping.objects.create(card=card, bank_account=bank)
    rows = [
        portal.expense(
            kind=Transaction.Kind.ADJUSTMENT, expense_type="", card=card, category=category
        )
        for _ in range(3)
    ]

    assert preflight.preflight_company(portal.company.pk).queued == 3
    assert push.push_company(portal.company.pk).sent == 1
    follow.poll_due()

    assert list(SandboxSync.objects.values_list("kind", flat=True)) == ["adjustment"]
    for txn in rows:
        txn.refresh_from_db()
        assert txn.status == Transaction.Status.COMPLETED, txn.needs_attention_reason
        [journal] = portal.ledger_records(txn)
        assert journal.data["totalDebit"] == txn.total_amount


def test_a_sync_webhook_is_stored_without_reading_codat_and_finished_by_a_task(
    codat, webhook_capture, monkeypatch
):
    """Reading Codat inside the event's transaction held SQLite's write lock over HTTP, so the
    sandbox (or any other writer) timed out with "database is locked" in `make run`."""
    portal = linked_portal(codat)
    txn = portal.expense()
    make_receipt(
        txn,
        file=SimpleUploadedFile("ticket.png", tiny_png(), "image/png"),
        original_filename="ticket.png",
        size=len(tiny_png()),
        content_type="image/png",
    )
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    [delivery] = advance_until(lambda: _sync_deliveries(webhook_capture), "the sync's webhook")
    envelope = json.loads(delivery.body)
    event = WebhookEvent.objects.create(
        webhook_id="msg_1", event_type=envelope["eventType"], payload=envelope
    )
    followed = []
    monkeypatch.setattr(tasks.follow_sync_event, "delay", followed.append)
    requests_before = _codat_requests()

    events.process_event(event.pk)

    event.refresh_from_db()
    assert event.outcome == WebhookEvent.Outcome.PROCESSED
    assert _codat_requests() == requests_before, "no Codat call inside the event's transaction"
    assert followed == [event.pk]

    uploads = []
    monkeypatch.setattr(tasks.upload_receipts, "delay", uploads.append)
    tasks.follow_sync_event.run(event.pk)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED and txn.ledger_record_id
    assert Sync.objects.get().status_code == Sync.StatusCode.SUCCESS
    assert uploads == [str(txn.pk)]
