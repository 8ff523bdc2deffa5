"""Stage 8: the automatic sync per company, the beat entries, and the stuck-work sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from expenses_portal.celery import app
from integrations.codat.errors import CodatRateLimitedError, CodatTransientError
from integrations.companies import tasks as company_tasks
from integrations.ledger import tasks as ledger_tasks
from integrations.syncs import tasks
from integrations.syncs.models import Sync, SyncTransaction
from integrations.syncs.services import follow, receipts, schedule, sweep
from integrations.transactions.models import Receipt, Transaction
from tests.models.factories import (
    make_company,
    make_connection,
    make_receipt,
    make_sync,
    make_transaction,
)

pytestmark = pytest.mark.django_db

Status = Transaction.Status


def linked_company(**fields):
    company = make_company(codat_company_id=f"00000000-0000-4000-8000-{fields.pop('n', 1):012d}")
    for name, value in fields.items():
        setattr(company, name, value)
    company.save()
    make_connection(company)
    return company


# --- The automatic sync -------------------------------------------------------------------------


def test_a_due_company_with_ready_spend_is_claimed_once_and_its_next_run_moved_forward():
    now = timezone.now()
    company = linked_company(auto_sync_interval_minutes=15)
    make_transaction(company, status=Status.READY)

    assert schedule.claim_due_companies(now) == [company.pk]
    company.refresh_from_db()
    assert company.auto_synced_at == now
    assert company.auto_sync_due_at == now + timedelta(minutes=15)
    # A second beat tick (or a second beat process) finds nothing to start.
    assert schedule.claim_due_companies(now) == []
    assert schedule.claim_due_companies(now + timedelta(minutes=14)) == []
    assert schedule.claim_due_companies(now + timedelta(minutes=15)) == [company.pk]


def test_a_beat_tick_a_moment_early_still_runs_a_one_minute_schedule():
    """Beat's one-minute tick and a one-minute interval: a tick a few milliseconds before the
    due time must not push the run to the next tick (it ran every two minutes in make run)."""
    now = timezone.now()
    company = linked_company(auto_sync_interval_minutes=1)
    make_transaction(company, status=Status.READY)
    assert schedule.claim_due_companies(now) == [company.pk]
    tick = now + timedelta(seconds=59.9)
    assert schedule.claim_due_companies(tick) == [company.pk]
    assert schedule.claim_due_companies(tick + timedelta(seconds=1)) == []


def test_two_beats_racing_for_the_same_run_start_it_once():
    now = timezone.now()
    company = linked_company()
    make_transaction(company, status=Status.READY)
    # Both read the due list before either claims.
    seen_by_first = list(schedule.due_companies(now))
    seen_by_second = list(schedule.due_companies(now))
    assert seen_by_first == seen_by_second == [(company.pk, 15)]
    assert schedule.claim_run(company.pk, 15, now) is True
    assert schedule.claim_run(company.pk, 15, now) is False


def test_only_enabled_linked_due_companies_with_spend_to_check_are_run():
    now = timezone.now()
    parked = linked_company(n=1)
    make_transaction(parked, status=Status.NEEDS_ATTENTION, needs_attention_reason="Map it.")
    off = linked_company(n=2, auto_sync_enabled=False)
    make_transaction(off, status=Status.READY)
    later = linked_company(n=3, auto_sync_due_at=now + timedelta(minutes=5))
    make_transaction(later, status=Status.READY)
    idle = linked_company(n=4)
    make_transaction(idle, status=Status.COMPLETED)
    unlinked = make_company(codat_company_id="00000000-0000-4000-8000-000000000005")
    make_connection(unlinked, status="Deauthorized")
    make_transaction(unlinked, status=Status.READY)

    assert schedule.claim_due_companies(now) == [parked.pk]


def test_finding_the_due_companies_is_one_query_and_bounded(django_assert_num_queries):
    now = timezone.now()
    for n in range(3):
        make_transaction(linked_company(n=n + 1), status=Status.READY)
    with django_assert_num_queries(1):
        due = list(schedule.due_companies(now, limit=2))
    assert len(due) == 2


def test_the_beat_task_hands_each_claimed_company_to_preflight(monkeypatch):
    company = linked_company()
    make_transaction(company, status=Status.READY)
    started = []
    monkeypatch.setattr(tasks.preflight_company, "delay", started.append)
    tasks.run_automatic_syncs.run()
    tasks.run_automatic_syncs.run()
    assert started == [company.pk]


def test_automatic_sync_defaults_to_on_every_fifteen_minutes():
    company = make_company()
    assert (company.auto_sync_enabled, company.auto_sync_interval_minutes) == (True, 15)


def test_beat_runs_the_automatic_sync_and_the_poller():
    schedule_ = app.conf.beat_schedule
    assert schedule_["automatic-sync"]["task"] == tasks.run_automatic_syncs.name
    assert schedule_["sync-poller"]["task"] == tasks.poll_syncs.name


# --- The sweeper --------------------------------------------------------------------------------


def carried(sync, *transactions):
    for txn in transactions:
        SyncTransaction.objects.create(sync=sync, transaction=txn)


@pytest.mark.parametrize(
    ("state", "screen"), [("retry", "transaction"), ("unknown", "ledger")], ids=str
)
def test_a_send_tried_too_often_is_given_up_with_the_reason_on_its_rows(settings, state, screen):
    settings.SYNC_MAX_ATTEMPTS = 3
    company = linked_company()
    txn = make_transaction(company, status=Status.PUSHING)
    sync = make_sync(
        company,
        codat_sync_id=None,
        status_code=None,
        send_state=state,
        attempts=3,
        last_error="Codat answered 503",
    )
    carried(sync, txn)
    younger = make_transaction(company, status=Status.PUSHING)
    carried(
        make_sync(company, codat_sync_id=None, status_code=None, send_state=state, attempts=2),
        younger,
    )

    assert sweep.sweep().given_up == 1

    txn.refresh_from_db()
    sync.refresh_from_db()
    assert txn.status == Status.FAILED and txn.attention_screen == screen
    assert txn.needs_attention_reason.startswith(
        "Gave up after 3 attempts to send it: Codat answered 503"
    )
    assert sync.send_state == Sync.SendState.REJECTED and sync.is_terminal
    assert sync.last_error == "Gave up after 3 attempts: Codat answered 503"
    younger.refresh_from_db()
    assert younger.status == Status.PUSHING


def test_in_flight_rows_no_open_sync_holds_are_queued_again_then_given_up(settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    now = timezone.now()
    old = now - sweep.STUCK_AFTER - timedelta(seconds=1)
    company = linked_company()
    finished = make_sync(company, status_code=Sync.StatusCode.SUCCESS)
    orphan = make_transaction(company, status=Status.SYNCING, status_changed_at=old)
    carried(finished, orphan)
    tried_often = make_transaction(company, status=Status.PUSHING, status_changed_at=old)
    carried(finished, tried_often)
    carried(make_sync(company, status_code=Sync.StatusCode.SUCCESS), tried_often)
    held = make_transaction(company, status=Status.SYNCING, status_changed_at=old)
    carried(make_sync(company), held)  # its sync is still running at Codat
    recent = make_transaction(company, status=Status.SYNCING)
    carried(finished, recent)

    result = sweep.sweep(now)

    assert (result.requeued, result.given_up) == (1, 1)
    states = {t.pk: t for t in Transaction.objects.all()}
    assert states[orphan.pk].status == Status.QUEUED
    assert states[tried_often.pk].status == Status.FAILED
    assert states[tried_often.pk].needs_attention_reason.startswith("Gave up after 2 attempts")
    assert states[held.pk].status == Status.SYNCING
    assert states[recent.pk].status == Status.SYNCING


def test_queued_spend_of_a_company_that_cannot_push_is_parked_with_the_reason():
    now = timezone.now()
    company = make_company()
    make_connection(company, status="Deauthorized")
    txn = make_transaction(
        company, status=Status.QUEUED, status_changed_at=now - timedelta(minutes=10)
    )

    result = sweep.sweep(now)

    txn.refresh_from_db()
    assert result.parked == 1 and result.push_company_ids == []
    assert txn.status == Status.NEEDS_ATTENTION
    assert txn.attention_code == Transaction.AttentionCode.CONNECTION_NOT_LINKED


def test_the_poller_restarts_pushes_whose_task_was_lost(monkeypatch):
    company = linked_company()
    make_transaction(
        company, status=Status.QUEUED, status_changed_at=timezone.now() - timedelta(minutes=10)
    )
    make_transaction(linked_company(n=2), status=Status.QUEUED)  # its own task is still coming
    monkeypatch.setattr(follow, "poll_due", lambda: None)
    monkeypatch.setattr(receipts, "transactions_due", lambda: [])
    pushed = []
    monkeypatch.setattr(tasks.push_company, "delay", pushed.append)
    tasks.poll_syncs.run()
    assert pushed == [company.pk]


def test_an_upload_whose_worker_died_is_handed_back_then_given_up(settings):
    settings.SYNC_CLAIM_LEASE_SECONDS = 60
    now = timezone.now()
    dead = now - timedelta(seconds=61)
    txn = make_transaction(status=Status.COMPLETED)
    first = make_receipt(txn, upload_status="uploading", claimed_at=dead, attempts=0)
    last = make_receipt(
        txn, upload_status="uploading", claimed_at=dead, attempts=receipts.MAX_ATTEMPTS - 1
    )
    alive = make_receipt(txn, upload_status="uploading", claimed_at=now)

    assert receipts.sweep_receipts(now) == 2

    first.refresh_from_db()
    last.refresh_from_db()
    alive.refresh_from_db()
    assert (first.upload_status, first.attempts, first.claimed_at) == ("pending", 1, None)
    assert last.upload_status == Receipt.UploadStatus.FAILED
    assert last.error == (
        f"Gave up after {receipts.MAX_ATTEMPTS} attempts: the upload never finished."
    )
    assert alive.upload_status == Receipt.UploadStatus.UPLOADING


# --- One retry policy ---------------------------------------------------------------------------


def test_follow_retries_a_rate_limit_after_codat_s_retry_after(monkeypatch):
    def limited(sync_id):
        raise CodatRateLimitedError(
            "slow down", method="GET", path="/x", status_code=429, retry_after=30
        )

    monkeypatch.setattr(follow, "follow_sync", limited)
    retried = []
    monkeypatch.setattr(
        tasks.follow_sync, "retry", lambda **kw: retried.append(kw) or Retry("again")
    )
    with pytest.raises(Retry):
        tasks.follow_sync(9)
    assert 30 <= retried[0]["countdown"] <= 32


@pytest.mark.parametrize(
    ("task", "service"),
    [
        (ledger_tasks.start_read, "integrations.ledger.services.start_read"),
        (
            company_tasks.connect_partner_expense,
            "integrations.companies.services.connect_partner_expense",
        ),
    ],
    ids=["ledger", "companies"],
)
def test_ledger_and_connect_tasks_back_off_with_jitter_up_to_their_cap(monkeypatch, task, service):
    def flaky(*args):
        raise CodatTransientError("timed out", method="GET", path="/x")

    monkeypatch.setattr(service, flaky)
    company = make_company()
    retried = []
    monkeypatch.setattr(task, "retry", lambda **kw: retried.append(kw) or Retry("again"))
    read_or_company = company.pk
    if task is ledger_tasks.start_read:
        from integrations.ledger.models import LedgerRead

        read_or_company = LedgerRead.objects.create(company=company).pk
    with pytest.raises(Retry):
        task(read_or_company)
    assert 0 <= retried[0]["countdown"] <= task.backoff_base
    assert isinstance(retried[0]["exc"], CodatTransientError)
