"""Stage 3: send queued transactions to Codat, each exactly once.

The order of writes is what makes this safe to kill at any line:

1. Rows are claimed (queued -> pushing) and, in the same database transaction, a `Sync` row is
   made with the Idempotency-Key the request will carry and one `SyncTransaction` per row.
2. The request is sent. Codat's answer is saved: accepted (the syncId; rows -> syncing),
   refused, or "try again" (429, 409: the same key is safe to reuse).
3. A 5xx, a timeout or a crash leaves the outcome unknown. Before anything is sent again,
   Codat's syncs are searched for these transactions (`locate`); only if they are in none is
   the batch sent again, under a new key. Codat's own guard backs this up: a transaction id it
   already holds is refused as "previously processed", which is reconciled, never re-sent.

Batches hold one kind (expenses, reimbursables or adjustments, each its own endpoint) and at
most 50 transactions; a transfer is one PUT.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from integrations.codat.client import MAX_TRANSACTIONS_PER_CALL, CodatClient
from integrations.codat.errors import (
    CodatAlreadyProcessedError,
    CodatAuthError,
    CodatConflictError,
    CodatError,
    CodatHeldBackError,
    CodatNotFoundError,
    CodatRateLimitedError,
    CodatTransientError,
    CodatValidationError,
)
from integrations.codat.factory import codat_client
from integrations.companies.models import Company, Connection
from integrations.syncs.models import Sync, SyncTransaction
from integrations.transactions.models import Transaction

from . import claims, health, preflight, reconcile

logger = logging.getLogger(__name__)

Kind = Transaction.Kind
SendState = Sync.SendState

SYNC_KIND = {
    Kind.EXPENSE: Sync.Kind.EXPENSE,
    Kind.REIMBURSABLE: Sync.Kind.REIMBURSABLE,
    Kind.ADJUSTMENT: Sync.Kind.ADJUSTMENT,
    Kind.TRANSFER: Sync.Kind.TRANSFER,
}
# Changes to transactions already in the ledger: one PUT each (transfers: the creating PUT).
EDIT_SYNC_KIND = {
    Kind.EXPENSE: Sync.Kind.EXPENSE_UPDATE,
    Kind.REIMBURSABLE: Sync.Kind.REIMBURSABLE_UPDATE,
    Kind.TRANSFER: Sync.Kind.TRANSFER,
}
SINGLE_PUT_KINDS = (Sync.Kind.TRANSFER, Sync.Kind.EXPENSE_UPDATE, Sync.Kind.REIMBURSABLE_UPDATE)
# Oldest kinds of spend first; transfers last, one PUT each.
PUSH_ORDER = (Kind.EXPENSE, Kind.REIMBURSABLE, Kind.ADJUSTMENT, Kind.TRANSFER)


# How long to wait before resending a request whose first copy Codat still holds (409).
CONFLICT_WAIT = timedelta(seconds=5)


def claim_lease() -> timedelta:
    """A worker holding a sync (or a receipt) longer than this has died; its claim is taken
    over. It must outlast the longest request, so a slow worker is not mistaken for dead."""
    return timedelta(seconds=settings.SYNC_CLAIM_LEASE_SECONDS)


@dataclass
class PushResult:
    sent: int = 0  # syncs Codat accepted in this run
    transactions: int = 0
    # Set when Codat asked us to slow down: the caller re-runs the push after this many seconds.
    retry_after: float | None = None
    blocked: str = ""  # why nothing could be pushed for the company, if so


def push_company(company_id: int, *, batch_size: int = MAX_TRANSACTIONS_PER_CALL) -> PushResult:
    """Push everything queued for the company, resuming any earlier send first.

    `batch_size` is Codat's maximum except in `bench_push --naive`, which sends one
    transaction per call to measure what batching saves.
    """
    company = Company.objects.get(pk=company_id)
    result = PushResult()
    if not can_push(company):
        result.blocked = "The accounting connection is not linked."
        return result
    context = preflight.load_context(company)
    with codat_client() as client:
        for sync in _due_unsent(company):
            if not _send_or_recover(client, context, sync, result):
                return result
        for kind in PUSH_ORDER:
            size = 1 if kind == Kind.TRANSFER else batch_size
            while sync := _claim_batch(company, kind, size):
                if not _send_or_recover(client, context, sync, result):
                    return result
        for kind in EDIT_SYNC_KIND:
            while sync := _claim_batch(company, kind, 1, edit=True):
                if not _send_or_recover(client, context, sync, result):
                    return result
    return result


def resume_sync(sync_id: int) -> PushResult:
    """Finish sending one sync whose send was interrupted (429, 409, 5xx, timeout, crash)."""
    result = PushResult()
    # Claimed like any send: a second poller, or the company's push resuming the same sync,
    # must not work it at the same time (found by the chaos run: one accepted it, the other's
    # late timeout marked it unknown again and it was never followed).
    sync = _claim_sync(sync_id)
    if sync is None:
        return result  # answered already, not due yet, or a live worker holds it
    if not can_push(sync.company):
        result.blocked = "The accounting connection is not linked."
        return result
    context = preflight.load_context(sync.company)
    with codat_client() as client:
        _send_or_recover(client, context, sync, result)
    return result


def companies_waiting(older_than: timedelta) -> list[int]:
    """Companies with transactions queued for longer than `older_than`: their push task was
    lost or gave up, and the poller starts it again (the rows say what is left to send)."""
    cutoff = timezone.now() - older_than
    return list(
        Transaction.objects.filter(status=Transaction.Status.QUEUED, status_changed_at__lt=cutoff)
        .values_list("company_id", flat=True)
        .distinct()
    )


def can_push(company: Company) -> bool:
    # 4040/4220 flag the connection as deauthorised; nothing more is sent until it is relinked.
    connection = company.accounting_connection()
    return (
        company.codat_company_id is not None
        and connection is not None
        and connection.status == Connection.Status.LINKED
    )


def unsent_syncs():
    """Syncs whose request has not been answered: waiting to resend, or of unknown outcome.

    A sync still marked as sending whose claim lease ran out belongs to a worker that died
    mid-request, and counts as unknown.
    """
    now = timezone.now()
    return (
        Sync.objects.filter(
            send_state__in=(SendState.SENDING, SendState.RETRY, SendState.UNKNOWN),
            codat_sync_id__isnull=True,
        )
        .exclude(claimed_at__gte=now - claim_lease())
        .exclude(next_attempt_at__gt=now)
    )


def _due_unsent(company: Company):
    for pk in list(unsent_syncs().filter(company=company).values_list("pk", flat=True)):
        sync = _claim_sync(pk)
        if sync is not None:
            yield sync


def _claim_sync(pk: int) -> Sync | None:
    now = timezone.now()
    won = claims.claim(unsent_syncs().filter(pk=pk), 1, claimed_at=now)
    if not won:
        return None
    sync = Sync.objects.select_related("company").get(pk=pk)
    if sync.send_state == SendState.SENDING:
        # Claimed as sending, so its last sender died between saving the row and hearing back.
        sync.send_state = SendState.UNKNOWN
    return sync


def _claim_batch(company: Company, kind: str, size: int, *, edit: bool = False) -> Sync | None:
    now = timezone.now()
    candidates = Transaction.objects.filter(
        company=company, kind=kind, status=Transaction.Status.QUEUED, pending_edit=edit
    ).order_by("issue_date", "created_at")
    with db_transaction.atomic():
        ids = claims.claim(
            candidates, size, status=Transaction.Status.PUSHING, status_changed_at=now
        )
        if not ids:
            return None
        sync = Sync.objects.create(
            company=company,
            kind=EDIT_SYNC_KIND[kind] if edit else SYNC_KIND[kind],
            total_count=len(ids),
            claimed_at=now,
            requested_at=now,
        )
        SyncTransaction.objects.bulk_create(
            [SyncTransaction(sync=sync, transaction_id=pk) for pk in ids]
        )
    return sync


# --- Sending -------------------------------------------------------------------------------------


def _send_or_recover(client: CodatClient, context, sync: Sync, result: PushResult) -> bool:
    """Send the sync (or find it at Codat first); False when the caller must stop for now."""
    if sync.send_state == SendState.UNKNOWN:
        try:
            # A single PUT's transaction was in the ledger before (an update, a re-PUT), so
            # only a sync started since this request counts as having carried it.
            found = reconcile.locate(
                client,
                sync.company,
                _item_ids(sync),
                since=sync.requested_at,
                include_local=sync.kind not in SINGLE_PUT_KINDS,
            )
        except CodatError as exc:
            delay = _delay_after(exc, sync)
            _wait(sync, SendState.UNKNOWN, timedelta(seconds=delay), exc)
            result.retry_after = delay
            return False
        codat_ids = set(found.values())
        # One sync at Codat carrying exactly this batch, not yet recorded: it is this request's.
        if (
            len(found) == sync.items.count()
            and len(codat_ids) == 1
            and not Sync.objects.filter(codat_sync_id__in=codat_ids).exists()
        ):
            _accept(sync, codat_ids.pop())
            result.sent += 1
            result.transactions += len(found)
            return True
        if found:
            # Some went through under another sync: adopt those, send only the rest.
            reconcile.adopt(sync.company, sync.kind, found)
            SyncTransaction.objects.filter(sync=sync, transaction_id__in=list(found)).delete()
            Sync.objects.filter(pk=sync.pk).update(total_count=sync.items.count())
        # In none of Codat's syncs: safe to send again, under a new key.
        sync.idempotency_key = uuid.uuid4()
        sync.send_state = SendState.SENDING
        sync.attempts += 1
        sync.save(update_fields=["idempotency_key", "send_state", "attempts"])
        if not sync.items.exists():
            _close_empty(sync)
            return True
    elif sync.send_state == SendState.RETRY:
        Sync.objects.filter(pk=sync.pk).update(send_state=SendState.SENDING)
    return _send(client, context, sync, result)


def _item_ids(sync: Sync) -> list:
    return list(sync.items.values_list("transaction_id", flat=True))


def _send(client: CodatClient, context, sync: Sync, result: PushResult) -> bool:
    transactions = list(
        Transaction.objects.filter(sync_items__sync=sync)
        .select_related("supplier", "from_bank_account", "to_bank_account")
        .order_by("issue_date", "created_at")
    )
    company_id = str(sync.company.codat_company_id)
    key = str(sync.idempotency_key)
    try:
        if sync.kind in SINGLE_PUT_KINDS:
            [txn] = transactions
            if sync.kind == Sync.Kind.TRANSFER:
                answer = client.create_transfer_transaction(
                    company_id, str(txn.pk), transfer_body(txn)
                )
            elif sync.kind == Sync.Kind.EXPENSE_UPDATE:
                answer = client.update_expense_transaction(
                    company_id, str(txn.pk), update_body(txn, context)
                )
            else:
                answer = client.update_reimbursable_expense_transaction(
                    company_id, str(txn.pk), update_body(txn, context)
                )
        else:
            bodies = [body_for(txn, context) for txn in transactions]
            send = {
                Sync.Kind.EXPENSE: client.create_expense_transactions,
                Sync.Kind.REIMBURSABLE: client.create_reimbursable_expense_transactions,
                Sync.Kind.ADJUSTMENT: client.create_adjustment_transactions,
            }[sync.kind]
            answer = send(company_id, bodies, idempotency_key=key)
    except CodatRateLimitedError as exc:
        # Codat keeps no 429 against the key, so the same request goes again later.
        wait = exc.retry_after if exc.retry_after is not None else _backoff(sync.attempts)
        _wait(sync, SendState.RETRY, timedelta(seconds=wait), exc)
        result.retry_after = wait
        return False
    except CodatConflictError as exc:
        # The first request with this key is still being processed: ask again shortly.
        _wait(sync, SendState.RETRY, CONFLICT_WAIT, exc)
        result.retry_after = CONFLICT_WAIT.total_seconds()
        return False
    except CodatTransientError as exc:
        # Codat may or may not have started the sync; find out before sending again.
        _wait(sync, SendState.UNKNOWN, timedelta(seconds=_backoff(sync.attempts)), exc)
        result.retry_after = _backoff(sync.attempts)
        return False
    except CodatAlreadyProcessedError as exc:
        return _already_processed(client, sync, exc, result)
    except CodatValidationError as exc:
        _reject(sync, exc, Transaction.AttentionCode.REJECTED_BY_CODAT, validation=True)
        return True
    except (CodatNotFoundError, CodatAuthError) as exc:
        # The company is gone at Codat, or our key may not see it: nothing for this company
        # can go until a person looks, so the rows go back to the queue and stay there.
        _wait(sync, SendState.RETRY, timedelta(seconds=_backoff(sync.attempts)), exc)
        result.blocked = str(exc)
        return False
    except CodatError as exc:
        _reject(sync, exc, Transaction.AttentionCode.REJECTED_BY_CODAT)
        return True
    _accept(sync, answer["syncId"])
    result.sent += 1
    result.transactions += len(transactions)
    return True


def _backoff(attempts: int) -> float:
    base = settings.SYNC_RETRY_BASE_SECONDS
    return min(base * 2**attempts, settings.SYNC_RETRY_MAX_SECONDS)


def _delay_after(error: CodatError, sync: Sync) -> float:
    """Our limiter's own wait for a request it held back; else the send's backoff."""
    if isinstance(error, CodatHeldBackError) and error.retry_after is not None:
        return error.retry_after
    return _backoff(sync.attempts)


def _wait(sync: Sync, state: str, delay: timedelta, error: CodatError) -> None:
    # A request our limiter held back never reached Codat, so it is no attempt: counting it
    # would give a send up within minutes of the quota running out, without having tried.
    attempted = not isinstance(error, CodatHeldBackError)
    Sync.objects.filter(pk=sync.pk).update(
        send_state=state,
        next_attempt_at=timezone.now() + delay,
        claimed_at=None,
        attempts=sync.attempts + attempted,
        last_error=str(error),
    )


def _accept(sync: Sync, codat_sync_id: str) -> None:
    now = timezone.now()
    with db_transaction.atomic():
        Sync.objects.filter(pk=sync.pk).update(
            codat_sync_id=codat_sync_id,
            send_state=SendState.ACCEPTED,
            claimed_at=None,
            attempts=0,
            last_error="",
            # Webhooks should close the sync; the poller looks only if they have not by then.
            next_attempt_at=now + timedelta(seconds=settings.SYNC_POLL_DELAY_SECONDS),
        )
        Transaction.objects.filter(sync_items__sync=sync, status=Transaction.Status.PUSHING).update(
            status=Transaction.Status.SYNCING, status_changed_at=now
        )


def _close_empty(sync: Sync) -> None:
    Sync.objects.filter(pk=sync.pk).update(
        send_state=SendState.REJECTED,
        claimed_at=None,
        last_error="Every transaction was found in another Codat sync.",
    )


def _reject(sync: Sync, error: CodatError, code: str, *, validation: bool = False) -> None:
    """Codat refused the whole request: nothing was written, the rows wait for a person."""
    words = reconcile.readable_reason(SyncTransaction.Status.VALIDATION_ERROR, error.error or "")
    if validation and isinstance(error, CodatValidationError) and error.validation_errors:
        details = "; ".join(item.get("message") or "" for item in error.validation_errors)
        words = reconcile.readable_reason(SyncTransaction.Status.VALIDATION_ERROR, details)
    now = timezone.now()
    with db_transaction.atomic():
        Sync.objects.filter(pk=sync.pk).update(
            send_state=SendState.REJECTED,
            claimed_at=None,
            last_error=str(error),
            failed_count=sync.total_count,
            completed_at=now,
        )
        SyncTransaction.objects.filter(sync=sync).update(
            status=SyncTransaction.Status.VALIDATION_ERROR,
            message=error.error or str(error),
            updated_at=now,
        )
        Transaction.objects.filter(sync_items__sync=sync, status=Transaction.Status.PUSHING).update(
            status=Transaction.Status.FAILED,
            status_changed_at=now,
            **Transaction.attention(code, words, Transaction.Screen.TRANSACTION),
        )
    health.sync_closed_soon(sync.pk)


def _already_processed(
    client: CodatClient, sync: Sync, error: CodatAlreadyProcessedError, result: PushResult
) -> bool:
    """Codat already holds some of these ids: reconcile those, queue the rest again."""
    mentioned = {reconcile.canonical(i) for i in error.transaction_ids}
    carried = _item_ids(sync)
    ids = [pk for pk in carried if reconcile.canonical(pk) in mentioned]
    others = [pk for pk in carried if pk not in ids]
    try:
        found = reconcile.locate(client, sync.company, ids, since=None)
    except CodatError as exc:
        # Nothing decided yet: the recovery of an unknown outcome does this same search.
        delay = _delay_after(exc, sync)
        _wait(sync, SendState.UNKNOWN, timedelta(seconds=delay), exc)
        result.retry_after = delay
        return False
    reconcile.adopt(sync.company, sync.kind, found)
    missing = [pk for pk in ids if pk not in found]
    now = timezone.now()
    with db_transaction.atomic():
        # Neither the adopted ones nor the others were carried by this (refused) request.
        SyncTransaction.objects.filter(sync=sync).delete()
        Sync.objects.filter(pk=sync.pk).update(
            send_state=SendState.REJECTED,
            claimed_at=None,
            total_count=0,
            last_error=str(error),
        )
        Transaction.objects.filter(pk__in=others, status=Transaction.Status.PUSHING).update(
            status=Transaction.Status.QUEUED, status_changed_at=now
        )
        if missing:
            # Codat says it has them, yet none of its syncs lists them (yet): park them where
            # a person sees them rather than send them again.
            Transaction.objects.filter(pk__in=missing, status=Transaction.Status.PUSHING).update(
                status=Transaction.Status.FAILED,
                status_changed_at=now,
                **Transaction.attention(
                    Transaction.AttentionCode.REJECTED_BY_CODAT,
                    (
                        "Codat says this transaction was already sent, but no sync of it was "
                        "found. Check the ledger before sending it again."
                    ),
                    Transaction.Screen.LEDGER,
                ),
            )
    return True


# --- Request bodies ------------------------------------------------------------------------------


def _date(value) -> str:
    return f"{value.isoformat()}T00:00:00"


def _ref(record) -> dict:
    return {"id": record.codat_id}


def _line(txn: Transaction, resolved) -> dict:
    line = {"netAmount": txn.net_amount, "taxAmount": txn.tax_amount}
    if resolved.account is not None:
        line["accountRef"] = _ref(resolved.account)
    if resolved.tax_rate is not None:
        line["taxRateRef"] = _ref(resolved.tax_rate)
    if resolved.tracking:
        line["trackingRefs"] = [
            {"id": category.codat_id, "dataType": "trackingCategories"}
            for category in resolved.tracking
        ]
    return line


def body_for(txn: Transaction, context) -> dict:
    """The JSON Codat takes for one expense, reimbursable or adjustment."""
    resolved = preflight.resolve(txn, context)
    body: dict = {"id": str(txn.pk), "currency": txn.currency}
    if txn.currency_rate is not None:
        body["currencyRate"] = txn.currency_rate
    if txn.reference:
        body["reference"] = txn.reference
    if txn.kind == Kind.EXPENSE:
        body |= {"type": txn.expense_type, "issueDate": _date(txn.issue_date)}
        if txn.merchant_name:
            body["merchantName"] = txn.merchant_name
        if txn.notes:
            body["notes"] = txn.notes
        # Always explicit, so what pre-flight checked is what is booked, whatever Codat's
        # copy of the company defaults says.
        if resolved.bank_account is not None:
            body["bankAccountRef"] = _ref(resolved.bank_account)
        if resolved.contact_kind == "Supplier" and resolved.contact is not None:
            body["contactRef"] = {"id": resolved.contact.codat_id, "type": "Supplier"}
        body["lines"] = [_line(txn, resolved)]
    elif txn.kind == Kind.REIMBURSABLE:
        body |= {
            "issueDate": _date(txn.issue_date),
            "dueDate": _date(txn.due_date or txn.issue_date),
            "contactRef": {"id": txn.supplier.codat_id} if txn.supplier else None,
        }
        if txn.notes:
            body["notes"] = txn.notes
        line = _line(txn, resolved)
        if txn.merchant_name:
            line["description"] = txn.merchant_name
        body["lines"] = [line]
    else:
        # An adjustment moves the amount from the bank account to the category's account.
        total = txn.total_amount
        body["date"] = _date(txn.issue_date)
        body["lines"] = [
            {"amount": total, "accountRef": _ref(resolved.account)},
            {"amount": -total, "accountRef": _ref(resolved.bank_account)},
        ]
    return body


def update_body(txn: Transaction, context) -> dict:
    """The PUT body that changes a transaction already in the ledger: the create body without
    the id (it is in the path) and, for expenses, without what Codat does not update."""
    body = body_for(txn, context)
    del body["id"]
    if txn.kind == Kind.EXPENSE:
        body.pop("reference", None)
    return body


def transfer_body(txn: Transaction) -> dict:
    body = {
        "date": _date(txn.issue_date),
        "from": {"accountRef": _ref(txn.from_bank_account), "amount": txn.from_amount},
        "to": {"accountRef": _ref(txn.to_bank_account), "amount": txn.to_amount},
    }
    if txn.notes or txn.merchant_name:
        body["description"] = txn.notes or txn.merchant_name
    return body
