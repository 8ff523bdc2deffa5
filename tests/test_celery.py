"""A task really travels through the configured broker to a worker (Redis in CI)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from expenses_portal.celery import HEARTBEAT_CACHE_KEY, app, heartbeat


@pytest.mark.django_db
def test_a_worker_runs_a_task_sent_through_the_broker():
    cache.delete(HEARTBEAT_CACHE_KEY)
    # perform_ping_check needs a result backend, which we deliberately do not keep.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        heartbeat.delay()
        deadline = time.monotonic() + 20
        while cache.get(HEARTBEAT_CACHE_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


def test_beat_schedules_the_heartbeat():
    assert app.conf.beat_schedule["heartbeat"]["task"] == heartbeat.name
