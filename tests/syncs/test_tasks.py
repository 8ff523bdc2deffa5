"""The Celery tasks only call the services and own the retry policy."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from integrations.syncs import tasks
from integrations.syncs.services import follow, push, receipts
from integrations.syncs.services.preflight import PreflightResult


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
