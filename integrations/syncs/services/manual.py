"""A person's "Sync now": everything ready, or the rows they chose, or one test post.

Pre-flight runs here, in the request (it reads only our own cached ledger, never Codat), so
the page can say at once how many rows went to the queue and how many need attention; the
push to Codat happens in the worker. Only the chosen rows are queued: ready rows the person
did not pick stay ready for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from integrations.companies.models import AuditEvent, Company
from integrations.transactions.models import Transaction

from .. import tasks
from .preflight import PreflightResult, preflight_company
from .push import can_push


class SyncNowError(Exception):
    """Why nothing could be sent, in plain words."""


def sync_now(
    company: Company,
    *,
    transaction_ids: Iterable | None = None,
    actor=None,
    test_post=False,
    retry_failed=False,
) -> PreflightResult:
    """Pre-flight and queue the chosen rows (None: everything ready). With `retry_failed`,
    rows Codat or the ledger refused (among the chosen, or all of them) are made ready first:
    pre-flight never picks failed rows up by itself, as they wait for a person's decision."""
    if not can_push(company):
        raise SyncNowError("Connect your accounting software before syncing.")
    ids = None if transaction_ids is None else [str(pk) for pk in transaction_ids]
    retried = _ready_failed(company, ids) if retry_failed else 0
    result = preflight_company(company.pk, transaction_ids=ids)
    AuditEvent.record(
        actor,
        "sync.test_post" if test_post else "sync.now",
        obj=company,
        after={
            "chosen": "everything ready" if ids is None else len(ids),
            "retried": retried,
            "queued": result.queued,
            "needs_attention": result.needs_attention,
        },
    )
    if result.queued:
        tasks.enqueue_push(company.pk)
    return result


def _ready_failed(company: Company, ids: list | None) -> int:
    rows = Transaction.objects.filter(company=company, status=Transaction.Status.FAILED)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    # The reason is kept until pre-flight clears or replaces it, so a retry that fails again
    # still explains itself.
    return rows.update(status=Transaction.Status.READY, status_changed_at=timezone.now())
