"""Stage 5: turn Codat's per-transaction statuses into the state of our rows.

Every transition here is idempotent and monotonic, so webhooks delivered twice or out of order
and a poller racing a webhook all end in the state Codat reports:

* `Completed` is final: the row keeps the ledger record id and is never moved back.
* A failure only marks a transaction failed when it comes from the latest sync that carried it
  (an older sync's failure, arriving late, cannot undo a newer attempt).
* "Previously processed" and 5080 mean the transaction is already in the ledger: it is found in
  the sync that wrote it (`locate`) and reconciled from there, never sent again.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction as db_transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from integrations.codat.client import CodatClient
from integrations.codat.errors import is_previously_processed
from integrations.companies.models import Company
from integrations.syncs.models import Sync, SyncTransaction
from integrations.transactions.models import Transaction

logger = logging.getLogger(__name__)

ItemStatus = SyncTransaction.Status
FAILED_ITEM_STATUSES = (ItemStatus.VALIDATION_ERROR, ItemStatus.PUSH_ERROR)
TERMINAL_ITEM_STATUSES = (ItemStatus.COMPLETED, *FAILED_ITEM_STATUSES)
# Syncs that change a transaction already in the ledger (a transfer's later PUT is one too).
CHANGE_KINDS = (Sync.Kind.EXPENSE_UPDATE, Sync.Kind.REIMBURSABLE_UPDATE, Sync.Kind.TRANSFER)
# Codat's clock and ours differ; a sync started just before we saved our request still counts.
CLOCK_SLACK = timedelta(minutes=2)


def canonical(transaction_id) -> str:
    """A transaction id as compared: Codat may echo our UUIDs in another spelling."""
    try:
        return str(uuid.UUID(str(transaction_id)))
    except ValueError:
        return str(transaction_id).lower()


# Codat's messages, matched loosely, to the headline a person understands.
_HEADLINES = (
    (re.compile(r"archived|deleted|inactive", re.I), "A ledger record it uses is archived"),
    (re.compile(r"lock date|locked|closed period", re.I), "The ledger is locked for its date"),
    (re.compile(r"not valid for|valid transaction type", re.I), "An account cannot take it"),
    (re.compile(r"currency|exchange rate|currencyRate", re.I), "The currencies do not fit"),
    (re.compile(r"not found|does not exist", re.I), "A ledger record it uses no longer exists"),
    (re.compile(r"not authori[sz]ed|de-?authori[sz]ed", re.I), "The ledger is disconnected"),
    (re.compile(r"credit card", re.I), "It needs a credit card account"),
)


def readable_reason(status: str, message: str) -> str:
    """Codat's message with a plain-words headline in front of it."""
    message = (message or "").strip()
    headline = next((words for pattern, words in _HEADLINES if pattern.search(message)), None)
    who = "Codat" if status == ItemStatus.VALIDATION_ERROR else "The accounting software"
    text = f"{who} refused it"
    if headline:
        text = f"{headline}. {text}"
    return f"{text}: {message}" if message else f"{text}."


# --- Applying statuses ---------------------------------------------------------------------------


def fetch_statuses(client: CodatClient, sync: Sync) -> list[dict]:
    # One request for a sync of up to 50 transactions: the read that yields the record ids.
    return list(
        client.paginate(
            client.list_sync_transactions,
            str(sync.company.codat_company_id),
            str(sync.codat_sync_id),
        )
    )


def reconcile_sync(
    sync: Sync, statuses: Iterable[dict], *, deauthorised: bool = False, duplicate: bool = False
) -> list:
    """Store Codat's statuses on the sync's items and their transactions.

    Returns the ids of transactions Codat reports as already processed elsewhere, which the
    caller locates (`locate` + `adopt`) instead of failing or re-sending them.
    """
    by_id = {canonical(s.get("transactionId")): s for s in statuses}
    now = timezone.now()
    already_there = []
    changed = []
    completed = []
    with db_transaction.atomic():
        for item in sync.items.select_for_update().all():
            reported = by_id.get(canonical(item.transaction_id))
            if reported is None:
                continue
            status = reported.get("status") or ItemStatus.UNKNOWN
            message = reported.get("message") or ""
            if item.status == ItemStatus.COMPLETED and status != ItemStatus.COMPLETED:
                continue  # Completed is final, whatever a stale answer says
            if (item.status, item.message) != (status, message):
                item.status = status
                item.message = message
                if status == ItemStatus.COMPLETED:
                    # For a completed transaction Codat's message is the ledger record's id.
                    item.ledger_record_id = message
                item.updated_at = now
                changed.append(item)
            if status in FAILED_ITEM_STATUSES and (duplicate or is_previously_processed(message)):
                already_there.append(item.transaction_id)
            elif status == ItemStatus.COMPLETED:
                completed.append(item)
            else:
                _apply(sync, item, deauthorised=deauthorised, now=now)
        # A whole sync in a fixed number of queries: this runs for every sync of every push.
        SyncTransaction.objects.bulk_update(
            changed, ["status", "message", "ledger_record_id", "updated_at"], batch_size=500
        )
        _complete(sync, completed, now=now)
        _count(sync)
    return already_there


def _complete(sync: Sync, items: list[SyncTransaction], *, now: datetime) -> None:
    """`_apply` for completed items, all in one UPDATE: each row keeps its ledger record id."""
    superseded = set(
        SyncTransaction.objects.filter(
            transaction_id__in=[item.transaction_id for item in items],
            sync__send_state=Sync.SendState.ACCEPTED,
            sync__pk__gt=sync.pk,
            sync__kind__in=CHANGE_KINDS,
        ).values_list("transaction_id", flat=True)
    )
    record_ids = {
        i.transaction_id: i.ledger_record_id for i in items if i.transaction_id not in superseded
    }
    if not record_ids:
        return
    Transaction.objects.filter(pk__in=list(record_ids)).exclude(
        status=Transaction.Status.COMPLETED
    ).update(
        status=Transaction.Status.COMPLETED,
        status_changed_at=now,
        ledger_record_id=Case(
            *(When(pk=pk, then=Value(record)) for pk, record in record_ids.items()),
            output_field=CharField(),
        ),
        pending_edit=False,
        **Transaction.attention(),
    )


def _apply(sync: Sync, item: SyncTransaction, *, deauthorised: bool, now: datetime) -> None:
    rows = Transaction.objects.filter(pk=item.transaction_id)
    if item.status == ItemStatus.COMPLETED:
        # In the ledger. Only a later change (an update sync) has more recent news to tell.
        if _superseded(sync, item, kinds=CHANGE_KINDS):
            return
        rows.exclude(status=Transaction.Status.COMPLETED).update(
            status=Transaction.Status.COMPLETED,
            status_changed_at=now,
            ledger_record_id=item.ledger_record_id,
            pending_edit=False,
            **Transaction.attention(),
        )
        return
    if item.status not in FAILED_ITEM_STATUSES or _superseded(sync, item):
        return
    in_flight = rows.filter(status__in=Transaction.IN_FLIGHT_STATUSES)
    if deauthorised:
        # Nothing was written; pre-flight sends it again once the ledger is relinked.
        in_flight.update(
            status=Transaction.Status.NEEDS_ATTENTION,
            status_changed_at=now,
            **Transaction.attention(
                Transaction.AttentionCode.CONNECTION_NOT_LINKED,
                (
                    "The accounting software was disconnected before this could be written. "
                    "Reconnect it and it will be sent again."
                ),
                Transaction.Screen.CONNECTION,
            ),
        )
        return
    reason = readable_reason(item.status, item.message)
    if rows.filter(pending_edit=True).exists():
        reason = f"The change was not made; the ledger keeps the earlier version. {reason}"
    in_flight.update(
        status=Transaction.Status.FAILED,
        status_changed_at=now,
        **Transaction.attention(
            (
                Transaction.AttentionCode.REJECTED_BY_CODAT
                if item.status == ItemStatus.VALIDATION_ERROR
                else Transaction.AttentionCode.REJECTED_BY_LEDGER
            ),
            reason,
            Transaction.Screen.TRANSACTION,
        ),
    )


def _superseded(sync: Sync, item: SyncTransaction, kinds=None) -> bool:
    """Whether a later accepted sync (of one of `kinds`) carries the same transaction."""
    later = SyncTransaction.objects.filter(
        transaction_id=item.transaction_id,
        sync__send_state=Sync.SendState.ACCEPTED,
        sync__pk__gt=sync.pk,
    ).exclude(pk=item.pk)
    if kinds is not None:
        later = later.filter(sync__kind__in=kinds)
    return later.exists()


def _count(sync: Sync) -> None:
    items = list(sync.items.values_list("status", flat=True))
    Sync.objects.filter(pk=sync.pk).update(
        total_count=len(items),
        completed_count=items.count(ItemStatus.COMPLETED),
        failed_count=sum(1 for s in items if s in FAILED_ITEM_STATUSES),
    )


def all_items_settled(sync: Sync) -> bool:
    return not sync.items.exclude(status__in=TERMINAL_ITEM_STATUSES).exists()


# --- Already in the ledger -----------------------------------------------------------------------


def locate(
    client: CodatClient,
    company: Company,
    transaction_ids: Iterable,
    *,
    since: datetime | None,
    include_local: bool = True,
) -> dict:
    """Find which Codat sync holds each transaction: {transaction pk: Codat syncId}.

    Our own accepted syncs are looked at first (no request). Then Codat's list of syncs, each
    sync we do not know yet (optionally only those started after `since`) read for its
    transactions. A failed attempt does not count as holding the transaction.
    """
    wanted = {canonical(pk): pk for pk in transaction_ids}
    found: dict = {}
    local = SyncTransaction.objects.filter(
        transaction_id__in=list(wanted.values()) if include_local else [],
        sync__send_state=Sync.SendState.ACCEPTED,
        sync__codat_sync_id__isnull=False,
    ).exclude(status__in=FAILED_ITEM_STATUSES)
    for pk, codat_sync_id in local.values_list("transaction_id", "sync__codat_sync_id"):
        found[pk] = str(codat_sync_id)
    missing = {key: pk for key, pk in wanted.items() if pk not in found}
    if not missing:
        return found
    company_id = str(company.codat_company_id)
    known = {
        canonical(s)
        for s in Sync.objects.filter(company=company, codat_sync_id__isnull=False).values_list(
            "codat_sync_id", flat=True
        )
    }
    for status in client.list_syncs(company_id):
        sync_id = status.get("syncId")
        if not sync_id or canonical(sync_id) in known or not _started_after(status, since):
            continue
        for item in client.paginate(client.list_sync_transactions, company_id, sync_id):
            key = canonical(item.get("transactionId"))
            if key in missing and item.get("status") not in FAILED_ITEM_STATUSES:
                found[missing.pop(key)] = canonical(sync_id)
        if not missing:
            break
    return found


def _started_after(status: dict, since: datetime | None) -> bool:
    if since is None or not status.get("syncUtc"):
        return True
    try:
        started = datetime.fromisoformat(str(status["syncUtc"]).replace("Z", "+00:00"))
    except ValueError:
        return True
    if started.tzinfo is None:
        started = started.replace(tzinfo=since.tzinfo)
    return started >= since - CLOCK_SLACK


def adopt(company: Company, kind: str, found: dict) -> list[Sync]:
    """Record the Codat syncs that hold these transactions, so following them reconciles them.

    A sync we did not know becomes a row due for polling now; a sync we knew and had already
    reconciled re-applies its result to the transactions.
    """
    now = timezone.now()
    adopted = []
    by_sync: dict[str, list] = {}
    for pk, codat_sync_id in found.items():
        by_sync.setdefault(codat_sync_id, []).append(pk)
    with db_transaction.atomic():
        for codat_sync_id, pks in by_sync.items():
            sync, created = Sync.objects.get_or_create(
                codat_sync_id=codat_sync_id,
                defaults={
                    "company": company,
                    "kind": kind,
                    "send_state": Sync.SendState.ACCEPTED,
                    "next_attempt_at": now,
                    "requested_at": now,
                },
            )
            for pk in pks:
                SyncTransaction.objects.get_or_create(sync=sync, transaction_id=pk)
            Transaction.objects.filter(pk__in=pks, status=Transaction.Status.PUSHING).update(
                status=Transaction.Status.SYNCING, status_changed_at=now
            )
            if not created:
                for item in sync.items.filter(transaction_id__in=pks):
                    _apply(sync, item, deauthorised=False, now=now)
                if not all_items_settled(sync):
                    Sync.objects.filter(pk=sync.pk).update(next_attempt_at=now)
            _count(sync)
            adopted.append(sync)
    return adopted
