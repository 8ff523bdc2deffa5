"""Each way a push can go wrong, against the sandbox over real HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from codat_sandbox import services as sandbox_services
from codat_sandbox.models import SandboxConnection, SandboxSync
from codat_sandbox.models import SyncTransaction as SandboxItem
from integrations.companies.models import Connection
from integrations.ledger.models import RecordStatus
from integrations.syncs import limits
from integrations.syncs.models import Sync, SyncTransaction
from integrations.syncs.services import follow, preflight, push
from integrations.transactions.models import Transaction

from .helpers import PIPELINE, linked_portal

pytestmark = PIPELINE


def _queued(portal, count=1, **fields):
    rows = [portal.expense(**fields) for _ in range(count)]
    assert preflight.preflight_company(portal.company.pk).queued == count
    return rows


def _status(txn):
    txn.refresh_from_db()
    return txn.status


def test_polling_finishes_the_job_when_no_webhook_arrives(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)

    result = follow.poll_due()

    assert (result.followed, result.finished) == (1, 1)
    sync = Sync.objects.get()
    assert sync.status_code == Sync.StatusCode.SUCCESS and sync.data_pushed
    assert _status(txn) == Transaction.Status.COMPLETED
    assert txn.ledger_record_id == portal.ledger_records(txn)[0].record_id
    assert follow.poll_due().followed == 0  # nothing left open


def test_batches_hold_at_most_fifty_of_one_kind(codat):
    portal = linked_portal(codat)
    _queued(portal, 60)
    result = push.push_company(portal.company.pk)
    assert (result.sent, result.transactions) == (2, 60)
    assert sorted(SandboxSync.objects.values_list("kind", flat=True)) == ["expense", "expense"]
    assert sorted(Sync.objects.values_list("total_count", flat=True)) == [10, 50]


def test_preflight_finds_an_archived_account_and_nothing_is_sent(codat):
    portal = linked_portal(codat)
    portal.account.status = RecordStatus.ARCHIVED
    portal.account.save()
    txn = portal.expense()

    assert preflight.preflight_company(portal.company.pk).needs_attention == 1
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.NEEDS_ATTENTION
    assert txn.attention_code == Transaction.AttentionCode.ACCOUNT_ARCHIVED
    assert txn.attention_screen == Transaction.Screen.CATEGORY_MAPPING
    assert "Expenses" in txn.needs_attention_reason
    assert push.push_company(portal.company.pk).sent == 0
    assert not SandboxSync.objects.exists()

    # Fixing the mapping is enough: the next pre-flight queues it.
    portal.account.status = RecordStatus.ACTIVE
    portal.account.save()
    assert preflight.preflight_company(portal.company.pk).queued == 1


def test_a_ledger_validation_error_keeps_codats_message_and_a_readable_reason(codat):
    portal = linked_portal(codat)
    # The cache believes in an account the ledger does not have (deleted since the refresh).
    portal.account.codat_id = "no-such-account"
    portal.account.save()
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    follow.poll_due()

    item = SyncTransaction.objects.get()
    assert item.status == SyncTransaction.Status.VALIDATION_ERROR
    assert "no-such-account" in item.message
    assert _status(txn) == Transaction.Status.FAILED
    assert txn.attention_code == Transaction.AttentionCode.REJECTED_BY_CODAT
    assert txn.needs_attention_reason.startswith("A ledger record it uses no longer exists.")
    assert Sync.objects.get().status_code == 5130


def test_a_transaction_codat_already_holds_is_reconciled_never_sent_twice(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    follow.poll_due()
    record_id = portal.ledger_records(txn)[0].record_id

    # Our rows lose track of it (a restore, an operator's mistake) and it is queued again.
    Transaction.objects.filter(pk=txn.pk).update(status="queued", ledger_record_id="")
    SyncTransaction.objects.all().delete()
    Sync.objects.all().delete()
    push.push_company(portal.company.pk)
    follow.poll_due()

    assert _status(txn) == Transaction.Status.COMPLETED
    assert txn.ledger_record_id == record_id
    assert len(portal.ledger_records(txn)) == 1
    assert SandboxItem.objects.filter(transaction_id=str(txn.pk)).count() == 1


def test_a_sender_killed_after_codat_accepted_is_recovered_without_resending(codat, settings):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    # As if the worker died before saving Codat's answer: the row still says "sending".
    now = timezone.now()
    Sync.objects.update(send_state="sending", codat_sync_id=None, claimed_at=now)
    Transaction.objects.update(status="pushing")
    assert follow.poll_due().resumed == 0  # its claim may still be a live, slow worker's
    lease = timedelta(seconds=settings.SYNC_CLAIM_LEASE_SECONDS)
    Sync.objects.update(claimed_at=now - lease - timedelta(seconds=1))

    follow.poll_due()  # resumes the send: finds the sync at Codat first
    follow.poll_due()  # follows it to the end

    sync = Sync.objects.get()
    assert str(sync.codat_sync_id) == str(SandboxSync.objects.get().id)
    assert _status(txn) == Transaction.Status.COMPLETED
    assert SandboxItem.objects.count() == 1


def test_a_deauthorised_connection_stops_the_push(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    connection = SandboxConnection.objects.get(pk=portal.linked.connection_id)
    sandbox_services.deauthorize(connection)

    follow.poll_due()

    assert Sync.objects.get().status_code == Sync.StatusCode.COMPANY_NOT_FOUND
    assert portal.company.accounting_connection().status == Connection.Status.DEAUTHORIZED
    assert _status(txn) == Transaction.Status.NEEDS_ATTENTION
    assert txn.attention_code == Transaction.AttentionCode.CONNECTION_NOT_LINKED
    later = portal.expense()
    preflight.preflight_company(portal.company.pk)
    later.refresh_from_db()
    assert later.attention_code == Transaction.AttentionCode.CONNECTION_NOT_LINKED
    Transaction.objects.filter(pk=later.pk).update(status="queued")
    assert push.push_company(portal.company.pk).blocked
    assert SandboxSync.objects.count() == 1


def test_a_long_running_sync_is_marked_and_polled_with_backoff(codat, settings):
    settings.SYNC_POLL_DELAY_SECONDS = 30
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    portal.faults(long_running_syncs=True)
    Sync.objects.update(next_attempt_at=Sync.objects.get().requested_at)  # due now

    follow.poll_due()
    sync = Sync.objects.get()
    assert sync.is_long_running and sync.status_code == 1010
    first_wait = sync.next_attempt_at - sync.last_polled_at
    Sync.objects.update(next_attempt_at=sync.last_polled_at)
    follow.poll_due()
    sync.refresh_from_db()
    assert sync.next_attempt_at - sync.last_polled_at > first_wait  # backing off
    assert _status(txn) == Transaction.Status.SYNCING

    portal.clear_faults()
    Sync.objects.update(next_attempt_at=sync.last_polled_at)
    follow.poll_due()
    assert _status(txn) == Transaction.Status.COMPLETED


def test_injected_5xx_is_checked_at_codat_before_a_resend(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    portal.faults(error_rate=100)

    result = push.push_company(portal.company.pk)

    sync = Sync.objects.get()
    assert result.sent == 0 and result.retry_after is not None
    assert sync.send_state == Sync.SendState.UNKNOWN and sync.codat_sync_id is None
    first_key = sync.idempotency_key
    portal.clear_faults()
    follow.poll_due()  # the status check finds nothing, so it sends again under a new key
    follow.poll_due()
    sync.refresh_from_db()
    assert sync.send_state == Sync.SendState.ACCEPTED and sync.idempotency_key != first_key
    assert _status(txn) == Transaction.Status.COMPLETED
    assert SandboxItem.objects.count() == 1


def test_a_timeout_after_codat_wrote_adopts_that_sync(codat, settings):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    portal.faults(timeout_seconds=1)
    settings.CODAT_TIMEOUT_SECONDS = 0.3

    push.push_company(portal.company.pk)
    assert Sync.objects.get().send_state == Sync.SendState.UNKNOWN
    portal.clear_faults()
    settings.CODAT_TIMEOUT_SECONDS = 10
    deadline = time.monotonic() + 5
    while not SandboxSync.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the slow request is still being served

    follow.poll_due()
    follow.poll_due()

    assert str(Sync.objects.get().codat_sync_id) == str(SandboxSync.objects.get().id)
    assert _status(txn) == Transaction.Status.COMPLETED
    assert SandboxItem.objects.count() == 1


def test_429_waits_for_retry_after_and_resends_with_the_same_key(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    portal.faults(quota_exhausted=True)

    result = push.push_company(portal.company.pk)

    sync = Sync.objects.get()
    assert result.retry_after and result.retry_after > 0
    assert sync.send_state == Sync.SendState.RETRY
    assert sync.next_attempt_at > sync.requested_at
    key = sync.idempotency_key
    portal.clear_faults()
    assert follow.poll_due().resumed == 0  # not before Retry-After
    Sync.objects.update(next_attempt_at=None)
    limits.forget_quota()  # what Codat's client.rateLimit.reset webhook does
    follow.poll_due()
    follow.poll_due()
    sync.refresh_from_db()
    assert sync.idempotency_key == key and sync.send_state == Sync.SendState.ACCEPTED
    assert _status(txn) == Transaction.Status.COMPLETED


def test_an_unknown_send_of_transactions_another_recorded_sync_holds_is_closed(codat):
    portal = linked_portal(codat)
    [txn] = _queued(portal)
    push.push_company(portal.company.pk)
    follow.poll_due()
    # A second send of the same row whose outcome was lost (as after a restore and a timeout).
    Transaction.objects.filter(pk=txn.pk).update(status="pushing")
    lost = Sync.objects.create(
        company=portal.company, kind=Sync.Kind.EXPENSE, send_state=Sync.SendState.UNKNOWN
    )
    SyncTransaction.objects.create(sync=lost, transaction=txn)

    follow.poll_due()

    lost.refresh_from_db()
    assert lost.send_state == Sync.SendState.REJECTED and not lost.items.exists()
    assert _status(txn) == Transaction.Status.COMPLETED
    assert SandboxSync.objects.count() == 1
