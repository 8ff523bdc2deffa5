"""The retry policy tasks share: full-jitter backoff, Retry-After first, CodatTask."""

import random

import pytest
from celery import shared_task

from expenses_portal.celery import app as celery_app
from integrations.codat import CodatRateLimitedError, CodatTransientError, CodatValidationError
from integrations.syncs import retry
from integrations.syncs.retry import CodatTask, backoff_seconds, retry_delay


def test_backoff_is_full_jitter_under_a_growing_capped_ceiling():
    rng = random.Random(7)
    for attempt, ceiling in [(0, 2), (1, 4), (3, 16), (8, 512), (9, 600), (50, 600)]:
        waits = [backoff_seconds(attempt, base=2, cap=600, rng=rng) for _ in range(300)]
        assert all(0 <= w <= ceiling for w in waits)
        # Spread over the whole window, not bunched at its top.
        assert min(waits) < ceiling * 0.1 and max(waits) > ceiling * 0.9


def test_retry_after_wins_over_backoff():
    rng = random.Random(1)
    limited = CodatRateLimitedError("429", method="GET", path="/x", retry_after=30)
    transient = CodatTransientError("503", method="GET", path="/x")

    assert 30 <= retry_delay(limited, attempt=5, rng=rng) <= 30 + retry.RETRY_AFTER_SPREAD_SECONDS
    assert 0 <= retry_delay(transient, attempt=0, base=2, rng=rng) <= 2


@pytest.fixture
def eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _flaky_task(name, errors):
    calls = []

    @shared_task(base=CodatTask, name=name, max_retries=2)
    def task(x):
        calls.append(x)
        if errors:
            raise errors.pop(0)
        return x * 2

    return task, calls


def test_codat_task_retries_retryable_errors_with_their_delay(eager, monkeypatch):
    countdowns = []
    original = CodatTask.retry

    def spy(self, *args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CodatTask, "retry", spy)
    task, calls = _flaky_task(
        "tests.retry_ok",
        [
            CodatRateLimitedError("429", method="GET", path="/x", retry_after=12),
            CodatTransientError("503", method="GET", path="/x"),
        ],
    )

    assert task.apply(args=(4,)).get() == 8
    assert calls == [4, 4, 4]
    assert 12 <= countdowns[0] <= 14
    assert 0 <= countdowns[1] <= retry.DEFAULT_BASE_SECONDS * 2


def test_codat_task_gives_up_after_max_retries_and_never_retries_permanent_errors(eager):
    def transient():
        return CodatTransientError("503", method="GET", path="/x")

    task, calls = _flaky_task("tests.retry_exhausted", [transient() for _ in range(5)])
    with pytest.raises(CodatTransientError):
        task.apply(args=(1,)).get()
    assert len(calls) == 3  # the first run and max_retries=2 more

    invalid = CodatValidationError("bad", method="POST", path="/x")
    task, calls = _flaky_task("tests.retry_permanent", [invalid])
    with pytest.raises(CodatValidationError):
        task.apply(args=(1,)).get()
    assert calls == [1]
