"""Stage 8: each company's automatic sync, on its own schedule.

Beat calls `claim_due_companies` every minute; it returns the companies whose run is due and
that this call won, and the task hands each to pre-flight (which passes queued work to the
push). A run is claimed by a conditional UPDATE that moves the company's due time forward, so
two beat ticks, or two beat processes by mistake, never start the same run twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.companies.models import Company, Connection
from integrations.transactions.models import Transaction

from .preflight import CHECKED_STATUSES

# Companies started per beat tick; the rest stay due and go on the next tick, oldest first.
BATCH = 200
# Beat ticks every minute, a few milliseconds late or early. A run due within this much of a
# tick goes on that tick: otherwise a run claimed at 12:00:00.6 with a one-minute interval is
# not yet due at 12:01:00.5 and waits for 12:02, halving the pace. Under a beat period, so one
# run is never claimed on two ticks.
DUE_SLACK = timedelta(seconds=30)


def _due(now: datetime):
    return Q(auto_sync_due_at__isnull=True) | Q(auto_sync_due_at__lte=now + DUE_SLACK)


def due_companies(now: datetime | None = None, *, limit: int = BATCH):
    """Ids and intervals of enabled, linked companies that are due and have spend to check.

    One query: the partial index on the due time finds the candidates; the company's spend
    waiting for pre-flight (ready, or parked until a mapping is fixed) decides whether a run
    has anything to do, so idle companies cost no task.
    """
    now = now or timezone.now()
    waiting = Transaction.objects.filter(company=OuterRef("pk"), status__in=CHECKED_STATUSES)
    linked = Connection.objects.filter(
        company=OuterRef("pk"),
        source_type=Connection.SourceType.ACCOUNTING,
        status=Connection.Status.LINKED,
    )
    return (
        Company.objects.filter(_due(now), auto_sync_enabled=True, codat_company_id__isnull=False)
        .filter(Exists(linked), Exists(waiting))
        .order_by("auto_sync_due_at", "pk")
        .values_list("pk", "auto_sync_interval_minutes")[:limit]
    )


def claim_run(company_id: int, interval_minutes: int, now: datetime) -> bool:
    """Take the company's due run for this caller; False when another caller took it first."""
    return bool(
        Company.objects.filter(_due(now), pk=company_id, auto_sync_enabled=True).update(
            auto_synced_at=now,
            auto_sync_due_at=now + timedelta(minutes=interval_minutes),
        )
    )


def claim_due_companies(now: datetime | None = None, *, limit: int = BATCH) -> list[int]:
    """The due companies this caller won, each one's next run already moved forward."""
    now = now or timezone.now()
    return [
        pk for pk, interval in list(due_companies(now, limit=limit)) if claim_run(pk, interval, now)
    ]


def choose_schedule(company: Company, *, enabled: bool, interval_minutes: int, actor=None) -> None:
    """A person's choice of the automatic sync (on or off, how often), from the portal.

    The next run is due one interval from now when it is switched on or its interval changes,
    so shortening "once a day" to "every hour" takes effect within the hour rather than after
    the day already scheduled. The choice itself is stored (auto_sync_chosen_at): it is what
    completes the onboarding step.
    """
    from integrations.companies.models import AuditEvent

    now = timezone.now()
    before = AuditEvent.snapshot(company, ["auto_sync_enabled", "auto_sync_interval_minutes"])
    changed = (enabled, interval_minutes) != (
        company.auto_sync_enabled,
        company.auto_sync_interval_minutes,
    )
    company.auto_sync_enabled = enabled
    company.auto_sync_interval_minutes = interval_minutes
    company.auto_sync_chosen_at = now
    fields = ["auto_sync_enabled", "auto_sync_interval_minutes", "auto_sync_chosen_at"]
    if changed and enabled:
        company.auto_sync_due_at = now + timedelta(minutes=interval_minutes)
        fields.append("auto_sync_due_at")
    company.save(update_fields=fields)
    AuditEvent.record(
        actor,
        "sync.schedule",
        obj=company,
        before=before,
        after=AuditEvent.snapshot(company, ["auto_sync_enabled", "auto_sync_interval_minutes"]),
    )
