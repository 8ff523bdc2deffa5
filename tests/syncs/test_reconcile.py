"""Reconciling Codat's statuses: idempotent, monotonic, and deaf to stale news."""

from __future__ import annotations

import pytest

from integrations.syncs.models import Sync, SyncTransaction
from integrations.syncs.services import reconcile
from integrations.transactions.models import Transaction
from tests.models.factories import make_company, make_sync, make_transaction

pytestmark = pytest.mark.django_db


def _carrying(txn, **fields):
    sync = make_sync(txn.company, send_state=Sync.SendState.ACCEPTED, **fields)
    SyncTransaction.objects.create(sync=sync, transaction=txn)
    return sync


def _status(txn, status, message):
    return [{"transactionId": str(txn.pk).upper(), "status": status, "message": message}]


@pytest.fixture
def resent():
    """A transaction whose first sync failed and which was sent again in a second one."""
    txn = make_transaction(make_company(), status=Transaction.Status.SYNCING)
    return txn, _carrying(txn), _carrying(txn)


@pytest.mark.parametrize("newest_first", [True, False])
def test_out_of_order_results_end_in_the_newest_state(resent, newest_first):
    txn, older, newer = resent
    results = [
        (newer, _status(txn, "Completed", "rec-1")),
        (older, _status(txn, "ValidationError", "Account '9' was not found.")),
    ]
    for sync, statuses in results if newest_first else reversed(results):
        reconcile.reconcile_sync(sync, statuses)
    txn.refresh_from_db()
    assert (txn.status, txn.ledger_record_id) == (Transaction.Status.COMPLETED, "rec-1")
    assert SyncTransaction.objects.get(sync=older).status == "ValidationError"


def test_a_failure_from_the_latest_sync_fails_the_transaction(resent):
    txn, _, newer = resent
    reconcile.reconcile_sync(newer, _status(txn, "PushError", "Locked: the lock date is 2026"))
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.FAILED
    assert txn.attention_code == Transaction.AttentionCode.REJECTED_BY_LEDGER
    assert txn.needs_attention_reason == (
        "The ledger is locked for its date. The accounting software refused it: "
        "Locked: the lock date is 2026"
    )


def test_the_same_result_twice_changes_nothing_and_completed_is_final():
    txn = make_transaction(make_company(), status=Transaction.Status.SYNCING)
    sync = _carrying(txn)
    reconcile.reconcile_sync(sync, _status(txn, "Completed", "rec-1"))
    first = SyncTransaction.objects.get()
    reconcile.reconcile_sync(sync, _status(txn, "Completed", "rec-1"))
    reconcile.reconcile_sync(sync, _status(txn, "Pending", ""))
    again = SyncTransaction.objects.get()
    assert (again.status, again.updated_at) == ("Completed", first.updated_at)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED
    sync.refresh_from_db()
    assert (sync.total_count, sync.completed_count, sync.failed_count) == (1, 1, 0)


def test_previously_processed_is_handed_back_to_be_located_not_failed():
    txn = make_transaction(make_company(), status=Transaction.Status.SYNCING)
    sync = _carrying(txn)
    message = f"One or more transactions have previously been processed: {txn.pk}"
    assert reconcile.reconcile_sync(sync, _status(txn, "ValidationError", message)) == [txn.pk]
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.SYNCING


def test_a_failure_on_a_deauthorised_sync_waits_for_relinking():
    txn = make_transaction(make_company(), status=Transaction.Status.SYNCING)
    sync = _carrying(txn)
    reconcile.reconcile_sync(sync, _status(txn, "PushError", "not authorized"), deauthorised=True)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.NEEDS_ATTENTION
    assert txn.attention_code == Transaction.AttentionCode.CONNECTION_NOT_LINKED


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        ("ValidationError", "", "Codat refused it."),
        (
            "ValidationError",
            "Account '7' is archived and cannot be used.",
            "A ledger record it uses is archived. Codat refused it: "
            "Account '7' is archived and cannot be used.",
        ),
        ("PushError", "Weird", "The accounting software refused it: Weird"),
    ],
)
def test_readable_reasons(status, message, expected):
    assert reconcile.readable_reason(status, message) == expected


def test_a_duplicate_protection_sync_hands_its_transactions_back_to_be_located():
    txn = make_transaction(make_company(), status=Transaction.Status.SYNCING)
    sync = _carrying(txn)
    statuses = _status(txn, "PushError", "Duplicate")
    assert reconcile.reconcile_sync(sync, statuses, duplicate=True) == [txn.pk]
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.SYNCING


def test_a_full_sync_is_reconciled_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    # The webhook and the poller both land here for every 50-transaction sync; a few queries
    # per transaction would make the database, not Codat, the limit of a large push.
    company = make_company()
    txns = [make_transaction(company, status=Transaction.Status.SYNCING) for _ in range(50)]
    sync = make_sync(company, send_state=Sync.SendState.ACCEPTED)
    SyncTransaction.objects.bulk_create([SyncTransaction(sync=sync, transaction=t) for t in txns])
    statuses = [
        {"transactionId": str(t.pk), "status": "Completed", "message": f"rec-{i}"}
        for i, t in enumerate(txns)
    ]
    with django_assert_max_num_queries(10):
        reconcile.reconcile_sync(sync, statuses)
    assert {
        (t.pk, t.status, t.ledger_record_id) for t in Transaction.objects.filter(company=company)
    } == {(t.pk, Transaction.Status.COMPLETED, f"rec-{i}") for i, t in enumerate(txns)}
    sync.refresh_from_db()
    assert (sync.total_count, sync.completed_count) == (50, 50)
