"""Thin Celery tasks around the sync pipeline: ids in, a service called, retry policy only.

Enqueue with the `enqueue_*` helpers, which wait for the surrounding database transaction to
commit, so a worker never looks for rows that are not there yet.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction

from integrations.codat.errors import CodatError

from .services import follow, preflight, push, receipts

# Syncs are recovered from the database by the poller, so task retries only need to cover the
# common short outages; anything longer is picked up on the poller's next pass.
MAX_RETRIES = 5


def enqueue_preflight(company_id: int) -> None:
    transaction.on_commit(lambda: preflight_company.delay(company_id))


def enqueue_push(company_id: int) -> None:
    transaction.on_commit(lambda: push_company.delay(company_id))


def enqueue_receipts(transaction_id) -> None:
    transaction.on_commit(lambda: upload_receipts.delay(str(transaction_id)))


@shared_task(name="syncs.preflight_company", ignore_result=True)
def preflight_company(company_id: int) -> None:
    if preflight.preflight_company(company_id).queued:
        push_company.delay(company_id)


@shared_task(bind=True, name="syncs.push_company", ignore_result=True, max_retries=MAX_RETRIES)
def push_company(self, company_id: int) -> None:
    result = push.push_company(company_id)
    if result.retry_after is not None:
        # Codat asked us to wait (429 Retry-After, 409) or the outcome must be checked first.
        raise self.retry(countdown=result.retry_after)


@shared_task(
    bind=True,
    name="syncs.follow_sync",
    ignore_result=True,
    max_retries=MAX_RETRIES,
)
def follow_sync(self, sync_id: int) -> None:
    try:
        sync = follow.follow_sync(sync_id)
    except CodatError as exc:
        if not exc.retryable:
            raise
        raise self.retry(exc=exc, countdown=exc.retry_after or 2**self.request.retries) from exc
    if sync.is_terminal:
        for transaction_id in receipts.transactions_with_pending_receipts(sync):
            upload_receipts.delay(str(transaction_id))


@shared_task(name="syncs.poll_syncs", ignore_result=True)
def poll_syncs() -> None:
    follow.poll_due()
    # One task per transaction, so the uploads run side by side on every worker rather than one
    # by one in this pass; a task sent twice finds the receipt claimed and does nothing.
    for transaction_id in receipts.transactions_due():
        upload_receipts.delay(str(transaction_id))
    for company_id in push.companies_waiting(timedelta(seconds=settings.SYNC_STALE_QUEUE_SECONDS)):
        push_company.delay(company_id)


@shared_task(bind=True, name="syncs.upload_receipts", ignore_result=True, max_retries=MAX_RETRIES)
def upload_receipts(self, transaction_id: str) -> None:
    result = receipts.upload_for_transaction(transaction_id)
    if result.retry_after is not None:
        raise self.retry(countdown=result.retry_after)
