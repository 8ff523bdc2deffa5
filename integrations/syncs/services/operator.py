"""What an operator does by hand, from the admin or the staff pages: retry, poll now, settle.

Each function takes the rows to act on and the person acting, changes only the rows it may
(a conditional UPDATE, so a row a worker moved meanwhile is left alone), and leaves one audit
event per row changed, naming that person, in the same trail as the portal's changes.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction as db_transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.companies.models import AuditEvent
from integrations.syncs.models import ErrorCluster, ErrorClusterMember, Sync
from integrations.transactions.models import Transaction

from .. import tasks

Status = Transaction.Status

# Rows nobody is working on and that are not in the ledger: the ones an operator may settle.
HANDLEABLE_STATUSES = (Status.DRAFT, Status.READY, Status.NEEDS_ATTENTION, Status.FAILED)


def _audit(actor, action: str, rows: list, *, before: dict, after: dict) -> None:
    """One event per row, written in one INSERT (a bulk retry can touch thousands of rows)."""
    if not rows:
        return
    if actor is not None and not actor.is_authenticated:
        actor = None
    content_type = ContentType.objects.get_for_model(type(rows[0]))
    changes = {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_label=actor.get_username() if actor else "",
                company_id=getattr(row, "company_id", None),
                content_type=content_type,
                object_id=str(row.pk),
                object_label=str(row)[:255],
                action=action,
                changes=changes,
                at=now,
            )
            for row in rows
        ],
        batch_size=1000,
    )


def _refresh_summaries(company_ids, transaction_ids=None) -> None:
    """Once the change commits: the companies' health rows, and (for settled transactions) the
    error clusters they were open in, so the staff pages show it at once, not at the next
    repair. A summary failure never undoes the operator's change (health.safely)."""
    from . import health

    def settle(ids):
        health.recount_clusters(health.resolve_completed(ids))

    def refresh():
        if transaction_ids:
            health.safely(settle, list(transaction_ids))
        health.safely(health.refresh_companies, sorted(set(company_ids)))

    db_transaction.on_commit(refresh)


def retry_failed(transactions: QuerySet, *, actor) -> int:
    """Put failed transactions back to ready and ask for a pre-flight of their companies.

    Pre-flight checks them against the ledger again before anything is sent, so a row whose
    cause is not fixed yet comes back as "needs attention" with the reason, not as another
    failure from Codat. Returns how many rows were put back.
    """
    with db_transaction.atomic():
        rows = list(
            transactions.filter(status=Status.FAILED)
            .select_for_update(of=("self",))
            .select_related("company")
        )
        if not rows:
            return 0
        Transaction.objects.filter(pk__in=[r.pk for r in rows], status=Status.FAILED).update(
            status=Status.READY, status_changed_at=timezone.now(), **Transaction.attention()
        )
        _audit(
            actor,
            "transaction.retry",
            rows,
            before={"status": Status.FAILED.value},
            after={"status": Status.READY.value},
        )
        for company_id in sorted({r.company_id for r in rows}):
            tasks.enqueue_preflight(company_id)
        _refresh_summaries({r.company_id for r in rows})
    return len(rows)


def poll_now(syncs: QuerySet, *, actor) -> int:
    """Ask Codat for these syncs' status now rather than at their next scheduled poll.

    Only accepted syncs still open can be polled; the follow task does the reading (never the
    request), and skips a sync a live worker holds. Returns how many were queued.
    """
    now = timezone.now()
    with db_transaction.atomic():
        rows = list(
            syncs.open()
            .filter(send_state=Sync.SendState.ACCEPTED, codat_sync_id__isnull=False)
            .select_related("company")
        )
        if not rows:
            return 0
        Sync.objects.filter(pk__in=[s.pk for s in rows]).update(next_attempt_at=now)
        _audit(actor, "sync.poll_now", rows, before={}, after={"next_attempt_at": now})
        for sync in rows:
            pk = sync.pk
            db_transaction.on_commit(lambda pk=pk: tasks.follow_sync.delay(pk))
    return len(rows)


def mark_handled_outside(transactions: QuerySet, *, reason: str, actor) -> int:
    """Settle transactions by hand: final, never sent, with what was done in `reason`.

    For spend an operator entered in the ledger directly or wrote off. Rows in flight or
    already in the ledger are left alone. Returns how many rows were marked.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("Say how the transactions were handled outside the portal.")
    with db_transaction.atomic():
        rows = list(
            transactions.filter(status__in=HANDLEABLE_STATUSES)
            .select_for_update(of=("self",))
            .select_related("company")
        )
        by_status: dict[str, list] = {}
        for row in rows:
            by_status.setdefault(row.status, []).append(row)
        Transaction.objects.filter(
            pk__in=[r.pk for r in rows], status__in=HANDLEABLE_STATUSES
        ).update(
            status=Status.HANDLED,
            status_changed_at=timezone.now(),
            handled_reason=reason,
            pending_edit=False,
            **Transaction.attention(),
        )
        for status, group in by_status.items():
            _audit(
                actor,
                "transaction.handled_outside",
                group,
                before={"status": status},
                after={"status": Status.HANDLED.value, "handled_reason": reason},
            )
        if rows:
            _refresh_summaries({r.company_id for r in rows}, [r.pk for r in rows])
    return len(rows)


def resolve_clusters(clusters: QuerySet, *, actor) -> int:
    """Close error clusters by hand (a known cause fixed elsewhere, or nothing to do).

    Their open members are resolved, so the counts read zero; a new failure with the same
    cause opens the cluster again, as it would after resolving itself. Returns how many.
    """
    from . import health

    now = timezone.now()
    with db_transaction.atomic():
        rows = list(clusters.filter(state=ErrorCluster.State.OPEN))
        if not rows:
            return 0
        ids = [c.pk for c in rows]
        ErrorClusterMember.objects.filter(cluster_id__in=ids, resolved_at__isnull=True).update(
            resolved_at=now
        )
        health.recount_clusters(ids, now=now)
        _audit(
            actor,
            "cluster.resolve",
            rows,
            before={"state": ErrorCluster.State.OPEN.value},
            after={"state": ErrorCluster.State.RESOLVED.value},
        )
    return len(rows)


def retry_clusters(clusters: QuerySet, *, actor) -> int:
    """Retry every failed transaction still open in these clusters (after fixing the cause)."""
    open_members = ErrorClusterMember.objects.filter(
        cluster__in=clusters, resolved_at__isnull=True
    ).values("transaction_id")
    return retry_failed(Transaction.objects.filter(pk__in=open_members), actor=actor)
