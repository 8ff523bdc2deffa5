"""Background progression: syncs, push operations, pull operations and webhook delivery.

Everything that happens "later" has a due time in the database, and `advance()` does whatever
is due. It is idempotent and safe to run from several places at once: each item is claimed
with a conditional UPDATE that only one caller can win, then processed in its own transaction.
It is called from a daemon thread in the web process (CODAT_SANDBOX_BACKGROUND, on by default)
and, so correctness never hinges on that thread, whenever a client reads a sync, a transaction
or a push operation. Webhooks (outbox.py) are delivered after the transactions commit, never
inside one.
"""

import datetime
import logging
import threading
import time
import uuid

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from . import conf, jsonutil, limits, outbox, push_options, rules, seeds, serializers, services
from .errors import validation_item
from .models import (
    LedgerRecord,
    PushOperation,
    SandboxCompany,
    SandboxConnection,
    SandboxSync,
    SyncTransaction,
)
from .platforms import get_platform
from .schemas import parse_codat_datetime

logger = logging.getLogger(__name__)

STALE_CLAIM = datetime.timedelta(seconds=60)

# Where each kind of sync writes in the ledger.
LEDGER_DATA_TYPE = {
    SandboxSync.Kind.EXPENSE: "expenses",
    SandboxSync.Kind.EXPENSE_UPDATE: "expenses",
    SandboxSync.Kind.REIMBURSABLE: "bills",
    SandboxSync.Kind.REIMBURSABLE_UPDATE: "bills",
    SandboxSync.Kind.TRANSFER: "transfers",
    SandboxSync.Kind.ADJUSTMENT: "journals",
}
UPDATE_KINDS = {SandboxSync.Kind.EXPENSE_UPDATE, SandboxSync.Kind.REIMBURSABLE_UPDATE}


# --- Webhooks about the daily quota -------------------------------------------------------


def enqueue_rate_limit_reached(now) -> None:
    with transaction.atomic():
        limits.mark_quota_reached(now)
        outbox.enqueue_webhook(
            "client.rateLimit.reached",
            {
                "dailyQuota": conf.daily_quota(),
                "quotaRemaining": 0,
                "expiryDate": jsonutil.format_datetime(limits.next_reset(now)),
            },
        )


def enqueue_rate_limit_reset(now) -> None:
    """Announce the new day's quota once, if an earlier day's quota ran out.

    Called on every API request and every advance(), so whichever notices the new UTC day
    first sends it; the claim and the message commit together.
    """
    with transaction.atomic():
        if limits.claim_quota_reset(now):
            outbox.enqueue_webhook(
                "client.rateLimit.reset",
                {
                    "dailyQuota": conf.daily_quota(),
                    "quotaRemaining": max(conf.daily_quota() - limits.current_usage(now), 0),
                    "expiryDate": jsonutil.format_datetime(limits.next_reset(now)),
                },
            )


# --- Syncs: create ----------------------------------------------------------------------------


def create_sync(company: SandboxCompany, kind: str, items: list[tuple[str, dict]]) -> SandboxSync:
    """A sync carrying (transaction id, posted payload) items, due after the sync delay."""
    now = timezone.now()
    sync = SandboxSync.objects.create(
        company=company, kind=kind, created=now, due_at=now + conf.sync_delay()
    )
    SyncTransaction.objects.bulk_create(
        [
            SyncTransaction(
                sync=sync, company=company, transaction_id=txn_id, kind=kind, payload=payload
            )
            for txn_id, payload in items
        ]
    )
    return sync


# --- advance() --------------------------------------------------------------------------------


def advance(now: datetime.datetime | None = None) -> int:
    """Process everything due at `now`; return how many items were processed."""
    now = now or timezone.now()
    done = 0
    _release_stale_claims(now)
    enqueue_rate_limit_reset(now)
    due_syncs = SandboxSync.objects.filter(
        state=SandboxSync.State.QUEUED, due_at__lte=now
    ).values_list("id", flat=True)
    done += _claim_and_process_syncs(list(due_syncs[:200]), now)
    due_pushes = PushOperation.objects.filter(
        status=PushOperation.Status.PENDING, due_at__lte=now, claimed_at__isnull=True
    ).values_list("key", flat=True)
    for key in list(due_pushes[:200]):
        if PushOperation.objects.filter(
            pk=key, status=PushOperation.Status.PENDING, claimed_at__isnull=True
        ).update(claimed_at=now):
            _process_push_safely(key, now)
            done += 1
    done += services.complete_due_pulls(now)
    done += outbox.deliver_due_webhooks(now)
    return done


def advance_syncs(company: SandboxCompany, now: datetime.datetime | None = None) -> int:
    """Process this company's due syncs now, so a client reading a sync never waits on the
    background thread; return how many were processed."""
    now = now or timezone.now()
    due = SandboxSync.objects.filter(
        company=company, state=SandboxSync.State.QUEUED, due_at__lte=now
    ).values_list("id", flat=True)
    return _claim_and_process_syncs(list(due), now)


def _claim_and_process_syncs(sync_ids, now) -> int:
    done = 0
    for sync_id in sync_ids:
        if SandboxSync.objects.filter(pk=sync_id, state=SandboxSync.State.QUEUED).update(
            state=SandboxSync.State.PROCESSING, claimed_at=now
        ):
            _process_sync_safely(sync_id, now)
            done += 1
    return done


def _release_stale_claims(now) -> None:
    """A worker that died mid-item leaves a claim behind; hand the item back after a minute."""
    SandboxSync.objects.filter(
        state=SandboxSync.State.PROCESSING, claimed_at__lt=now - STALE_CLAIM
    ).update(state=SandboxSync.State.QUEUED)
    PushOperation.objects.filter(
        status=PushOperation.Status.PENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(claimed_at=None)
    outbox.release_stale_claims(now - STALE_CLAIM, now)


def _process_sync_safely(sync_id, now) -> None:
    try:
        with transaction.atomic():
            sync = SandboxSync.objects.select_related("company").get(pk=sync_id)
            process_sync(sync, now)
    except Exception:
        logger.exception("Sandbox sync %s crashed", sync_id)
        with transaction.atomic():
            SandboxSync.objects.filter(pk=sync_id).update(
                state=SandboxSync.State.DONE,
                status_code=SandboxSync.StatusCode.SERVER_ERROR,
                status_text="Failed",
                error_message="Generic server error.",
                exception_message="An unexpected error occurred while processing the sync.",
                completed=now,
            )
            SyncTransaction.objects.filter(
                sync_id=sync_id, status=SyncTransaction.Status.PENDING
            ).update(status=SyncTransaction.Status.PUSH_ERROR, message="Unexpected error.")


def process_sync(sync: SandboxSync, now) -> None:
    company = sync.company
    conn = company.accounting_connection()
    faults = limits.faults_for(company.id)
    transactions = list(sync.transactions.order_by("id"))
    if conn is None or conn.status != SandboxConnection.Status.LINKED:
        # Codat's 4040: the company was deleted or its connection de-authorized.
        message = "The company's accounting connection is not authorized."
        for txn in transactions:
            txn.status = SyncTransaction.Status.PUSH_ERROR
            txn.message = message
            txn.save(update_fields=["status", "message"])
        _finish_sync(
            sync, now, SandboxSync.StatusCode.COMPANY_NOT_FOUND, "Failed", message, transactions
        )
        return
    if faults is not None and faults.long_running_syncs:
        # Still pushing after "10 minutes": report 1010 and look again later.
        sync.status_code = SandboxSync.StatusCode.LONG_RUNNING
        sync.status_text = "Pushing"
        sync.state = SandboxSync.State.QUEUED
        sync.due_at = now + conf.sync_delay()
        sync.save(update_fields=["status_code", "status_text", "state", "due_at"])
        return
    platform = get_platform(conn.platform_key)
    ledger = services.ledger_dict(company)
    config = company.expense_config
    data_type = LEDGER_DATA_TYPE[sync.kind]
    wrote_anything = False
    for txn in transactions:
        outcome = _evaluate(sync.kind, platform, ledger, config, txn)
        if outcome.status != SyncTransaction.Status.COMPLETED:
            txn.status = outcome.status
            txn.message = outcome.message or ""
            txn.save(update_fields=["status", "message"])
            continue
        record_id, changed = _write_record(company, platform, data_type, sync.kind, txn, now)
        ledger.setdefault(data_type, {})[record_id] = {"id": record_id}
        wrote_anything = wrote_anything or changed
        txn.status = SyncTransaction.Status.COMPLETED
        txn.record_id = record_id
        txn.message = record_id
        txn.save(update_fields=["status", "message", "record_id"])
    failed = [t for t in transactions if t.status != SyncTransaction.Status.COMPLETED]
    if failed:
        _finish_sync(
            sync,
            now,
            SandboxSync.StatusCode.WRITE_ERROR,
            "PushError",
            "One or more transactions failed to sync.",
            transactions,
            data_pushed=wrote_anything,
        )
    elif wrote_anything:
        _finish_sync(
            sync,
            now,
            SandboxSync.StatusCode.SUCCESS,
            "Complete",
            "",
            transactions,
            data_pushed=True,
        )
    else:
        _finish_sync(
            sync,
            now,
            SandboxSync.StatusCode.SUCCESS_NOTHING_WRITTEN,
            "Complete",
            "",
            transactions,
            data_pushed=False,
        )
    company.last_sync = now
    company.save(update_fields=["last_sync"])
    SandboxConnection.objects.filter(pk=conn.pk).update(last_sync=now)


def _evaluate(kind, platform, ledger, config, txn):
    payload = txn.payload
    original = _previous_completed(txn)
    if kind == SandboxSync.Kind.EXPENSE:
        return rules.evaluate_expense(platform, ledger, config, payload)
    if kind == SandboxSync.Kind.EXPENSE_UPDATE:
        return rules.evaluate_expense_update(
            platform, ledger, config, payload, original.payload if original else None
        )
    if kind == SandboxSync.Kind.REIMBURSABLE:
        return rules.evaluate_reimbursable(platform, ledger, config, payload)
    if kind == SandboxSync.Kind.REIMBURSABLE_UPDATE:
        return rules.evaluate_reimbursable(platform, ledger, config, payload, update=True)
    if kind == SandboxSync.Kind.ADJUSTMENT:
        return rules.evaluate_adjustment(platform, ledger, config, payload)
    # A transfer PUT for an id that already completed is an update of that transfer.
    return rules.evaluate_transfer(platform, ledger, payload, update=original is not None)


def _previous_completed(txn: SyncTransaction) -> SyncTransaction | None:
    """The earlier completed transaction with this id (what an update or re-PUT changes)."""
    return (
        SyncTransaction.objects.filter(
            company_id=txn.company_id,
            transaction_id=txn.transaction_id,
            status=SyncTransaction.Status.COMPLETED,
        )
        .exclude(pk=txn.pk)
        .exclude(record_id="")
        .order_by("-id")
        .first()
    )


def _new_record_id(platform, data_type: str) -> str:
    # Record ids look like the platform's own: GUIDs in Xero and Dynamics, numbers elsewhere.
    if platform is not None and platform.key in ("gbol", "trji"):
        return str(uuid.uuid4())
    return str(uuid.uuid4().int % 10**9)


def _write_record(company, platform, data_type, kind, txn, now) -> tuple[str, bool]:
    """Write (or update) the ledger record for a completed transaction.

    Returns (record id, whether anything changed). Updates and transfer re-PUTs modify the
    record the transaction id first created.
    """
    previous = _previous_completed(txn)
    data = ledger_record_data(kind, txn.transaction_id, txn.payload, platform, company)
    if previous is not None:
        row = LedgerRecord.objects.filter(
            company=company, data_type=data_type, record_id=previous.record_id
        ).first()
        if row is not None:
            data["id"] = row.record_id
            comparable = {k: v for k, v in row.data.items() if k != "modifiedDate"}
            candidate = {k: v for k, v in data.items() if k != "modifiedDate"}
            if jsonutil.dumps(comparable) == jsonutil.dumps(candidate):
                return row.record_id, False
            data["modifiedDate"] = jsonutil.format_datetime(now)
            row.data = data
            row.modified = now
            row.save(update_fields=["data", "modified"])
            return row.record_id, True
    record_id = _new_record_id(platform, data_type)
    data["id"] = record_id
    data["modifiedDate"] = jsonutil.format_datetime(now)
    LedgerRecord.objects.create(
        company=company,
        data_type=data_type,
        record_id=record_id,
        data=data,
        created=now,
        modified=now,
    )
    return record_id, True


def ledger_record_data(kind, transaction_id, payload, platform, company) -> dict:
    """What the accounting software holds for a synced transaction, viewer-friendly."""
    config = company.expense_config or {}
    data = {"id": None, "transactionId": transaction_id, "kind": str(kind)}
    if kind in (SandboxSync.Kind.EXPENSE, SandboxSync.Kind.EXPENSE_UPDATE):
        expense_type = payload.get("type")
        contact_kind = platform.contact_for(expense_type) if platform else "Supplier"
        contact = None
        if contact_kind == "Supplier":
            contact = (payload.get("contactRef") or {}).get("id") or (
                config.get("supplier") or {}
            ).get("id")
        elif contact_kind == "Customer":
            contact = (config.get("customer") or {}).get("id")
        lines = payload.get("lines") or []
        data.update(
            {
                "type": expense_type,
                "issueDate": payload.get("issueDate"),
                "currency": payload.get("currency"),
                "currencyRate": payload.get("currencyRate"),
                "bankAccountRef": {
                    "id": (payload.get("bankAccountRef") or {}).get("id")
                    or (config.get("bankAccount") or {}).get("id")
                },
                "contactRef": {"id": contact, "type": contact_kind} if contact else None,
                "merchantName": payload.get("merchantName"),
                "reference": payload.get("reference"),
                "notes": payload.get("notes"),
                "postAsDraft": bool(payload.get("postAsDraft"))
                and bool(platform and platform.supports_draft),
                "lines": lines,
                "netAmount": sum((line.get("netAmount") or 0) for line in lines),
                "taxAmount": sum((line.get("taxAmount") or 0) for line in lines),
            }
        )
        data["totalAmount"] = data["netAmount"] + data["taxAmount"]
    elif kind in (SandboxSync.Kind.REIMBURSABLE, SandboxSync.Kind.REIMBURSABLE_UPDATE):
        lines = payload.get("lines") or []
        data.update(
            {
                "issueDate": payload.get("issueDate"),
                "dueDate": payload.get("dueDate"),
                "currency": payload.get("currency"),
                "currencyRate": payload.get("currencyRate"),
                "supplierRef": {"id": (payload.get("contactRef") or {}).get("id")},
                "apAccountRef": payload.get("apAccountRef"),
                "reference": payload.get("reference"),
                "notes": payload.get("notes"),
                "status": "Open",
                "lines": lines,
                "netAmount": sum((line.get("netAmount") or 0) for line in lines),
                "taxAmount": sum((line.get("taxAmount") or 0) for line in lines),
            }
        )
        data["totalAmount"] = data["netAmount"] + data["taxAmount"]
    elif kind == SandboxSync.Kind.TRANSFER:
        data.update(
            {
                "date": payload.get("date"),
                "description": payload.get("description"),
                "from": payload.get("from"),
                "to": payload.get("to"),
            }
        )
    else:  # adjustment → a journal entry
        lines = payload.get("lines") or []
        data.update(
            {
                "date": payload.get("date"),
                "currency": payload.get("currency"),
                "currencyRate": payload.get("currencyRate"),
                "reference": payload.get("reference"),
                "lines": lines,
                "totalDebit": sum((line["amount"] for line in lines if line["amount"] > 0), 0),
                "totalCredit": -sum((line["amount"] for line in lines if line["amount"] < 0), 0),
            }
        )
    return data


def _finish_sync(sync, now, code, text, error, transactions, *, data_pushed=False) -> None:
    sync.state = SandboxSync.State.DONE
    sync.status_code = code
    sync.status_text = text
    sync.error_message = error
    sync.exception_message = "" if sync.succeeded else error
    sync.data_pushed = data_pushed
    sync.completed = now
    sync.save(
        update_fields=[
            "state",
            "status_code",
            "status_text",
            "error_message",
            "exception_message",
            "data_pushed",
            "completed",
        ]
    )
    statuses = {
        SyncTransaction.Status.COMPLETED: "Completed",
        SyncTransaction.Status.VALIDATION_ERROR: "Failed",
        SyncTransaction.Status.PUSH_ERROR: "PushError",
        SyncTransaction.Status.PENDING: "Pending",
    }
    outbox.enqueue_webhook(
        "expenses.sync.successful" if sync.succeeded else "expenses.sync.unsuccessful",
        {
            "referenceCompany": serializers.company_reference(sync.company, conf.public_base_url()),
            "syncId": str(sync.id),
            "transactions": [
                {
                    "id": txn.transaction_id,
                    "status": statuses.get(txn.status, "Unknown"),
                    "errorMessage": None
                    if txn.status == SyncTransaction.Status.COMPLETED
                    else txn.message,
                }
                for txn in transactions
            ],
        },
        company_id=sync.company_id,
    )


# --- Push operations --------------------------------------------------------------------------


def _process_push_safely(key, now) -> None:
    try:
        with transaction.atomic():
            op = PushOperation.objects.select_related("company").get(pk=key)
            process_push(op, now)
    except Exception:
        logger.exception("Sandbox push operation %s crashed", key)
        with transaction.atomic():
            PushOperation.objects.filter(pk=key).update(
                status=PushOperation.Status.FAILED,
                status_code=500,
                error_message="Unexpected error.",
                completed=now,
            )


def process_push(op: PushOperation, now) -> None:
    company = op.company
    conn = SandboxConnection.objects.filter(pk=op.connection_id).first()
    timeout_at = (
        op.requested + datetime.timedelta(minutes=op.timeout_in_minutes)
        if op.timeout_in_minutes is not None
        else None
    )
    faults = limits.faults_for(company.id)
    if faults is not None and faults.long_running_syncs:
        if timeout_at is not None and now >= timeout_at:
            _finish_push(op, now, PushOperation.Status.TIMED_OUT, 504, "Push operation timed out.")
        else:
            op.claimed_at = None
            op.due_at = now + conf.sync_delay()
            op.save(update_fields=["claimed_at", "due_at"])
        return
    if timeout_at is not None and now >= timeout_at:
        _finish_push(op, now, PushOperation.Status.TIMED_OUT, 504, "Push operation timed out.")
        return
    if conn is None or conn.status != SandboxConnection.Status.LINKED:
        _finish_push(
            op,
            now,
            PushOperation.Status.FAILED,
            401,
            "The company's accounting connection is not authorized.",
        )
        return
    ledger = services.ledger_dict(company)
    items = push_options.validate_push(
        conn.platform_key, op.data_type, op.record, ledger, record_id=op.record_id or None
    )
    errors = list(items or [])
    if op.operation == "Update" and not op.force_update:
        errors.extend(_stale_update_errors(op, ledger.get(op.data_type, {}).get(op.record_id)))
    if errors:
        op.validation = {"errors": errors, "warnings": []}
        _finish_push(op, now, PushOperation.Status.FAILED, 400, "Validation failed.")
        return
    data = dict(op.record)
    # The write is now the record's latest change both in Codat and in the accounting software,
    # which is what the next update's sourceModifiedDate is checked against.
    data["modifiedDate"] = data["sourceModifiedDate"] = jsonutil.format_datetime(now)
    if op.operation == "Update":
        row = LedgerRecord.objects.filter(
            company=company, data_type=op.data_type, record_id=op.record_id
        ).first()
        data["id"] = op.record_id
        if row is None:
            _finish_push(op, now, PushOperation.Status.FAILED, 404, "Record not found.")
            return
        row.data = {**row.data, **data}
        row.modified = now
        row.save(update_fields=["data", "modified"])
    else:
        op.record_id = _new_record_id(get_platform(conn.platform_key), op.data_type)
        data["id"] = op.record_id
        if op.data_type == "chartOfAccounts":
            _describe_new_account(get_platform(conn.platform_key), data)
        LedgerRecord.objects.create(
            company=company,
            data_type=op.data_type,
            record_id=op.record_id,
            data=data,
            created=now,
            modified=now,
        )
        if op.data_type == "bankAccounts":
            _mirror_bank_account_in_chart(company, data, now)
    op.record = data
    op.validation = {"errors": [], "warnings": []}
    _finish_push(op, now, PushOperation.Status.SUCCESS, 200, "")


def _stale_update_errors(op: PushOperation, current: dict | None) -> list[dict]:
    """The update's sourceModifiedDate is older than the record's last change in the ledger:
    someone changed it after the client read it, and writing would silently undo that.

    Codat compares the two and refuses unless forceUpdate is set. No date sent means the
    client did not ask for the check.
    """
    sent = op.record.get("sourceModifiedDate")
    if not sent or current is None:
        return []
    latest = current.get("sourceModifiedDate") or current.get("modifiedDate")
    sent_at, latest_at = parse_codat_datetime(sent), parse_codat_datetime(latest or "")
    if sent_at is None or latest_at is None or sent_at >= latest_at:
        return []
    record_type = op.data_type.removesuffix("s")
    return [
        validation_item(
            op.record_id,
            f"The {record_type} was modified in the accounting software at {latest}, after "
            f"the sourceModifiedDate sent ({sent}). Fetch the {record_type} again and resend "
            "the update, or set forceUpdate=true to overwrite those changes.",
            "SourceModifiedDateValidator",
        )
    ]


def _describe_new_account(platform, data: dict) -> None:
    """A pushed account is read back like any other: its type from the category when none was
    sent, Active, and what it may be used for worked out from its type on this platform (the
    same rules the seeded charts follow), so a new expense account is offered for spend."""
    account_type = data.get("type") or str(data.get("fullyQualifiedCategory") or "").split(".")[0]
    if account_type not in services.MAPPING_ACCOUNT_TYPES:
        account_type = "Unknown"
    data["type"] = account_type
    data["status"] = data.get("status") or "Active"
    kind = {"Expense": "expense", "Income": "income", "Liability": "liability"}.get(account_type)
    types, valid_for = (
        seeds._filter_valid_for(platform, seeds._KINDS[kind])
        if kind and platform is not None and not data.get("isBankAccount")
        else ([], [])
    )
    data.setdefault("validTransactionTypes", types)
    data.setdefault("validFor", valid_for)


def _mirror_bank_account_in_chart(company, bank: dict, now) -> None:
    """A new bank account also appears in the chart of accounts, as it does in a ledger."""
    is_card = bank.get("accountType") == "Credit"
    LedgerRecord.objects.get_or_create(
        company=company,
        data_type="chartOfAccounts",
        record_id=bank["id"],
        defaults={
            "created": now,
            "modified": now,
            "data": {
                "id": bank["id"],
                "nominalCode": bank.get("nominalCode"),
                "name": bank.get("accountName") or "Bank account",
                "fullyQualifiedCategory": "Liability.CreditCard" if is_card else "Asset.Bank",
                "currency": bank.get("currency"),
                "type": "Liability" if is_card else "Asset",
                "status": "Active",
                "isBankAccount": True,
                "validTransactionTypes": [],
                "validFor": ["transfer-transactions"],
            },
        },
    )


def _finish_push(op, now, status, code, message) -> None:
    op.status = status
    op.status_code = code
    op.error_message = message
    op.completed = now
    op.claimed_at = None
    op.save()
    outcome = "successful" if status == PushOperation.Status.SUCCESS else "unsuccessful"
    payload = {
        "id": str(op.key),
        "type": op.operation,
        "referenceCompany": serializers.company_reference(op.company, conf.public_base_url()),
        "connectionId": str(op.connection_id),
        "requestedOnDate": jsonutil.format_datetime(op.requested),
        "completedOnDate": jsonutil.format_datetime(now),
        "status": status,
        "attachmentId": None,
    }
    # `record` is an optional object in the Platform spec (its `nullable` sits beside a $ref,
    # which OpenAPI 3.1 ignores), and Codat's own failed-write examples leave it out: a create
    # that failed wrote no record, so there is no id to report.
    if op.record_id:
        payload["record"] = {"id": op.record_id}
    outbox.enqueue_webhook(f"{op.data_type}.write.{outcome}", payload, company_id=op.company_id)


def advance_push(op: PushOperation, now=None) -> None:
    """Give a pending operation its chance to finish or time out when a client reads it."""
    now = now or timezone.now()
    if (
        op.status == PushOperation.Status.PENDING
        and (
            op.due_at <= now
            or (
                op.timeout_in_minutes is not None
                and now >= op.requested + datetime.timedelta(minutes=op.timeout_in_minutes)
            )
        )
        and PushOperation.objects.filter(
            pk=op.pk, status=PushOperation.Status.PENDING, claimed_at__isnull=True
        ).update(claimed_at=now)
    ):
        _process_push_safely(op.pk, now)


# --- Background thread ------------------------------------------------------------------------

_thread_lock = threading.Lock()
_thread: threading.Thread | None = None


def ensure_background() -> None:
    """Start the progression thread once per process, on the first API request."""
    global _thread
    if not conf.background_enabled() or _thread is not None:
        return
    with _thread_lock:
        if _thread is None:
            _thread = threading.Thread(target=_run_forever, name="codat-sandbox", daemon=True)
            _thread.start()


def _run_forever() -> None:
    interval = conf.tick_seconds()
    while True:
        try:
            close_old_connections()
            advance()
            limits.prune()
        except Exception:
            logger.exception("Sandbox background progression failed; retrying")
        finally:
            # Hold no connection between ticks, so the thread never keeps a database busy
            # (a test database being dropped, a migration waiting for a lock).
            connections.close_all()
        time.sleep(interval)
