"""Thin Celery tasks around the sync pipeline: ids in, a service called, retry policy only.

Enqueue with the `enqueue_*` helpers, which wait for the surrounding database transaction to
commit, so a worker never looks for rows that are not there yet.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from .retry import CodatTask
from .services import follow, preflight, push, receipts, schedule, sweep

# Syncs are recovered from the database by the poller, so task retries only need to cover the
# common short outages; anything longer is picked up on the poller's next pass.
MAX_RETRIES = 5


def enqueue_preflight(company_id: int) -> None:
    transaction.on_commit(lambda: preflight_company.delay(company_id))


def enqueue_push(company_id: int) -> None:
    transaction.on_commit(lambda: push_company.delay(company_id))


def enqueue_receipts(transaction_id) -> None:
    transaction.on_commit(lambda: upload_receipts.delay(str(transaction_id)))


def enqueue_sync_event(event_id: int) -> None:
    transaction.on_commit(lambda: follow_sync_event.delay(event_id))


@shared_task(name="syncs.preflight_company", ignore_result=True)
def preflight_company(company_id: int) -> None:
    if preflight.preflight_company(company_id).queued:
        push_company.delay(company_id)


# Every task that calls Codat retries a retryable error (timeout, 5xx, 429, our limiter holding
# it back) the one way: CodatTask's capped exponential backoff with jitter, or Retry-After.
@shared_task(
    base=CodatTask,
    bind=True,
    name="syncs.push_company",
    ignore_result=True,
    max_retries=MAX_RETRIES,
)
def push_company(self, company_id: int) -> None:
    result = push.push_company(company_id)
    if result.retry_after is not None:
        # The service kept the error on the sync row and worked out the wait (Codat's
        # Retry-After, or its own backoff before checking an unknown outcome).
        raise self.retry(countdown=result.retry_after)


@shared_task(base=CodatTask, name="syncs.follow_sync", ignore_result=True, max_retries=MAX_RETRIES)
def follow_sync(sync_id: int) -> None:
    sync = follow.follow_sync(sync_id)
    if sync.is_terminal:
        for transaction_id in receipts.transactions_with_pending_receipts(sync):
            upload_receipts.delay(str(transaction_id))


@shared_task(
    base=CodatTask, name="syncs.follow_sync_event", ignore_result=True, max_retries=MAX_RETRIES
)
def follow_sync_event(event_id: int) -> None:
    """An `expenses.sync.*` webhook's Codat reads, outside the event's own transaction."""
    sync = follow.handle_sync_event(event_id)
    if sync is not None and sync.is_terminal:
        for transaction_id in receipts.transactions_with_pending_receipts(sync):
            upload_receipts.delay(str(transaction_id))


@shared_task(name="syncs.poll_syncs", ignore_result=True)
def poll_syncs() -> None:
    """Beat: follow open syncs, resume sends, upload receipts, sweep what got stuck."""
    follow.poll_due()
    receipts.sweep_receipts()
    # One task per transaction, so the uploads run side by side on every worker rather than one
    # by one in this pass; a task sent twice finds the receipt claimed and does nothing.
    for transaction_id in receipts.transactions_due():
        upload_receipts.delay(str(transaction_id))
    for company_id in sweep.sweep().push_company_ids:
        push_company.delay(company_id)


@shared_task(name="syncs.run_automatic_syncs", ignore_result=True)
def run_automatic_syncs() -> None:
    """Beat: each due company's automatic sync, claimed so no run starts twice."""
    for company_id in schedule.claim_due_companies():
        preflight_company.delay(company_id)


@shared_task(
    base=CodatTask,
    bind=True,
    name="syncs.upload_receipts",
    ignore_result=True,
    max_retries=MAX_RETRIES,
)
def upload_receipts(self, transaction_id: str) -> None:
    result = receipts.upload_for_transaction(transaction_id)
    if result.retry_after is not None:
        raise self.retry(countdown=result.retry_after)


@shared_task(name="syncs.repair_health", ignore_result=True)
def repair_health() -> None:
    """Beat: bring the staff pages' summaries back in line with the pipeline's rows."""
    from .services import health

    health.repair()
