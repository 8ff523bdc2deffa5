"""Workers killed with SIGKILL at random moments of a push lose nothing and do nothing twice.

Real Celery worker processes on Redis push 300 transactions (with receipts) of three companies
to the sandbox over real HTTP while the test kills one of them at random at least ten times,
starting a fresh one each time. The killed worker's half-done work (a claimed batch, a request
on the wire, an unsaved answer, an upload) is left to the claim leases, the poller and Codat's
own duplicate guard. Afterwards every transaction is in the ledger exactly once.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codat_sandbox.models import FaultSettings, LedgerRecord, SandboxAttachment
from codat_sandbox.models import SyncTransaction as SandboxItem
from integrations.syncs import tasks
from integrations.syncs.services import preflight
from integrations.transactions.models import Receipt, Transaction
from tests.integration.helpers import tiny_png
from tests.models.factories import make_receipt

from .helpers import PIPELINE, linked_portal
from .workers import WorkerPool, act_as_beat, outstanding, require_workers

pytestmark = [*PIPELINE, pytest.mark.crash]

COMPANIES = 3
PER_COMPANY = 100
KILLS = 10
DEADLINE_SECONDS = 150
# Short leases and delays: a dead worker's claim is taken over after LEASE seconds.
LEASE = 3
WORKER_SETTINGS = {
    "CODAT_TIMEOUT_SECONDS": 2,
    "SYNC_CLAIM_LEASE_SECONDS": LEASE,
    "SYNC_STALE_QUEUE_SECONDS": LEASE,
    "SYNC_POLL_DELAY_SECONDS": 0,
    "SYNC_POLL_MAX_SECONDS": 1,
    "SYNC_RETRY_BASE_SECONDS": 0,
    "SYNC_RETRY_MAX_SECONDS": 1,
}


@pytest.fixture
def workers(sandbox_url, tmp_path):
    require_workers()
    pool = WorkerPool(
        sandbox_url=sandbox_url, log_dir=tmp_path, size=2, settings_env=WORKER_SETTINGS
    )
    yield pool
    # Before the test database is flushed: a live worker would hold its tables.
    pool.stop()


def spend_with_receipts(codat) -> list[Transaction]:
    rows = []
    for _ in range(COMPANIES):
        portal = linked_portal(codat)
        for n in range(PER_COMPANY):
            txn = portal.expense(net_amount=f"{10 + n}.00", merchant_name=f"Merchant {n}")
            if n % 10 == 0:
                make_receipt(
                    txn,
                    file=SimpleUploadedFile("receipt.png", tiny_png(), "image/png"),
                    original_filename="receipt.png",
                    size=len(tiny_png()),
                    content_type="image/png",
                )
            rows.append(txn)
        assert preflight.preflight_company(portal.company.pk).queued == PER_COMPANY
    return rows


def assert_each_once_in_the_ledger(rows: list[Transaction]) -> None:
    ids = {str(txn.pk) for txn in rows}
    written = Counter(
        record.data.get("transactionId")
        for record in LedgerRecord.objects.filter(data_type="expenseTransactions")
    )
    assert {txn_id: written[txn_id] for txn_id in ids if written[txn_id] != 1} == {}
    completed = Counter(
        SandboxItem.objects.filter(status=SandboxItem.Status.COMPLETED).values_list(
            "transaction_id", flat=True
        )
    )
    assert {txn_id: completed[txn_id] for txn_id in ids if completed[txn_id] != 1} == {}
    statuses = Counter(Transaction.objects.values_list("status", flat=True))
    assert statuses == {Transaction.Status.COMPLETED: len(rows)}
    with_receipts = set(Receipt.objects.values_list("transaction_id", flat=True))
    attached = Counter(
        SandboxAttachment.objects.values_list("transaction__transaction_id", flat=True)
    )
    assert attached == Counter({str(pk): 1 for pk in with_receipts})
    assert set(Receipt.objects.values_list("upload_status", flat=True)) == {"uploaded"}


def test_workers_killed_at_random_moments_lose_nothing_and_send_nothing_twice(codat, workers):
    rows = spend_with_receipts(codat)
    # Each Codat answer takes a moment, so the kills land in the middle of requests too.
    FaultSettings.objects.create(company=None, latency_ms=150)
    rng = random.Random(7)
    started = time.monotonic()
    workers.start()
    for company_id in {txn.company_id for txn in rows}:
        workers.send(tasks.push_company, company_id)

    next_kill = started + rng.uniform(1.5, 3.0)
    beat = 0.0
    while time.monotonic() - started < DEADLINE_SECONDS:
        beat = act_as_beat(workers, beat)
        if not any(outstanding().values()):
            break
        if time.monotonic() >= next_kill and workers.youngest_age() > 1.0:
            workers.kill_one(rng)
            next_kill = time.monotonic() + rng.uniform(0.3, 2.0)
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    workers.stop()

    print(f"crash test: {workers.kills} kills, {elapsed:.1f} s")
    assert workers.kills >= KILLS, f"the work was done after {workers.kills} kills"
    assert not any(outstanding().values()), (outstanding(), workers.logs())
    assert_each_once_in_the_ledger(rows)
