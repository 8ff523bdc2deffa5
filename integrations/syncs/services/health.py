"""Sync health summaries: what the staff pages read, kept current as the pipeline moves.

Entry points (everything else here is their machinery):

* ``rebuild_all()`` recomputes every summary from the pipeline's own rows, set-based (a fixed
  number of grouped queries whatever the number of companies). Call it after bulk-loading data
  (``seed_demo --companies ...``) or whenever the summaries are in doubt.
* ``refresh_company_health(company_id)`` recomputes one company's row; the services call it
  where a company's state changes (connections, receipts, pre-flight, staff actions).
* ``sync_closed(sync)`` is the hook for a sync reaching its end (follow, webhook, refused send):
  it files the sync's failures into error clusters, resolves clusters whose transactions are
  now in the ledger, recounts the sync's hour and refreshes the company.
* ``repair()`` is the beat task's pass (every 5 minutes): it recomputes what changed since the
  last pass plus the oldest rows, the last two days of hourly buckets and the open clusters,
  so a missed hook (a crash between the pipeline's commit and ours) heals on its own.

The health *score* is computed in one function, ``health_score``; the health *label* is
``Company.health_from``. Hooks never break the pipeline: ``safely`` runs them in a savepoint
and logs a failure, which the next repair corrects.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction as db_transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from integrations.codat.errors import is_previously_processed
from integrations.companies.models import Company, Connection
from integrations.ledger.models import ExpenseCategory
from integrations.syncs.models import (
    CompanyHealth,
    ErrorCluster,
    ErrorClusterMember,
    Sync,
    SyncHour,
    SyncTransaction,
)
from integrations.transactions.models import Receipt, Transaction

logger = logging.getLogger(__name__)

Status = Transaction.Status
Health = Company.Health
Outcome = SyncHour.Outcome

# Spend that has not reached the ledger and is not settled otherwise (drafts are the
# partner's own business; "handled outside the portal" is settled).
WAITING_STATUSES = (
    Status.READY,
    Status.NEEDS_ATTENTION,
    Status.QUEUED,
    Status.PUSHING,
    Status.SYNCING,
    Status.FAILED,
)
FAILED_ITEM_STATUSES = (SyncTransaction.Status.VALIDATION_ERROR, SyncTransaction.Status.PUSH_ERROR)
# An open sync older than this is stuck even before Codat says 1010.
STUCK_AFTER = timedelta(minutes=30)
RECENT = timedelta(days=7)
REPAIR_CACHE_KEY = "health:last-repair"
REPAIR_BATCH = 500
# SQLite caps a statement's parameters; chunks keep `pk IN (...)` lists under it.
CHUNK = 500

# A finished sync that failed: a 3xxx+ code, or Codat refused the request outright (400).
FAILED_SYNC = Q(status_code__gte=3000) | Q(send_state=Sync.SendState.REJECTED, failed_count__gt=0)
SUCCESS_SYNC = Q(status_code__gte=2000, status_code__lt=3000)
OPEN_SYNC = (Q(status_code__isnull=True) | Q(status_code__lt=2000)) & ~Q(
    send_state=Sync.SendState.REJECTED
)


def safely(func, *args, **kwargs):
    """Run a summary hook without letting it fail the pipeline step that called it."""
    try:
        with db_transaction.atomic():
            return func(*args, **kwargs)
    except Exception:
        logger.exception("Sync health hook %s failed; the next repair corrects it", func.__name__)
        return None


# --- The score ----------------------------------------------------------------------------------


def health_score(
    *,
    connection_status: str,
    health: str,
    stuck: bool,
    last_success_at: datetime | None,
    syncs_7d: int,
    failed_syncs_7d: int,
    oldest_waiting_at: datetime | None,
    failed_count: int,
    unmapped_categories: int,
    receipts_failing: int,
    now: datetime,
) -> int:
    """How urgently a company needs a person, 0 (fine) to 100; the triage list sorts by it.

    The one place the weights live. The connection weighs most (nothing moves without it),
    then failures and stuck syncs, then how long spend has waited, then the slow-burning
    problems (unmapped categories, receipts the ledger refused).
    """
    score = 0
    if connection_status == Connection.Status.DEAUTHORIZED:
        score += 40
    elif connection_status in (Connection.Status.UNLINKED, Connection.Status.PENDING_AUTH):
        score += 15
    elif not connection_status:
        score += 5  # still onboarding
    if health == Health.FAILING:
        score += 20
    if stuck:
        score += 15
    if syncs_7d:
        score += round(20 * failed_syncs_7d / syncs_7d)
    if last_success_at is None:
        score += 5 if syncs_7d else 0
    elif now - last_success_at > timedelta(days=7):
        score += 8
    elif now - last_success_at > timedelta(days=1):
        score += 4
    if oldest_waiting_at is not None:
        waited = now - oldest_waiting_at
        if waited > timedelta(days=7):
            score += 12
        elif waited > timedelta(days=1):
            score += 8
        elif waited > timedelta(hours=1):
            score += 3
    if failed_count:
        score += 5 + min(failed_count, 5)
    score += 2 * min(unmapped_categories, 5)
    score += 2 * min(receipts_failing, 5)
    return max(0, min(score, 100))


# --- Computing company rows ---------------------------------------------------------------------

SUMMARY_FIELDS = [f.name for f in CompanyHealth._meta.concrete_fields if f.name not in ("company",)]


def _chunks(ids: list, size: int = CHUNK):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def compute(company_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> list:
    """Unsaved CompanyHealth rows for these companies (None: all), in six grouped queries."""
    now = now or timezone.now()
    companies = Company.objects.all()
    syncs = Sync.objects.all()
    txns = Transaction.objects.filter(status__in=WAITING_STATUSES)
    categories = ExpenseCategory.objects.filter(is_active=True).filter(
        Q(mapping__isnull=True) | Q(mapping__account__isnull=True)
    )
    receipts = Receipt.objects.filter(upload_status__in=Receipt.LOST_STATUSES)
    if company_ids is not None:
        ids = list(company_ids)
        companies = companies.filter(pk__in=ids)
        syncs = syncs.filter(company_id__in=ids)
        txns = txns.filter(company_id__in=ids)
        categories = categories.filter(company_id__in=ids)
        receipts = receipts.filter(transaction__company_id__in=ids)

    accounting = Connection.objects.filter(
        company=OuterRef("pk"), source_type=Connection.SourceType.ACCOUNTING
    ).order_by("-created_at", "-pk")
    latest_failure = Sync.objects.filter(FAILED_SYNC, company=OuterRef("pk")).order_by(
        "-completed_at", "-pk"
    )
    base = companies.with_health().annotate(
        platform_key=Subquery(accounting.values("platform_key")[:1]),
        platform_name=Subquery(accounting.values("platform_name")[:1]),
        last_failure_code=Subquery(latest_failure.values("status_code")[:1]),
        last_failure_error=Subquery(latest_failure.values("error_message")[:1]),
        last_failure_refusal=Subquery(latest_failure.values("last_error")[:1]),
    )
    rows = list(
        base.values(
            "pk",
            "accounting_status",
            "latest_sync_pk",
            "latest_sync_code",
            "latest_sync_send_state",
            "platform_key",
            "platform_name",
            "last_failure_code",
            "last_failure_error",
            "last_failure_refusal",
        )
    )
    week_ago = now - RECENT
    finished = Q(completed_at__gte=week_ago)
    sync_stats = {
        row["company_id"]: row
        for row in syncs.values("company_id").annotate(
            last_sync_at=Max("requested_at"),
            last_success_at=Max("completed_at", filter=SUCCESS_SYNC),
            last_failure_at=Max("completed_at", filter=FAILED_SYNC),
            syncs_7d=Count("pk", filter=finished & (SUCCESS_SYNC | FAILED_SYNC)),
            failed_syncs_7d=Count("pk", filter=finished & FAILED_SYNC),
            stuck=Count(
                "pk",
                filter=OPEN_SYNC
                & (
                    Q(status_code=Sync.StatusCode.LONG_RUNNING)
                    | Q(requested_at__lt=now - STUCK_AFTER)
                ),
            ),
        )
    }
    txn_stats = {
        row["company_id"]: row
        for row in txns.values("company_id").annotate(
            waiting=Count("pk"),
            oldest=Min("created_at"),
            failed=Count("pk", filter=Q(status=Status.FAILED)),
            attention=Count("pk", filter=Q(status=Status.NEEDS_ATTENTION)),
        )
    }
    unmapped = dict(
        categories.values("company_id").annotate(n=Count("pk")).values_list("company_id", "n")
    )
    lost = dict(
        receipts.values("transaction__company_id")
        .annotate(n=Count("pk"))
        .values_list("transaction__company_id", "n")
    )

    result = []
    for row in rows:
        pk = row["pk"]
        s = sync_stats.get(pk, {})
        t = txn_stats.get(pk, {})
        health = Company.health_from(
            row["accounting_status"],
            row["latest_sync_pk"],
            row["latest_sync_code"],
            row["latest_sync_send_state"] or "",
        )
        values = {
            "health": health,
            "stuck": bool(s.get("stuck")),
            "connection_status": row["accounting_status"] or "",
            "platform_key": row["platform_key"] or "",
            "platform_name": row["platform_name"] or "",
            "last_sync_at": s.get("last_sync_at"),
            "last_status_code": row["latest_sync_code"],
            "last_success_at": s.get("last_success_at"),
            "last_failure_at": s.get("last_failure_at"),
            "last_failure_code": row["last_failure_code"],
            "last_failure_message": (
                row["last_failure_error"] or row["last_failure_refusal"] or ""
            )[:1000],
            "syncs_7d": s.get("syncs_7d", 0),
            "failed_syncs_7d": s.get("failed_syncs_7d", 0),
            "waiting_count": t.get("waiting", 0),
            "oldest_waiting_at": t.get("oldest"),
            "failed_count": t.get("failed", 0),
            "attention_count": t.get("attention", 0),
            "unmapped_categories": unmapped.get(pk, 0),
            "receipts_failing": lost.get(pk, 0),
            "refreshed_at": now,
        }
        values["score"] = health_score(
            connection_status=values["connection_status"],
            health=health,
            stuck=values["stuck"],
            last_success_at=values["last_success_at"],
            syncs_7d=values["syncs_7d"],
            failed_syncs_7d=values["failed_syncs_7d"],
            oldest_waiting_at=values["oldest_waiting_at"],
            failed_count=values["failed_count"],
            unmapped_categories=values["unmapped_categories"],
            receipts_failing=values["receipts_failing"],
            now=now,
        )
        result.append(CompanyHealth(company_id=pk, **values))
    return result


def save_rows(rows: list) -> None:
    CompanyHealth.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["company"],
        update_fields=SUMMARY_FIELDS,
        batch_size=1000,
    )


def refresh_companies(company_ids: Iterable[int], *, now: datetime | None = None) -> int:
    ids = sorted(set(company_ids))
    for chunk in _chunks(ids):
        save_rows(compute(chunk, now=now))
    return len(ids)


def refresh_company_health(company_id: int) -> CompanyHealth | None:
    """Recompute one company's summary row now (a company that is gone has none)."""
    rows = compute([company_id])
    save_rows(rows)
    return rows[0] if rows else None


def refresh_soon(company_id: int) -> None:
    """refresh_company_health once the caller's transaction commits, never failing it."""
    db_transaction.on_commit(lambda: safely(refresh_company_health, company_id))


# --- Error clusters -----------------------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I)
_QUOTED = re.compile("'[^']*'|\"[^\"]*\"|\u2018[^\u2019]*\u2019|\u201c[^\u201d]*\u201d")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")
_AMOUNT = re.compile(
    r"(?:[$£€¥]|\b[A-Z]{3}\s?)?-?\d{1,3}(?:[,\s]\d{3})*\.\d+\b|(?:[$£€¥])-?\d+(?:[.,]\d+)?"
)
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b", re.I)
_NUMBER = re.compile(r"\b(?=[\w-]*\d)[A-Za-z]+[-_]?\d[\w-]*\b|(?<![<\w])-?\d+(?:\.\d+)?(?![\w>])")
# ISO codes of the currencies customers spend in most: "GBP does not match EUR" and "USD does
# not match EUR" are one cause. (Not every upper-case word: "QBO" or "VAT" carry meaning.)
_CURRENCY = re.compile(
    r"\b(?:AUD|BRL|CAD|CHF|CNY|CZK|DKK|EUR|GBP|HKD|INR|JPY|MXN|NOK|NZD|PLN|SEK|SGD|USD|ZAR)\b"
)
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """Codat's message with what differs between occurrences of one cause taken out.

    Ids (UUIDs, long hex, mixed letter-and-digit codes), quoted names, emails, dates, amounts,
    plain numbers and currency codes become placeholders, so "Account '7400' is archived" for
    two customers is one pattern. Pure; the order matters (a UUID contains numbers, a quoted
    id contains both).
    """
    text = (message or "").strip()
    text = _UUID.sub("<id>", text)
    text = _EMAIL.sub("<email>", text)
    text = _QUOTED.sub("'<value>'", text)
    text = _DATE.sub("<date>", text)
    text = _AMOUNT.sub("<amount>", text)
    text = _HEX.sub("<id>", text)
    text = _NUMBER.sub("<n>", text)
    text = _CURRENCY.sub("<currency>", text)
    text = _SPACE.sub(" ", text).strip().rstrip(".")
    return text[:2000] or "(no message)"


def cluster_key(status_code: int | None, item_status: str, pattern: str) -> str:
    raw = f"{status_code or ''}|{item_status}|{pattern}"
    return hashlib.sha256(raw.encode()).hexdigest()


def file_failures(sync: Sync, *, now: datetime | None = None) -> set[int]:
    """File the sync's failed transactions into clusters; the ids of the clusters touched."""
    now = now or timezone.now()
    items = list(
        SyncTransaction.objects.filter(sync=sync, status__in=FAILED_ITEM_STATUSES).values_list(
            "transaction_id", "status", "message"
        )
    )
    # "Previously processed" and 5080 mean the transaction is already in the ledger: the
    # reconcile adopts it, it is no failure of anyone's.
    if sync.status_code == Sync.StatusCode.DUPLICATE:
        return set()
    items = [i for i in items if not is_previously_processed(i[2] or "")]
    if not items:
        return set()
    code = sync.status_code
    groups: dict[str, dict] = {}
    for transaction_id, item_status, message in items:
        pattern = normalise_message(message)
        key = cluster_key(code, item_status, pattern)
        group = groups.setdefault(
            key,
            {"pattern": pattern, "item_status": item_status, "sample": message, "items": []},
        )
        group["items"].append((transaction_id, message))
    ErrorCluster.objects.bulk_create(
        [
            ErrorCluster(
                key=key,
                status_code=code,
                item_status=g["item_status"],
                pattern=g["pattern"],
                sample_message=(g["sample"] or "")[:2000],
                first_seen_at=now,
                last_seen_at=now,
            )
            for key, g in groups.items()
        ],
        ignore_conflicts=True,
    )
    clusters = dict(ErrorCluster.objects.filter(key__in=list(groups)).values_list("key", "pk"))
    members = []
    for key, g in groups.items():
        for transaction_id, message in g["items"]:
            members.append(
                ErrorClusterMember(
                    cluster_id=clusters[key],
                    transaction_id=transaction_id,
                    company_id=sync.company_id,
                    sync_id=sync.pk,
                    message=(message or "")[:2000],
                    first_seen_at=now,
                    last_seen_at=now,
                    resolved_at=None,
                )
            )
    ErrorClusterMember.objects.bulk_create(
        members,
        update_conflicts=True,
        unique_fields=["cluster", "transaction"],
        update_fields=["sync", "message", "last_seen_at", "resolved_at"],
        batch_size=500,
    )
    touched = set(clusters.values())
    # A transaction that now fails for another reason has moved on from its old cause.
    failed_ids = [i[0] for i in items]
    moved = ErrorClusterMember.objects.filter(
        transaction_id__in=failed_ids, resolved_at__isnull=True
    ).exclude(cluster_id__in=touched)
    touched |= set(moved.values_list("cluster_id", flat=True))
    moved.update(resolved_at=now)
    return touched


def file_all_failures(since: datetime, *, now: datetime | None = None) -> set[int]:
    """`file_failures` for every sync finished since `since`, set-based (for rebuild_all).

    Failed items are read once, oldest sync first, so each transaction's latest failure is its
    open membership and an earlier one with another cause is resolved, as the hook does.
    """
    now = now or timezone.now()
    items = (
        SyncTransaction.objects.filter(
            sync__completed_at__gte=since, status__in=FAILED_ITEM_STATUSES
        )
        .exclude(sync__status_code=Sync.StatusCode.DUPLICATE)
        .order_by("sync__completed_at", "sync_id")
        .values_list(
            "transaction_id",
            "status",
            "message",
            "sync_id",
            "sync__status_code",
            "sync__company_id",
            "sync__completed_at",
        )
    )
    clusters: dict[str, dict] = {}
    members: dict[tuple, dict] = {}
    latest: dict = {}
    for txn, item_status, message, sync_id, code, company_id, at in items.iterator(5000):
        if is_previously_processed(message or ""):
            continue
        pattern = normalise_message(message)
        key = cluster_key(code, item_status, pattern)
        clusters.setdefault(
            key,
            {"code": code, "item_status": item_status, "pattern": pattern, "sample": message},
        )
        member = members.setdefault(
            (key, txn), {"company": company_id, "first": at, "message": message}
        )
        member.update(last=at, sync=sync_id, message=message)
        latest[txn] = (key, at)
    ErrorCluster.objects.bulk_create(
        [
            ErrorCluster(
                key=key,
                status_code=c["code"],
                item_status=c["item_status"],
                pattern=c["pattern"],
                sample_message=(c["sample"] or "")[:2000],
            )
            for key, c in clusters.items()
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    ids: dict[str, int] = {}
    keys = list(clusters)
    for chunk in _chunks(keys):
        ids.update(ErrorCluster.objects.filter(key__in=chunk).values_list("key", "pk"))
    rows = []
    for (key, txn), m in members.items():
        newest_key, newest_at = latest[txn]
        rows.append(
            ErrorClusterMember(
                cluster_id=ids[key],
                transaction_id=txn,
                company_id=m["company"],
                sync_id=m["sync"],
                message=(m["message"] or "")[:2000],
                first_seen_at=m["first"] or now,
                last_seen_at=m["last"] or now,
                # A later failure with another cause: this one was moved on from then.
                resolved_at=None if newest_key == key else (newest_at or now),
            )
        )
    ErrorClusterMember.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["cluster", "transaction"],
        update_fields=["sync", "message", "first_seen_at", "last_seen_at", "resolved_at"],
        batch_size=1000,
    )
    return set(ids.values())


def resolve_completed(
    transaction_ids: Iterable | None = None, *, now: datetime | None = None
) -> set[int]:
    """Resolve open memberships whose transaction reached the ledger (or was settled by hand);
    the ids of the clusters touched."""
    now = now or timezone.now()
    open_members = ErrorClusterMember.objects.filter(
        resolved_at__isnull=True,
        transaction__status__in=[Status.COMPLETED, Status.HANDLED],
    )
    if transaction_ids is not None:
        open_members = open_members.filter(transaction_id__in=list(transaction_ids))
    touched = set(open_members.values_list("cluster_id", flat=True).distinct())
    if touched:
        ErrorClusterMember.objects.filter(
            pk__in=list(open_members.values_list("pk", flat=True))
        ).update(resolved_at=now)
    return touched


def recount_clusters(cluster_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Counts, first/last seen and open/resolved from the members (one grouped query)."""
    ids = list(cluster_ids)
    if not ids:
        return
    now = now or timezone.now()
    is_open = Q(resolved_at__isnull=True)
    stats = (
        ErrorClusterMember.objects.filter(cluster_id__in=ids)
        .values("cluster_id")
        .annotate(
            open_txns=Count("pk", filter=is_open),
            open_companies=Count("company", filter=is_open, distinct=True),
            total=Count("pk"),
            companies=Count("company", distinct=True),
            first=Min("first_seen_at"),
            last=Max("last_seen_at"),
        )
    )
    for row in stats:
        state = ErrorCluster.State.OPEN if row["open_txns"] else ErrorCluster.State.RESOLVED
        ErrorCluster.objects.filter(pk=row["cluster_id"]).update(
            transactions_count=row["open_txns"],
            companies_count=row["open_companies"],
            total_transactions=row["total"],
            total_companies=row["companies"],
            first_seen_at=row["first"],
            last_seen_at=row["last"],
            state=state,
        )
    # resolved_at: set when a cluster goes resolved, cleared when it opens again.
    ErrorCluster.objects.filter(
        pk__in=ids, state=ErrorCluster.State.RESOLVED, resolved_at__isnull=True
    ).update(resolved_at=now)
    ErrorCluster.objects.filter(pk__in=ids, state=ErrorCluster.State.OPEN).exclude(
        resolved_at=None
    ).update(resolved_at=None)


# --- Hourly buckets -----------------------------------------------------------------------------


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def recount_hours(since: datetime, until: datetime | None = None) -> None:
    """Rebuild the buckets of every hour from `since`'s hour up to `until` (now)."""
    start = _hour(since)
    until = until or timezone.now()
    outcome_filters = {
        Outcome.SUCCESS: Q(status_code__gte=2000, status_code__lt=3000)
        & ~Q(status_code=Sync.StatusCode.SUCCESS_NOTHING_WRITTEN),
        Outcome.EMPTY: Q(status_code=Sync.StatusCode.SUCCESS_NOTHING_WRITTEN),
        Outcome.FAILED: FAILED_SYNC,
    }
    counts = (
        Sync.objects.filter(completed_at__gte=start, completed_at__lte=until)
        .annotate(bucket=TruncHour("completed_at"))
        .values("bucket")
        .annotate(**{o.value: Count("pk", filter=f) for o, f in outcome_filters.items()})
    )
    rows = []
    for row in counts:
        for outcome in Outcome:
            if row[outcome.value]:
                rows.append(SyncHour(hour=row["bucket"], outcome=outcome, count=row[outcome.value]))
    with db_transaction.atomic():
        SyncHour.objects.filter(hour__gte=start, hour__lte=until).delete()
        SyncHour.objects.bulk_create(rows, batch_size=1000)


# --- Hooks --------------------------------------------------------------------------------------


def sync_closed(sync: Sync | int) -> None:
    """A sync reached its end (or was refused): clusters, its hour, its company."""
    sync = sync if isinstance(sync, Sync) else Sync.objects.get(pk=sync)
    now = timezone.now()
    # Seen when Codat finished the sync, not when this hook ran (a late webhook, a repair).
    touched = file_failures(sync, now=sync.completed_at or now)
    carried = list(
        SyncTransaction.objects.filter(sync=sync).values_list("transaction_id", flat=True)
    )
    touched |= resolve_completed(carried, now=now)
    recount_clusters(touched, now=now)
    when = sync.completed_at or now
    recount_hours(when, _hour(when) + timedelta(hours=1) - timedelta(microseconds=1))
    refresh_company_health(sync.company_id)


def sync_closed_soon(sync_id: int) -> None:
    """sync_closed after the caller's transaction commits, never failing the caller."""
    db_transaction.on_commit(lambda: safely(sync_closed, sync_id))


# --- Repair and rebuild -------------------------------------------------------------------------


@dataclass
class RepairResult:
    companies: int = 0
    clusters: int = 0


def repair(now: datetime | None = None) -> RepairResult:
    """The beat task's pass: recompute what moved since the last pass, and the stalest rows."""
    now = now or timezone.now()
    since = cache.get(REPAIR_CACHE_KEY) or (now - timedelta(hours=1))
    since = min(since, now) - timedelta(minutes=1)  # overlap: a clock edge loses nothing
    moved = set(
        Sync.objects.filter(Q(requested_at__gte=since) | Q(completed_at__gte=since))
        .values_list("company_id", flat=True)
        .distinct()
    )
    moved |= set(
        Transaction.objects.filter(status_changed_at__gte=since)
        .values_list("company_id", flat=True)
        .distinct()
    )
    missing = set(
        Company.objects.filter(health_summary__isnull=True).values_list("pk", flat=True)[
            :REPAIR_BATCH
        ]
    )
    stalest = set(
        CompanyHealth.objects.order_by("refreshed_at").values_list("company_id", flat=True)[
            :REPAIR_BATCH
        ]
    )
    result = RepairResult()
    result.companies = refresh_companies(moved | missing | stalest, now=now)
    touched = resolve_completed(now=now)
    touched |= set(
        ErrorCluster.objects.filter(state=ErrorCluster.State.OPEN).values_list("pk", flat=True)
    )
    recount_clusters(touched, now=now)
    result.clusters = len(touched)
    recount_hours(now - timedelta(hours=48), now)
    cache.set(REPAIR_CACHE_KEY, now, timeout=None)
    return result


def rebuild_all(*, days: int = 30) -> int:
    """Recompute every summary from the pipeline's rows: companies, clusters and hours.

    Clusters are rebuilt from every failed item of the last `days` days (members of older
    failures are kept). Returns the number of companies.
    """
    now = timezone.now()
    save_rows(compute(None, now=now))
    since = now - timedelta(days=days)
    touched = file_all_failures(since, now=now)
    touched |= resolve_completed(now=now)
    touched |= set(ErrorCluster.objects.values_list("pk", flat=True))
    recount_clusters(touched, now=now)
    recount_hours(since, now)
    cache.set(REPAIR_CACHE_KEY, now, timeout=None)
    return CompanyHealth.objects.count()


# --- What the overview reads --------------------------------------------------------------------


@dataclass
class Totals:
    companies: int
    connected: int
    syncing: int
    failing: int
    stuck: int
    deauthorised: int
    never_synced: int
    needs_auth: int
    waiting: int
    oldest_waiting_at: datetime | None


def totals() -> Totals:
    """The overview's counts, one query over the summary rows."""
    row = CompanyHealth.objects.aggregate(
        companies=Count("pk"),
        connected=Count("pk", filter=Q(connection_status=Connection.Status.LINKED)),
        syncing=Count("pk", filter=Q(health=Health.SYNCING)),
        failing=Count("pk", filter=Q(health=Health.FAILING)),
        stuck=Count("pk", filter=Q(stuck=True)),
        deauthorised=Count("pk", filter=Q(connection_status=Connection.Status.DEAUTHORIZED)),
        never_synced=Count("pk", filter=Q(health=Health.NEVER_SYNCED)),
        needs_auth=Count("pk", filter=Q(health=Health.NEEDS_AUTH)),
        waiting=Sum("waiting_count"),
        oldest_waiting_at=Min("oldest_waiting_at"),
    )
    row["waiting"] = row["waiting"] or 0
    return Totals(**row)


@dataclass
class Rates:
    day: float | None
    week: float | None
    day_total: int
    week_total: int


def success_rates(now: datetime | None = None) -> Rates:
    """Share of finished syncs that succeeded over 24 hours and 7 days (one query)."""
    now = now or timezone.now()
    day = Q(hour__gte=_hour(now - timedelta(hours=24)))
    week = Q(hour__gte=_hour(now - timedelta(days=7)))
    ok = Q(outcome__in=[Outcome.SUCCESS, Outcome.EMPTY])
    row = SyncHour.objects.filter(week).aggregate(
        day_ok=Sum("count", filter=day & ok),
        day_all=Sum("count", filter=day),
        week_ok=Sum("count", filter=ok),
        week_all=Sum("count"),
    )
    day_all, week_all = row["day_all"] or 0, row["week_all"] or 0
    return Rates(
        day=(row["day_ok"] or 0) / day_all if day_all else None,
        week=(row["week_ok"] or 0) / week_all if week_all else None,
        day_total=day_all,
        week_total=week_all,
    )


def syncs_per_day(days: int = 14, now: datetime | None = None) -> list[dict]:
    """[{day, success, empty, failed}] for the last `days` days, oldest first (one query)."""
    now = now or timezone.now()
    first = timezone.localdate(now) - timedelta(days=days - 1)
    by_day = {first + timedelta(days=i): dict.fromkeys(Outcome.values, 0) for i in range(days)}
    rows = (
        SyncHour.objects.filter(hour__gte=now - timedelta(days=days + 1))
        .annotate(day=TruncDate("hour"))
        .values("day", "outcome")
        .annotate(n=Sum("count"))
    )
    for row in rows:
        if row["day"] in by_day:
            by_day[row["day"]][row["outcome"]] += row["n"]
    return [{"day": day, **counts} for day, counts in by_day.items()]


def company_filter_for_sync(value: str):
    """Companies that own the sync with this Codat sync id (a subquery, not a query)."""
    return Sync.objects.filter(codat_sync_id=value).values("company_id")
