"""Thin Celery tasks around the ledger-read services: ids in, a service called, retry policy only.

Every task is safe to run twice or late: each step is claimed in the database, so a duplicate
delivery finds nothing to do.
"""

from celery import shared_task

from integrations.syncs.retry import CodatTask

from . import services

# Retryable Codat errors (timeouts, 5xx, 429 with its Retry-After) go again with CodatTask's
# capped exponential backoff and jitter; the read itself fails after as many attempts.
_RETRY = {"base": CodatTask, "backoff_base": 10, "max_retries": services.MAX_ATTEMPTS}


@shared_task(**_RETRY)
def start_read(read_id: int) -> None:
    services.start_read(read_id)


@shared_task(bind=True, **_RETRY)
def check_read(self, read_id: int) -> None:
    if not services.check_read(read_id):
        # Still reading: look again later, waiting longer each time (the read times itself
        # out, so this ends).
        delay = services.poll_delay(self.request.retries + 1).total_seconds()
        raise self.retry(countdown=delay, max_retries=None)


@shared_task(**_RETRY)
def import_read(read_id: int) -> None:
    services.import_read(read_id)


@shared_task
def refresh_due_ledgers() -> None:
    """Beat: restart stalled reads, then open the scheduled ones that are due."""
    services.sweep_reads()
    services.refresh_due_ledgers()


@shared_task(bind=True, base=CodatTask, backoff_base=2, max_retries=10)
def follow_write(self, write_id: int) -> None:
    """Follow a record being created in the ledger until Codat says how it went."""
    from . import writes

    write = writes.follow_write(write_id)
    if write is not None and not write.is_terminal:
        # Codat writes take seconds; look again soon, then less often (the service gives up
        # on its own after a while, so this ends).
        raise self.retry(countdown=min(2 * (self.request.retries + 1), 30), max_retries=None)
