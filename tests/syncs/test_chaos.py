"""The chaos run: 2,000 transactions of 20 companies through a sandbox that misbehaves.

A fifth of the sandbox's answers are 5xx, one in twenty times out (the sandbox sleeps past the
client's timeout, then does the work anyway, so the outcome is unknown to the sender), and now
and then the quota runs out for a moment (every answer 429 until it comes back). Real Celery
worker processes on Redis do the push; the test only plays beat. Afterwards every transaction is
synced, none twice, and every receipt is uploaded once.
"""

from __future__ import annotations

import copy
import math
import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from codat_sandbox import limits
from codat_sandbox.errors import ApiError
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

pytestmark = [*PIPELINE, pytest.mark.chaos]

COMPANIES = 20
PER_COMPANY = 100
ERROR_PERCENT = 20
TIMEOUT_SHARE = 0.05
# The sandbox sleeps this long on a request that times out; the client gives up after one.
SANDBOX_TIMEOUT_SECONDS = 2
DEADLINE_SECONDS = 420
WORKER_SETTINGS = {
    "CODAT_TIMEOUT_SECONDS": 1,
    # Outlasts the slowest request (the client's timeout) with room for a loaded machine.
    "SYNC_CLAIM_LEASE_SECONDS": 6,
    "SYNC_STALE_QUEUE_SECONDS": 10,
    "SYNC_POLL_DELAY_SECONDS": 1,
    "SYNC_POLL_MAX_SECONDS": 2,
    "SYNC_RETRY_BASE_SECONDS": 1,
    "SYNC_RETRY_MAX_SECONDS": 3,
}


class Chaos:
    """The sandbox's global fault row, with two things the row cannot say by itself.

    The row's timeout applies to every request it covers; here it applies to a random 5 %
    (the others see the row without it). A quota burst's 429 says to come back when the burst
    ends, where the real quota would name the next UTC midnight.
    """

    def __init__(self, rng: random.Random, monkeypatch):
        self.rng = rng
        self.lock = threading.Lock()
        self.answers: Counter = Counter()
        self.burst_ends = 0.0
        self.bursts = 0
        self.row = FaultSettings.objects.create(
            company=None, error_rate=ERROR_PERCENT, timeout_seconds=SANDBOX_TIMEOUT_SECONDS
        )
        faults_for, inject_faults = limits.faults_for, limits.inject_faults

        def sometimes_slow(company_id):
            row = faults_for(company_id)
            with self.lock:
                times_out = self.rng.random() < TIMEOUT_SHARE
            if row is None or not row.timeout_seconds or times_out:
                return row
            calm = copy.copy(row)
            calm.timeout_seconds = 0
            return calm

        def counted(faults, headers, now):
            outcome = "timeout" if faults is not None and faults.timeout_seconds else "ok"
            try:
                inject_faults(faults, headers, now)
            except ApiError as exc:
                outcome = exc.status
                raise
            finally:
                with self.lock:
                    self.answers[outcome] += 1

        monkeypatch.setattr(limits, "faults_for", sometimes_slow)
        monkeypatch.setattr(limits, "inject_faults", counted)
        monkeypatch.setattr(
            limits,
            "seconds_until_reset",
            lambda now: max(math.ceil(self.burst_ends - time.monotonic()), 1),
        )

        def reset_when_the_burst_ends(now):
            # X-Rate-Limit-Reset must agree with Retry-After: the portal's limiter keeps
            # background work back until the reset the headers name. The quota here comes back
            # whenever a burst ends, so the next reset is at most a second away outside bursts:
            # the sandbox's cached fault row can outlast a burst by a moment, and a 429 then
            # naming midnight would hold every worker back for the rest of the day.
            left = self.burst_ends - time.monotonic()
            return now + timedelta(seconds=max(math.ceil(left), 1))

        monkeypatch.setattr(limits, "next_reset", reset_when_the_burst_ends)

    def quota(self, exhausted: bool, seconds: float = 0) -> None:
        if exhausted:
            self.burst_ends = time.monotonic() + seconds
            self.bursts += 1
        self.row.quota_exhausted = exhausted
        self.row.save(update_fields=["quota_exhausted"])


def test_two_thousand_transactions_through_errors_timeouts_and_quota_bursts(
    codat, worker_pool, monkeypatch
):
    workers = worker_pool(size=2, threads=6, settings_env=WORKER_SETTINGS)
    rows = spend_with_receipts(codat, COMPANIES, PER_COMPANY, receipt_every=2)
    rng = random.Random(2000)
    chaos = Chaos(rng, monkeypatch)
    started = time.monotonic()
    workers.start()
    for company_id in {txn.company_id for txn in rows}:
        workers.send(tasks.push_company, company_id)

    beat = 0.0
    next_burst = started + rng.uniform(3, 8)
    while time.monotonic() - started < DEADLINE_SECONDS:
        beat = act_as_beat(workers, beat)
        left = outstanding()
        if not any(left.values()):
            break
        if int(time.monotonic() - started) % 15 == 0:
            print(f"{time.monotonic() - started:.0f} s: {left}")
        now = time.monotonic()
        if chaos.row.quota_exhausted and now >= chaos.burst_ends:
            chaos.quota(exhausted=False)
            next_burst = now + rng.uniform(5, 12)
        elif not chaos.row.quota_exhausted and now >= next_burst:
            chaos.quota(exhausted=True, seconds=rng.uniform(1, 3))
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    workers.stop()
    if any(outstanding().values()):
        print("stuck:", *stuck_report(), sep="\n")

    answers = dict(chaos.answers)
    print(f"chaos run: {elapsed:.1f} s, {chaos.bursts} quota bursts, answers {answers}")
    assert not any(outstanding().values()), (outstanding(), stuck_report(), answers)
    assert chaos.bursts and answers.get(429) and answers.get("timeout")
    assert_each_once_in_the_ledger(rows)
