"""What a member of staff does from the sync-health pages, for one company or one cluster.

Each function changes only rows still in the state it acts on (conditional UPDATEs, so work a
worker moved meanwhile is left alone), hands the Codat work to the workers or to the existing
services (pre-flight and push, the follow task, the receipt uploads, the ledger read, the
connection services), records one audit event naming the person, and refreshes the company's
health summary. Views call these; none of them talks to Codat itself except `unlink`, through
the connection service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction as db_transaction
from django.utils import timezone

from integrations.companies.models import AuditEvent, Company
from integrations.ledger.models import LedgerRead
from integrations.syncs.models import ErrorCluster, Sync
from integrations.transactions.models import Receipt, Transaction

from .. import tasks
from . import health

Status = Transaction.Status


@dataclass(frozen=True)
class Outcome:
    count: int
    message: str


def retry_failed(company: Company, *, actor, transaction_ids=None) -> Outcome:
    """Failed transactions back to ready, then pre-flight and push (in the worker).

    Pre-flight checks them against the ledger first, so a cause not yet fixed comes back as
    "needs attention" with its reason rather than as another refusal from Codat.
    """
    rows = Transaction.objects.filter(company=company, status=Status.FAILED)
    if transaction_ids is not None:
        rows = rows.filter(pk__in=list(transaction_ids))
    with db_transaction.atomic():
        ids = list(rows.select_for_update().values_list("pk", flat=True))
        moved = Transaction.objects.filter(pk__in=ids, status=Status.FAILED).update(
            status=Status.READY, status_changed_at=timezone.now(), **Transaction.attention()
        )
        AuditEvent.record(actor, "staff.retry_failed", obj=company, after={"transactions": moved})
        if moved:
            tasks.enqueue_preflight(company.pk)
        health.refresh_soon(company.pk)
    return Outcome(moved, f"{moved} failed transaction(s) sent back through pre-flight.")


def refresh_ledger(company: Company, *, actor) -> Outcome:
    """Read the company's ledger again (accounts, tax rates, contacts) from Codat."""
    from integrations.ledger.services import request_refresh

    read = request_refresh(company, reason=LedgerRead.Reason.MANUAL, actor=actor)
    AuditEvent.record(actor, "staff.refresh_ledger", obj=company, after={"read": read.pk})
    return Outcome(1, "Ledger data refresh requested; it arrives in a minute or two.")


def poll_now(company: Company, *, actor) -> Outcome:
    """Ask Codat for the status of the company's open syncs now, not at the next poll."""
    now = timezone.now()
    with db_transaction.atomic():
        ids = list(
            Sync.objects.open()
            .filter(company=company, send_state=Sync.SendState.ACCEPTED)
            .exclude(codat_sync_id=None)
            .values_list("pk", flat=True)
        )
        Sync.objects.filter(pk__in=ids).update(next_attempt_at=now)
        AuditEvent.record(actor, "staff.poll_now", obj=company, after={"syncs": len(ids)})
        for pk in ids:
            db_transaction.on_commit(lambda pk=pk: tasks.follow_sync.delay(pk))
    return Outcome(len(ids), f"{len(ids)} open sync(s) will be polled now.")


def resend_receipts(company: Company, *, actor) -> Outcome:
    """Receipts whose upload failed (not those the ledger refused) go back to the queue."""
    with db_transaction.atomic():
        receipts = list(
            Receipt.objects.select_for_update()
            .filter(transaction__company=company, upload_status=Receipt.UploadStatus.FAILED)
            .only("pk", "key_in_doubt", "transaction_id")
        )
        for receipt in receipts:
            # A new key unless an upload may have landed (a timeout): Codat would replay the
            # failure it cached for the old one.
            changes = {
                "upload_status": Receipt.UploadStatus.PENDING,
                "attempts": 0,
                "error": "",
                "next_attempt_at": None,
                "claimed_at": None,
            }
            if not receipt.key_in_doubt:
                changes["idempotency_key"] = uuid.uuid4()
            Receipt.objects.filter(pk=receipt.pk, upload_status=Receipt.UploadStatus.FAILED).update(
                **changes
            )
        AuditEvent.record(
            actor, "staff.resend_receipts", obj=company, after={"receipts": len(receipts)}
        )
        for transaction_id in {r.transaction_id for r in receipts}:
            tasks.enqueue_receipts(transaction_id)
        health.refresh_soon(company.pk)
    return Outcome(len(receipts), f"{len(receipts)} receipt(s) queued to upload again.")


def unlink(company: Company, *, actor) -> Outcome:
    """Unlink the company's accounting software (the connection service asks Codat)."""
    from integrations.companies.services import unlink_accounting

    connection = unlink_accounting(company, actor=actor)
    AuditEvent.record(actor, "staff.unlink", obj=company, after={"connection": connection.pk})
    health.refresh_soon(company.pk)
    return Outcome(1, "The accounting software was unlinked.")


def retry_cluster(cluster: ErrorCluster, *, actor) -> Outcome:
    """After a fix: retry every failed transaction still open in the cluster, per company."""
    open_members = cluster.members.filter(resolved_at__isnull=True)
    by_company: dict[int, list] = {}
    for company_id, transaction_id in open_members.values_list("company_id", "transaction_id"):
        by_company.setdefault(company_id, []).append(transaction_id)
    total = 0
    for company in Company.objects.filter(pk__in=list(by_company)):
        total += retry_failed(company, actor=actor, transaction_ids=by_company[company.pk]).count
    AuditEvent.record(
        actor,
        "staff.cluster_retry",
        obj=cluster,
        label=str(cluster),
        after={"transactions": total, "companies": len(by_company)},
    )
    return Outcome(total, f"{total} transaction(s) of {len(by_company)} company(ies) retried.")


def refresh_cluster_ledgers(cluster: ErrorCluster, *, actor) -> Outcome:
    """Refresh the ledger data of every company with an open transaction in the cluster."""
    ids = list(
        cluster.members.filter(resolved_at__isnull=True)
        .values_list("company_id", flat=True)
        .distinct()
    )
    for company in Company.objects.filter(pk__in=ids):
        refresh_ledger(company, actor=actor)
    AuditEvent.record(
        actor,
        "staff.cluster_refresh_ledger",
        obj=cluster,
        label=str(cluster),
        after={"companies": len(ids)},
    )
    return Outcome(len(ids), f"Ledger data refresh requested for {len(ids)} company(ies).")
