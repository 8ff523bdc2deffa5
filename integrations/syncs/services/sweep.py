"""The stuck-work sweeper for the push: what no task is working on any more is handed back,
and what has been tried too often is given up, visibly, with the reason on the row.

The other stages sweep their own rows: open syncs and interrupted sends are the poller's
(`follow.poll_due`), receipts `receipts.sweep_receipts`, ledger reads `ledger.services.
sweep_reads` and webhook events `events.sweep_events`. This module covers the transactions in
flight (queued, pushing, syncing) and the sends that never got an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from integrations.companies.models import Company
from integrations.syncs.models import Sync, SyncTransaction
from integrations.transactions.models import Transaction

from . import preflight, push

Status = Transaction.Status
SendState = Sync.SendState

# A transaction in flight this long with no open sync carrying it was dropped by a crash
# between steps.
STUCK_AFTER = timedelta(minutes=15)


def stale_queue() -> timedelta:
    """How long a queued transaction waits before its push task is taken to be lost."""
    return timedelta(seconds=settings.SYNC_STALE_QUEUE_SECONDS)


def max_attempts() -> int:
    return settings.SYNC_MAX_ATTEMPTS


@dataclass
class SweepResult:
    # Companies whose queued work needs a push task again.
    push_company_ids: list[int] = field(default_factory=list)
    requeued: int = 0
    parked: int = 0
    given_up: int = 0


def sweep(now: datetime | None = None, *, limit: int = 500) -> SweepResult:
    """One pass of the sweeper; the caller enqueues a push for each company returned."""
    now = now or timezone.now()
    result = SweepResult()
    result.given_up += give_up_unsent(now)
    requeued, given_up = requeue_orphans(now, limit=limit)
    result.requeued += requeued
    result.given_up += given_up
    result.parked += park_unpushable(now)
    result.push_company_ids = push.companies_waiting(stale_queue())
    return result


def give_up_unsent(now: datetime) -> int:
    """Fail the sends tried `SYNC_MAX_ATTEMPTS` times without an answer from Codat.

    The sync is closed as refused and its transactions fail with the last error, so a person
    sees why on the row instead of a transaction that says "Sending" for ever.
    """
    given_up = 0
    stuck = push.unsent_syncs().filter(attempts__gte=max_attempts())
    for sync in list(stuck.only("pk", "send_state", "last_error", "total_count")):
        # Conditional on the same filter: a worker that claimed it meanwhile keeps it.
        with db_transaction.atomic():
            if not stuck.filter(pk=sync.pk).update(
                send_state=SendState.REJECTED,
                last_error=f"Gave up after {max_attempts()} attempts: {sync.last_error}",
                failed_count=sync.total_count,
                completed_at=now,
                claimed_at=None,
                next_attempt_at=None,
            ):
                continue
            words = f"Gave up after {max_attempts()} attempts to send it: {sync.last_error}"
            screen = Transaction.Screen.TRANSACTION
            if sync.send_state != SendState.RETRY:
                # Codat may have started the sync before the line went quiet.
                words += " It may be in the ledger already: check there before sending it again."
                screen = Transaction.Screen.LEDGER
            Transaction.objects.filter(sync_items__sync=sync, status=Status.PUSHING).update(
                status=Status.FAILED,
                status_changed_at=now,
                **Transaction.attention(Transaction.AttentionCode.REJECTED_BY_CODAT, words, screen),
            )
        given_up += 1
    return given_up


def requeue_orphans(now: datetime, *, limit: int = 500) -> tuple[int, int]:
    """Transactions pushing or syncing with no open sync carrying them: queue them again, or
    fail them once `SYNC_MAX_ATTEMPTS` syncs have carried them. Returns (requeued, given up).

    Sending again is safe: Codat refuses a transaction id it already holds as "previously
    processed", which the push reconciles instead of writing it twice.
    """
    open_item = SyncTransaction.objects.filter(
        transaction=OuterRef("pk"),
        sync__in=Sync.objects.open(),
    )
    orphans = (
        Transaction.objects.filter(
            status__in=(Status.PUSHING, Status.SYNCING),
            status_changed_at__lt=now - STUCK_AFTER,
        )
        .exclude(Exists(open_item))
        .annotate(carried=Count("sync_items"))
        .values_list("pk", "status", "carried")[:limit]
    )
    requeued = given_up = 0
    for pk, status, carried in list(orphans):
        rows = Transaction.objects.filter(pk=pk, status=status, status_changed_at__lt=now)
        if carried >= max_attempts():
            given_up += rows.update(
                status=Status.FAILED,
                status_changed_at=now,
                **Transaction.attention(
                    Transaction.AttentionCode.REJECTED_BY_CODAT,
                    (
                        f"Gave up after {carried} attempts: no sync finished it. "
                        "Check the ledger before sending it again."
                    ),
                    Transaction.Screen.LEDGER,
                ),
            )
        else:
            requeued += rows.update(status=Status.QUEUED, status_changed_at=now)
    return requeued, given_up


def park_unpushable(now: datetime) -> int:
    """Queued spend of a company that cannot push (its ledger was disconnected after
    pre-flight queued it) goes back through pre-flight, which parks it with the reason and the
    screen that fixes it, instead of sitting in the queue unexplained."""
    parked = 0
    stale = Transaction.objects.filter(
        status=Status.QUEUED, status_changed_at__lt=now - stale_queue()
    )
    for company in Company.objects.filter(Exists(stale.filter(company=OuterRef("pk")))):
        if push.can_push(company):
            continue
        ids = list(stale.filter(company=company).values_list("pk", flat=True))
        Transaction.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            status=Status.READY, status_changed_at=now
        )
        parked += preflight.preflight_company(company.pk, transaction_ids=ids).needs_attention
    return parked
