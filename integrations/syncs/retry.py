"""The one retry policy for work that calls Codat: capped exponential backoff with full jitter,
or exactly what Codat (or our own limiter) asked for when it said how long to wait.

Tasks use it by declaring ``base=CodatTask``::

    @shared_task(base=CodatTask, name="syncs.push_company")
    def push_company(company_id): ...

A retryable Codat error (timeout, 5xx, 429, 409 in flight, limiter refusal) escaping the task
sends it again later; anything else fails the task as usual. The task body stays free of retry
code, and the services it calls stay free of Celery.
"""

from __future__ import annotations

import random

from celery import Task

# Codat's own SDK gives up after an hour; ten attempts with a 10-minute cap span about that.
DEFAULT_MAX_RETRIES = 10
DEFAULT_BASE_SECONDS = 2.0
DEFAULT_CAP_SECONDS = 600.0
# Added on top of a Retry-After, so tasks told "retry in 30 s" do not all wake in one instant.
RETRY_AFTER_SPREAD_SECONDS = 2.0


def backoff_seconds(
    attempt: int,
    base: float = DEFAULT_BASE_SECONDS,
    cap: float = DEFAULT_CAP_SECONDS,
    *,
    rng: random.Random | None = None,
) -> float:
    """Full jitter: a uniform wait in ``[0, min(cap, base * 2 ** attempt)]``.

    Spreading retries over the whole window, rather than around its top, is what stops many
    workers that failed together from retrying together (AWS's "Exponential Backoff And Jitter").
    ``attempt`` counts from 0 for the first retry.
    """
    ceiling = min(cap, base * 2 ** min(max(attempt, 0), 32))
    return (rng or random).uniform(0, ceiling)


def retry_delay(
    exc: BaseException,
    attempt: int,
    base: float = DEFAULT_BASE_SECONDS,
    cap: float = DEFAULT_CAP_SECONDS,
    *,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retrying after ``exc``: its Retry-After if it carries one."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return float(retry_after) + (rng or random).uniform(0, RETRY_AFTER_SPREAD_SECONDS)
    return backoff_seconds(attempt, base, cap, rng=rng)


def is_retryable(exc: BaseException) -> bool:
    # CodatError subclasses say it themselves (errors.py); our limiter's refusals are among them.
    return bool(getattr(exc, "retryable", False))


class CodatTask(Task):
    """Celery base class: retry retryable Codat errors with ``retry_delay``, up to max_retries.

    Subclass attributes (or task options) tune it: ``max_retries``, ``backoff_base``,
    ``backoff_cap``. Once the retries are spent the error propagates and the task fails; the
    rows the task works on say where the work stands, so a sweeper can pick it up later.
    """

    max_retries = DEFAULT_MAX_RETRIES
    backoff_base = DEFAULT_BASE_SECONDS
    backoff_cap = DEFAULT_CAP_SECONDS

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if not is_retryable(exc):
                raise
            countdown = retry_delay(exc, self.request.retries, self.backoff_base, self.backoff_cap)
            # retry() raises Retry to end this run, or re-raises exc once max_retries is spent.
            raise self.retry(exc=exc, countdown=countdown) from exc
