"""Keeping each company's cached ledger fresh: ask Codat to read it, wait, copy it in.

A read moves Requested → Reading → Importing → Done (or Failed), one `LedgerRead` row per read
and at most one open per company. Each step is claimed with a conditional UPDATE that takes a
lease, so two workers never do the same step and a worker killed mid-step leaves an expired
lease that `sweep_reads` hands to another. Codat's `read.completed*` webhooks end the wait;
polling the data status is the fallback when they do not come.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.codat.errors import CodatError
from integrations.codat.factory import codat_client
from integrations.companies.models import AuditEvent, Company, Connection
from integrations.syncs import events

from . import upsert
from .models import LedgerRead, LedgerRefresh

logger = logging.getLogger(__name__)

Status = LedgerRead.Status
Reason = LedgerRead.Reason

# The data types the cache is built from; Codat reads each one separately.
CACHED_DATA_TYPES = frozenset(LedgerRefresh.DataType.values)
# Pull statuses after which Codat will do no more on that data type.
FINISHED_PULL_STATUSES = frozenset(
    {
        "Complete",
        "FetchError",
        "MapError",
        "InternalError",
        "ProcessingError",
        "ValidationError",
        "AuthError",
        "Cancelled",
        "NotSupported",
        "RateLimitError",
        "PermissionsError",
        "PrerequisiteNotMet",
    }
)
# How long a worker may hold a step before another may take it over.
LEASE = timedelta(minutes=10)
# Codat's clock and ours may differ a little when comparing "read after we asked".
CLOCK_SKEW = timedelta(minutes=1)
# After this many tries at one read, it is failed visibly rather than retried for ever.
MAX_ATTEMPTS = 5


def read_timeout() -> timedelta:
    return timedelta(minutes=settings.LEDGER_READ_TIMEOUT_MINUTES)


def refresh_interval() -> timedelta:
    return timedelta(hours=settings.LEDGER_REFRESH_INTERVAL_HOURS)


def poll_delay(checks: int) -> timedelta:
    """Capped exponential wait before the next data-status check (30 s, 1 min, … 15 min)."""
    return timedelta(seconds=min(30 * 2**checks, 900))


# --- Starting a read --------------------------------------------------------------------------


def request_refresh(company: Company, *, reason=Reason.SCHEDULE, actor=None) -> LedgerRead:
    """Ask for a fresh copy of the company's ledger; returns the read that will bring it.

    A read already open is returned instead of starting a second one.
    """
    read, created = _open_read(company, status=Status.REQUESTED, reason=reason, actor=actor)
    if created:
        if actor is not None:
            AuditEvent.record(actor, "ledger.refresh", obj=company, label=str(company))
        _enqueue("start_read", read.pk)
    return read


def await_initial_read(company: Company) -> LedgerRead:
    """After Link, Codat reads the ledger on its own: wait for that read instead of asking."""
    now = timezone.now()
    read, created = _open_read(
        company,
        status=Status.READING,
        reason=Reason.LINK,
        asked_at=now,
        next_check_at=now + poll_delay(0),
    )
    if created:
        _enqueue("check_read", read.pk, countdown=poll_delay(0).total_seconds())
    return read


def _open_read(company, *, status, reason, actor=None, **fields) -> tuple[LedgerRead, bool]:
    existing = LedgerRead.objects.filter(company=company, status__in=LedgerRead.OPEN_STATUSES)
    read = existing.first()
    if read is not None:
        return read, False
    try:
        with transaction.atomic():
            read = LedgerRead.objects.create(
                company=company, status=status, reason=reason, requested_by=actor, **fields
            )
    except IntegrityError:
        # Another process opened one between our look and our insert; theirs stands.
        return existing.get(), False
    return read, True


def start_read(read_id: int) -> bool:
    """Ask Codat to read the ledger (step Requested → Reading). False if nothing to do."""
    read = _claim(read_id, Status.REQUESTED)
    if read is None:
        return False
    try:
        with codat_client() as client:
            client.refresh_all_data_types(str(read.company.codat_company_id))
    except CodatError as exc:
        _step_failed(read, exc)
        raise
    now = timezone.now()
    delay = poll_delay(0)
    LedgerRead.objects.filter(pk=read.pk, status=Status.REQUESTED).update(
        status=Status.READING,
        asked_at=now,
        next_check_at=now + delay,
        lease_until=None,
        error="",
    )
    LedgerRefresh.objects.bulk_create(
        [
            LedgerRefresh(company_id=read.company_id, data_type=data_type, requested_at=now)
            for data_type in CACHED_DATA_TYPES
        ],
        update_conflicts=True,
        unique_fields=["company", "data_type"],
        update_fields=["requested_at"],
    )
    _enqueue("check_read", read.pk, countdown=delay.total_seconds())
    return True


# --- Waiting for Codat --------------------------------------------------------------------------


@events.handles("read.completed", "read.completed.initial")
def on_read_completed(event) -> None:
    """Webhook handler for `read.completed` and `read.completed.initial`.

    Ends the wait of the company's open read. When Codat read the ledger on its own schedule
    and something we cache changed, a read is opened straight at the import step, so the
    cache follows Codat's daily fetch at no extra request.
    """
    payload = event.data
    company = event.company or _company_from(payload)
    if company is None:
        return
    summaries = [
        s for s in payload.get("dataTypes") or [] if s.get("dataType") in CACHED_DATA_TYPES
    ]
    if not summaries:
        return
    read = LedgerRead.objects.filter(company=company, status=Status.READING).first()
    if read is None:
        if not any(s.get("recordsModified") for s in summaries):
            return
        read, created = _open_read(company, status=Status.IMPORTING, reason=Reason.CODAT)
        if not created:
            return  # a read is already on its way and will see the same data
        read.read_at = timezone.now()
        read.save(update_fields=["read_at"])
        _enqueue("import_read", read.pk)
        return
    _finish_reading(read)


def check_read(read_id: int) -> bool:
    """The polling fallback: True when the read no longer waits on Codat (done or timed out).

    Codat's data status says, per data type, how its latest pull went; the read is over when
    each cached type has finished a pull that started after we asked.
    """
    read = LedgerRead.objects.select_related("company").filter(pk=read_id).first()
    if read is None or read.status != Status.READING:
        return True
    with codat_client() as client:
        statuses = client.get_data_status(str(read.company.codat_company_id))
    now = timezone.now()
    if _pulls_finished(statuses, since=read.asked_at):
        _record_pull_errors(read.company, statuses)
        _finish_reading(read)
        return True
    if now >= read.asked_at + read_timeout():
        _fail(
            read,
            f"Codat did not finish reading the ledger within {read_timeout()}; "
            "the next scheduled refresh will try again.",
        )
        return True
    LedgerRead.objects.filter(pk=read.pk, status=Status.READING).update(
        checks=F("checks") + 1, next_check_at=now + poll_delay(read.checks + 1)
    )
    return False


def _pulls_finished(statuses: dict, *, since: datetime | None) -> bool:
    since = (since or timezone.now()) - CLOCK_SKEW
    for data_type in CACHED_DATA_TYPES:
        status = statuses.get(data_type)
        if status is None or status.get("currentStatus") not in FINISHED_PULL_STATUSES:
            return False
        if status.get("currentStatus") == "Complete":
            last = parse_datetime(status.get("lastSuccessfulSync") or "")
            if last is None or last < since:
                return False  # the Complete we see is from before our request
    return True


def _record_pull_errors(company: Company, statuses: dict) -> None:
    failed = [
        LedgerRefresh(
            company=company,
            data_type=data_type,
            error=f"Codat could not read this from the ledger ({status['currentStatus']}).",
        )
        for data_type, status in statuses.items()
        if data_type in CACHED_DATA_TYPES and status.get("currentStatus") != "Complete"
    ]
    LedgerRefresh.objects.bulk_create(
        failed,
        update_conflicts=True,
        unique_fields=["company", "data_type"],
        update_fields=["error"],
    )


def _finish_reading(read: LedgerRead) -> None:
    moved = LedgerRead.objects.filter(pk=read.pk, status=Status.READING).update(
        status=Status.IMPORTING, read_at=timezone.now(), next_check_at=None, lease_until=None
    )
    if moved:
        _enqueue("import_read", read.pk)


# --- Copying it in ------------------------------------------------------------------------------


def import_read(read_id: int) -> bool:
    """Copy what Codat read into the cache (step Importing → Done). False if nothing to do."""
    read = _claim(read_id, Status.IMPORTING)
    if read is None:
        return False
    stamp = timezone.now()
    try:
        with codat_client() as client:
            upsert.import_ledger(client, read.company, stamp=stamp)
    except CodatError as exc:
        _step_failed(read, exc)
        raise
    LedgerRead.objects.filter(pk=read.pk, status=Status.IMPORTING).update(
        status=Status.DONE, finished_at=timezone.now(), lease_until=None, error=""
    )
    return True


# --- Claims, failure, the sweeper and the schedule -----------------------------------------------


def _claim(read_id: int, status: str) -> LedgerRead | None:
    """Take the step `status` of a read for this worker, or None if it is not ours to take."""
    now = timezone.now()
    taken = (
        LedgerRead.objects.filter(pk=read_id, status=status)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not taken:
        return None
    return LedgerRead.objects.select_related("company").get(pk=read_id)


def _step_failed(read: LedgerRead, exc: CodatError) -> None:
    """Release the step for a retry, or give up when Codat's answer cannot change by retrying."""
    if not exc.retryable or read.attempts >= MAX_ATTEMPTS:
        _fail(read, f"Codat refused: {exc}")
        return
    LedgerRead.objects.filter(pk=read.pk, status=read.status).update(
        lease_until=None, error=str(exc)
    )


def _fail(read: LedgerRead, error: str) -> None:
    LedgerRead.objects.filter(pk=read.pk, status__in=LedgerRead.OPEN_STATUSES).update(
        status=Status.FAILED, finished_at=timezone.now(), lease_until=None, error=error
    )
    logger.warning("Ledger read %s of company %s failed: %s", read.pk, read.company_id, error)


def sweep_reads(now: datetime | None = None) -> int:
    """Hand stalled reads to a worker again; give up on ones tried too often. Returns how many."""
    now = now or timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    open_reads = LedgerRead.objects.filter(status__in=LedgerRead.OPEN_STATUSES)
    given_up = open_reads.filter(free, attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED,
        finished_at=now,
        lease_until=None,
        error=f"Gave up after {MAX_ATTEMPTS} attempts.",
    )
    # A read whose step is free and untouched for a lease is one nobody is working on.
    stale = now - LEASE
    requeued = 0
    steps = (
        (Status.REQUESTED, "start_read", Q(created_at__lt=stale)),
        (Status.READING, "check_read", Q(next_check_at__lt=stale) | Q(next_check_at__isnull=True)),
        (Status.IMPORTING, "import_read", Q(read_at__lt=stale) | Q(read_at__isnull=True)),
    )
    for status, step, waiting in steps:
        for read_id in open_reads.filter(free, waiting, status=status).values_list("pk", flat=True):
            _enqueue(step, read_id)
            requeued += 1
    return given_up + requeued


def refresh_due_ledgers(now: datetime | None = None, *, limit: int = 1000) -> int:
    """Open a scheduled read for each linked company whose ledger is older than the interval.

    At most `limit` per run, least recently refreshed first, so a beat every few minutes
    spreads 10,000 companies over the day instead of asking Codat for all of them at once.
    """
    now = now or timezone.now()
    due = (
        Company.objects.filter(
            codat_company_id__isnull=False,
            connections__source_type=Connection.SourceType.ACCOUNTING,
            connections__status=Connection.Status.LINKED,
        )
        .exclude(ledger_reads__status__in=LedgerRead.OPEN_STATUSES)
        .annotate(
            last_read=Max("ledger_reads__created_at", filter=~Q(ledger_reads__status=Status.FAILED))
        )
        .filter(Q(last_read__isnull=True) | Q(last_read__lt=now - refresh_interval()))
        .order_by(F("last_read").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    reads = LedgerRead.objects.bulk_create(
        [LedgerRead(company_id=pk, status=Status.REQUESTED, reason=Reason.SCHEDULE) for pk in due],
        # A read opened meanwhile by a person or a webhook wins; this one is skipped.
        ignore_conflicts=True,
    )
    opened = LedgerRead.objects.filter(
        company_id__in=[r.company_id for r in reads],
        status=Status.REQUESTED,
        reason=Reason.SCHEDULE,
        attempts=0,
    ).values_list("pk", flat=True)
    count = 0
    for read_id in opened:
        _enqueue("start_read", read_id)
        count += 1
    return count


def _company_from(payload: dict) -> Company | None:
    try:
        codat_id = uuid.UUID(str((payload.get("referenceCompany") or {}).get("id")))
    except ValueError:
        return None  # a webhook naming no company, or not in Codat's id format, is nobody's
    return Company.objects.filter(codat_company_id=codat_id).first()


def _enqueue(step: str, read_id: int, *, countdown: float | None = None) -> None:
    from . import tasks

    task = getattr(tasks, step)
    transaction.on_commit(lambda: task.apply_async((read_id,), countdown=countdown))
