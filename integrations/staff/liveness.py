"""Is the Celery worker alive, and is beat sending its schedule?

Beat sends `expenses_portal.heartbeat` every 30 s and a worker stamps the shared cache when it
runs it, so the stamp's age covers both. A ping (broadcast, short timeout) tells the worker
apart: the worker answers yet the stamp is stale means beat has stopped. Brokers without
broadcast (the file-system broker of `make run`) cannot ping; then only the stamp speaks.
The ping's answer is cached briefly so the overview never waits on it twice in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from expenses_portal.celery import HEARTBEAT_CACHE_KEY, app

PING_CACHE_KEY = "staff:worker-ping"
# Brokers whose ping goes nowhere: no answer there says nothing about the worker.
NO_BROADCAST = ("filesystem", "memory")
PING_TIMEOUT = 0.5
PING_CACHE_SECONDS = 15
# Beat sends the heartbeat every 30 s: three missed beats is down, not late.
STALE_AFTER_SECONDS = 90


@dataclass(frozen=True)
class Liveness:
    worker: str  # "up", "down" or "unknown"
    workers: int
    beat: str  # "up", "down" or "unknown"
    heartbeat_age: int | None

    @property
    def worker_tone(self):
        return {"up": "ok", "down": "failed"}.get(self.worker, "never_synced")

    @property
    def beat_tone(self):
        return {"up": "ok", "down": "failed"}.get(self.beat, "never_synced")


def _ping() -> int | None:
    """How many workers answered a ping; None when the broker cannot broadcast."""
    if settings.CELERY_BROKER_URL.split(":", 1)[0] in NO_BROADCAST:
        return None
    cached = cache.get(PING_CACHE_KEY)
    if cached is not None:
        return None if cached < 0 else cached
    try:
        answers = app.control.ping(timeout=PING_TIMEOUT) or []
        count = len(answers)
    except Exception:  # brokers without broadcast raise their own errors
        count = -1
    cache.set(PING_CACHE_KEY, count, timeout=PING_CACHE_SECONDS)
    return None if count < 0 else count


def heartbeat_age(now: datetime | None = None) -> int | None:
    stamp = cache.get(HEARTBEAT_CACHE_KEY)
    if not stamp:
        return None
    return round(((now or timezone.now()) - datetime.fromisoformat(stamp)).total_seconds())


def check(now: datetime | None = None) -> Liveness:
    age = heartbeat_age(now)
    fresh = age is not None and age <= STALE_AFTER_SECONDS
    workers = _ping()
    if workers is None:
        worker = "up" if fresh else "unknown"
        beat = "up" if fresh else ("down" if age is not None else "unknown")
        return Liveness(worker, 0, beat, age)
    worker = "up" if workers else "down"
    if fresh:
        beat = "up"
    elif workers:
        beat = "down"  # a worker answers, so the stamp is stale for want of beat
    else:
        beat = "unknown"
    return Liveness(worker, workers, beat, age)
