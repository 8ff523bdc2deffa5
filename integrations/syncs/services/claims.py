"""Claiming rows so that two workers never do the same work.

PostgreSQL locks the candidate rows with SELECT ... FOR UPDATE SKIP LOCKED, so a second worker
skips what the first holds instead of waiting for it. SQLite has no row locks; there each row is
claimed with a conditional UPDATE that only one caller can win (the sandbox engine's pattern).
Either way the caller gets back exactly the primary keys it now owns.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import QuerySet


def claim(candidates: QuerySet, limit: int, **changes) -> list:
    """Apply `changes` to at most `limit` rows of `candidates` and return their keys.

    `candidates` must filter on the state being left (e.g. status=queued), so a row another
    worker claimed first no longer matches. Call it inside `transaction.atomic()` when the
    claim must commit together with other writes.
    """
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            keys = list(
                candidates.select_for_update(skip_locked=True, of=("self",)).values_list(
                    "pk", flat=True
                )[:limit]
            )
            if keys:
                candidates.model.objects.filter(pk__in=keys).update(**changes)
            return keys
        keys = list(candidates.values_list("pk", flat=True)[:limit])
        return [key for key in keys if candidates.filter(pk=key).update(**changes)]
