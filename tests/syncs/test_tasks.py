"""The Celery tasks only call the services and own the retry policy."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from integrations.codat.errors import CodatQuotaReservedError
from integrations.syncs import tasks
from integrations.syncs.services import follow, push, receipts, reconcile, sweep
from integrations.syncs.services.preflight import PreflightResult
from integrations.syncs.services.sweep import SweepResult
from tests.models.factories import make_company, make_connection, make_sync


def test_push_retries_when_codat_asks_to_wait(monkeypatch):
    monkeypatch.setattr(push, "push_company", lambda company_id: push.PushResult(retry_after=7))
    retried = []
    monkeypatch.setattr(
        tasks.push_company, "retry", lambda **kw: retried.append(kw) or Retry("again")
    )
    with pytest.raises(Retry):
        tasks.push_company.run(3)
    assert retried == [{"countdown": 7}]


def test_push_done_needs_no_retry(monkeypatch):
    monkeypatch.setattr(push, "push_company", lambda company_id: push.PushResult(sent=1))
    tasks.push_company.run(3)


def test_preflight_hands_queued_work_to_the_push(monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.preflight, "preflight_company", lambda company_id: PreflightResult(2, 0)
    )
    monkeypatch.setattr(tasks.push_company, "delay", sent.append)
    tasks.preflight_company.run(5)
    assert sent == [5]


def test_a_finished_sync_starts_its_receipt_uploads(monkeypatch):
    finished = type("S", (), {"is_terminal": True})()
    monkeypatch.setattr(follow, "follow_sync", lambda sync_id: finished)
    monkeypatch.setattr(receipts, "transactions_with_pending_receipts", lambda sync: ["t1"])
    uploads = []
    monkeypatch.setattr(tasks.upload_receipts, "delay", uploads.append)
    tasks.follow_sync.run(9)
    assert uploads == ["t1"]


def test_the_poller_hands_due_receipts_to_upload_tasks(monkeypatch):
    """Uploads run as tasks side by side, not one after the other inside the poller's pass."""
    monkeypatch.setattr(follow, "poll_due", lambda: None)
    monkeypatch.setattr(receipts, "transactions_due", lambda: ["t1", "t2"])
    monkeypatch.setattr(receipts, "sweep_receipts", lambda: 0)
    monkeypatch.setattr(sweep, "sweep", SweepResult)
    sent = []
    monkeypatch.setattr(tasks.upload_receipts, "delay", sent.append)
    tasks.poll_syncs.run()
    assert sent == ["t1", "t2"]


@pytest.mark.django_db
def test_resuming_a_send_another_worker_holds_does_nothing(monkeypatch):
    """Found by the chaos run: the poller resumed a sync without claiming it, so two workers
    worked one send at once; one accepted it, the other's late timeout marked it unknown again
    and it was never followed."""
    company = make_company(codat_company_id=uuid.uuid4())
    make_connection(company)
    held = make_sync(
        company,
        codat_sync_id=None,
        status_code=None,
        send_state="unknown",
        claimed_at=timezone.now(),
    )
    waiting = make_sync(company, codat_sync_id=None, status_code=None, send_state="unknown")
    worked = []
    monkeypatch.setattr(
        push, "_send_or_recover", lambda client, context, sync, result: worked.append(sync.pk)
    )

    push.resume_sync(held.pk)
    assert worked == []
    push.resume_sync(waiting.pk)
    assert worked == [waiting.pk]


@pytest.mark.django_db
def test_a_check_our_limiter_held_back_is_no_attempt_and_waits_as_long_as_it_says(monkeypatch):
    """Found when the chaos run met the limiter: with the quota gone, every poll of an unknown
    send was held back and counted, and the sweeper gave the send up within minutes."""
    company = make_company(codat_company_id=uuid.uuid4())
    make_connection(company)
    sync = make_sync(
        company, codat_sync_id=None, status_code=None, send_state="unknown", attempts=3
    )
    held_back = CodatQuotaReservedError(
        "not sent: only the daily quota's reserve is left",
        method="GET",
        path="/companies/x/sync/expenses/syncs/list/status",
        retry_after=3600,
    )

    def locate(*args, **kwargs):
        raise held_back

    monkeypatch.setattr(reconcile, "locate", locate)
    before = timezone.now()
    result = push.resume_sync(sync.pk)

    sync.refresh_from_db()
    assert sync.attempts == 3
    assert result.retry_after == 3600
    assert sync.next_attempt_at >= before + timedelta(seconds=3600)


@pytest.mark.django_db
def test_a_sync_event_task_for_an_event_gone_since_does_nothing(monkeypatch):
    uploads = []
    monkeypatch.setattr(tasks.upload_receipts, "delay", uploads.append)
    tasks.follow_sync_event.run(987654)
    assert uploads == []
