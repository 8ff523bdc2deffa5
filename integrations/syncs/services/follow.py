"""Stage 4: follow each accepted sync to its end, by webhook first and by polling as fallback.

A sync stays open (no final status code stored) until its transactions are reconciled, so a
worker killed between reading Codat and saving leaves it to the next poll. Polls back off
exponentially; 1010 is stored so the health page shows a long-running sync; 4040/4220 mark the
company's accounting connection deauthorised, which stops the push for that company.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from integrations.codat.client import CodatClient
from integrations.codat.errors import CodatError
from integrations.codat.factory import codat_client
from integrations.companies.models import Company, Connection
from integrations.syncs import events
from integrations.syncs.models import Sync, WebhookEvent

from . import claims, health, push, reconcile

logger = logging.getLogger(__name__)

StatusCode = Sync.StatusCode
DEAUTHORISED_CODES = (StatusCode.COMPANY_NOT_FOUND, StatusCode.COMPANY_DEAUTHORIZED)
SYNC_SUCCESSFUL = "expenses.sync.successful"
SYNC_UNSUCCESSFUL = "expenses.sync.unsuccessful"


def mark_deauthorised(company: Company) -> int:
    """Flag the company's live accounting connection as deauthorised (Codat's 4040/4220).

    The push checks the connection before sending, so this is what stops it; relinking (the
    connection services) makes a new live connection and pushing resumes.
    """
    changed = Connection.objects.filter(
        company=company,
        source_type=Connection.SourceType.ACCOUNTING,
        status=Connection.Status.LINKED,
    ).update(status=Connection.Status.DEAUTHORIZED)
    health.refresh_soon(company.pk)
    return changed


def due_syncs():
    """Accepted syncs still open whose next look is due and that no live worker holds."""
    now = timezone.now()
    return (
        Sync.objects.open()
        .filter(send_state=Sync.SendState.ACCEPTED, codat_sync_id__isnull=False)
        .filter(next_attempt_at__lte=now)
        .exclude(claimed_at__gte=now - push.claim_lease())
    )


def _poll_interval(attempts: int) -> timedelta:
    seconds = settings.SYNC_POLL_DELAY_SECONDS * 2**attempts
    return timedelta(seconds=min(seconds, settings.SYNC_POLL_MAX_SECONDS))


def follow_sync(sync_id: int, *, client: CodatClient | None = None) -> Sync:
    """Read the sync's status from Codat; when it has finished, reconcile its transactions."""
    if not claims.claim(due_syncs().filter(pk=sync_id), 1, claimed_at=timezone.now()):
        return Sync.objects.get(pk=sync_id)  # someone else has it, or it is not due
    sync = Sync.objects.select_related("company").get(pk=sync_id)
    if client is None:
        with codat_client() as client:
            return _follow(client, sync)
    return _follow(client, sync)


def _follow(client: CodatClient, sync: Sync) -> Sync:
    now = timezone.now()
    try:
        status = client.get_sync(str(sync.company.codat_company_id), str(sync.codat_sync_id))
        code = status.get("syncStatusCode")
        if Sync.code_is_terminal(code):
            return _finish(client, sync, status)
    except CodatError as exc:
        Sync.objects.filter(pk=sync.pk).update(
            claimed_at=None,
            attempts=sync.attempts + 1,
            last_error=str(exc),
            next_attempt_at=now
            + max(_poll_interval(sync.attempts), timedelta(seconds=exc.retry_after or 0)),
        )
        raise
    Sync.objects.filter(pk=sync.pk).update(
        status_code=code,
        status_text=status.get("syncStatus") or "",
        last_polled_at=now,
        claimed_at=None,
        attempts=sync.attempts + 1,
        next_attempt_at=now + _poll_interval(sync.attempts),
    )
    sync.refresh_from_db()
    return sync


def _finish(client: CodatClient, sync: Sync, status: dict) -> Sync:
    """Reconcile, then close the sync with Codat's final status (in that order, see above)."""
    code = status.get("syncStatusCode")
    deauthorised = code in DEAUTHORISED_CODES
    if deauthorised:
        mark_deauthorised(sync.company)
    statuses = reconcile.fetch_statuses(client, sync)
    already_there = reconcile.reconcile_sync(
        sync, statuses, deauthorised=deauthorised, duplicate=code == StatusCode.DUPLICATE
    )
    if already_there:
        found = reconcile.locate(client, sync.company, already_there, since=None)
        # Never this sync itself: it is the one that was refused as a duplicate.
        found = {pk: s for pk, s in found.items() if s != reconcile.canonical(sync.codat_sync_id)}
        reconcile.adopt(sync.company, sync.kind, found)
    now = timezone.now()
    with db_transaction.atomic():
        Sync.objects.filter(pk=sync.pk).update(
            status_code=code,
            status_text=status.get("syncStatus") or "",
            error_message=status.get("errorMessage") or status.get("syncExceptionMessage") or "",
            data_pushed=bool(status.get("dataPushed")),
            completed_at=now,
            last_polled_at=now,
            claimed_at=None,
            next_attempt_at=None,
            last_error="",
        )
    health.sync_closed_soon(sync.pk)
    sync.refresh_from_db()
    return sync


@dataclass
class PollResult:
    followed: int = 0
    finished: int = 0
    resumed: int = 0
    errors: int = 0


def poll_due(limit: int = 100) -> PollResult:
    """The poller's pass: follow due open syncs and resume interrupted sends.

    Each item is claimed before it is touched, so several pollers at once share the work.
    """
    result = PollResult()
    for pk in list(due_syncs().values_list("pk", flat=True)[:limit]):
        try:
            sync = follow_sync(pk)
        except CodatError:
            result.errors += 1
            continue
        result.followed += 1
        result.finished += sync.is_terminal
    for pk in list(push.unsent_syncs().values_list("pk", flat=True)[:limit]):
        push.resume_sync(pk)
        result.resumed += 1
    return result


# --- Webhooks ------------------------------------------------------------------------------------


def _event_body(event) -> dict:
    # The envelope is {id, eventType, generatedDate, payload}; accept it or the payload alone.
    payload = event.payload or {}
    inner = payload.get("payload")
    return inner if isinstance(inner, dict) and "syncId" not in payload else payload


@events.handles(SYNC_SUCCESSFUL, SYNC_UNSUCCESSFUL)
def defer_sync_event(event) -> None:
    """The registered handler: hand the event to a task, which reads Codat.

    Handlers run inside the transaction that marks the event processed; reading Codat there
    would hold that write transaction open over HTTP, which on SQLite locks out every other
    writer (the embedded sandbox answering the read included) until it times out. If the task
    is lost, nothing is: the poller follows every open sync once its webhook is overdue.
    """
    from integrations.syncs.tasks import enqueue_sync_event  # the tasks module imports this one

    enqueue_sync_event(event.pk)


def handle_sync_event(event_id: int) -> Sync | None:
    """Finish the sync a stored `expenses.sync.*` event is about; the sync, if it is ours."""
    event = WebhookEvent.objects.select_related("company").filter(pk=event_id).first()
    if event is None:
        return None  # deleted since (with its company): nothing is left to follow
    if event.event_type == SYNC_SUCCESSFUL:
        return handle_sync_successful(event)
    return handle_sync_unsuccessful(event)


def handle_sync_successful(event) -> Sync | None:
    """`expenses.sync.successful`: the sync is done and clean; read its transactions' ids."""
    return _handle_sync_event(event, successful=True)


def handle_sync_unsuccessful(event) -> Sync | None:
    """`expenses.sync.unsuccessful`: read Codat's status (the code says why) and reconcile."""
    return _handle_sync_event(event, successful=False)


def _handle_sync_event(event, *, successful: bool) -> Sync | None:
    body = _event_body(event)
    sync = (
        Sync.objects.select_related("company")
        .filter(codat_sync_id=reconcile.canonical(body.get("syncId")))
        .first()
    )
    if sync is None:
        # Not ours, or the answer to our request has not been saved yet: the poller or the
        # sender's recovery finishes it, so nothing is lost by ignoring the event.
        logger.info("Webhook for unknown sync %s ignored", body.get("syncId"))
        return None
    if sync.is_terminal and reconcile.all_items_settled(sync):
        return sync  # a redelivery, or the poller got there first
    with codat_client() as client:
        if successful:
            # The event itself says the sync succeeded, so one read (of its transactions, for
            # the ledger record ids) finishes it; no status call is spent.
            statuses = reconcile.fetch_statuses(client, sync)
            reconcile.reconcile_sync(sync, statuses)
            written = any(s.get("status") == "Completed" for s in statuses)
            _finish_from_webhook(sync, written)
        else:
            Sync.objects.filter(pk=sync.pk).update(next_attempt_at=timezone.now())
            follow_sync(sync.pk, client=client)
    sync.refresh_from_db()
    return sync


def _finish_from_webhook(sync: Sync, written: bool) -> None:
    now = timezone.now()
    Sync.objects.filter(pk=sync.pk).update(
        status_code=StatusCode.SUCCESS if written else StatusCode.SUCCESS_NOTHING_WRITTEN,
        status_text="Complete",
        data_pushed=written,
        completed_at=now,
        next_attempt_at=None,
        claimed_at=None,
    )
    health.sync_closed_soon(sync.pk)
