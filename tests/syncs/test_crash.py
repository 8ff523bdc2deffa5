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

import pytest

from codat_sandbox.models import FaultSettings
from integrations.syncs import tasks

from .helpers import PIPELINE
from .workers import (
    act_as_beat,
    assert_each_once_in_the_ledger,
    outstanding,
    spend_with_receipts,
    stuck_report,
)

pytestmark = [*PIPELINE, pytest.mark.crash]

COMPANIES = 3
PER_COMPANY = 100
KILLS = 10
# Kills after this many would only stretch the run: the last ones let the work finish.
MAX_KILLS = 15
DEADLINE_SECONDS = 300
# Short leases and delays: a dead worker's claim is taken over after LEASE seconds.
LEASE = 3
WORKER_SETTINGS = {
    "CODAT_TIMEOUT_SECONDS": 2,
    # A killed worker's Codat request slots come back when their lease runs out; at the default
    # (120 s) a few kills can hold all ten of a company's slots and stall the push for minutes.
    "CODAT_SLOT_LEASE_SECONDS": 5,
    "SYNC_CLAIM_LEASE_SECONDS": LEASE,
    "SYNC_STALE_QUEUE_SECONDS": LEASE,
    "SYNC_POLL_DELAY_SECONDS": 0,
    "SYNC_POLL_MAX_SECONDS": 1,
    "SYNC_RETRY_BASE_SECONDS": 0,
    "SYNC_RETRY_MAX_SECONDS": 1,
}


def test_workers_killed_at_random_moments_lose_nothing_and_send_nothing_twice(codat, worker_pool):
    workers = worker_pool(size=2, settings_env=WORKER_SETTINGS)
    rows = spend_with_receipts(codat, COMPANIES, PER_COMPANY, receipt_every=10)
    # Each Codat answer takes a moment, so the kills land in the middle of requests too, and the
    # push lasts long enough for KILLS kills however quick the pipeline gets (at 150 ms it once
    # finished after 9).
    FaultSettings.objects.create(company=None, latency_ms=300)
    rng = random.Random(7)
    started = time.monotonic()
    workers.start()
    for company_id in {txn.company_id for txn in rows}:
        workers.send(tasks.push_company, company_id)

    next_kill = started + rng.uniform(1.5, 3.0)
    beat = 0.0
    while time.monotonic() - started < DEADLINE_SECONDS:
        beat = act_as_beat(workers, beat)
        left = outstanding()
        if not any(left.values()):
            break
        if int(time.monotonic() - started) % 15 == 0:
            print(f"{time.monotonic() - started:.0f} s: {left}")
        due = time.monotonic() >= next_kill and workers.kills < MAX_KILLS
        if due and workers.youngest_age() > 0.5:
            workers.kill_one(rng)
            next_kill = time.monotonic() + rng.uniform(0.2, 1.0)
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    workers.stop()
    if any(outstanding().values()):
        print("stuck:", *stuck_report(), sep="\n")

    print(f"crash test: {workers.kills} kills, {elapsed:.1f} s")
    assert workers.kills >= KILLS, f"the work was done after {workers.kills} kills"
    assert not any(outstanding().values()), (outstanding(), stuck_report(), workers.logs())
    assert_each_once_in_the_ledger(rows)
