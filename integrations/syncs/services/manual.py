"""A person's "Sync now": everything ready, or the rows they chose, or one test post.

Pre-flight runs here, in the request (it reads only our own cached ledger, never Codat), so
the page can say at once how many rows went to the queue and how many need attention; the
push to Codat happens in the worker. Only the chosen rows are queued: ready rows the person
did not pick stay ready for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable

from integrations.companies.models import AuditEvent, Company

from .. import tasks
from .preflight import PreflightResult, preflight_company
from .push import can_push


class SyncNowError(Exception):
    """Why nothing could be sent, in plain words."""


def sync_now(
    company: Company, *, transaction_ids: Iterable | None = None, actor=None, test_post=False
) -> PreflightResult:
    if not can_push(company):
        raise SyncNowError("Connect your accounting software before syncing.")
    ids = None if transaction_ids is None else [str(pk) for pk in transaction_ids]
    result = preflight_company(company.pk, transaction_ids=ids)
    AuditEvent.record(
        actor,
        "sync.test_post" if test_post else "sync.now",
        obj=company,
        after={
            "chosen": "everything ready" if ids is None else len(ids),
            "queued": result.queued,
            "needs_attention": result.needs_attention,
        },
    )
    if result.queued:
        tasks.enqueue_push(company.pk)
    return result
