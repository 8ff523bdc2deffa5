"""Codat's limits, kept for every process and machine at once.

- **Concurrency**: at most ``CODAT_CONCURRENCY_PER_COMPANY`` (10) requests in flight per Codat
  company. Slots live in Redis when ``REDIS_URL`` is set (a sorted set of tokens scored by lease
  deadline, claimed by one Lua script) and in the database otherwise (``RequestLease`` rows
  claimed by a conditional UPDATE). Either way a slot is a lease that runs out on its own, so a
  worker killed mid-request frees its slot after ``CODAT_SLOT_LEASE_SECONDS``.
- **Daily quota**: every response's ``X-Rate-Limit-*`` is kept in the shared cache. Background
  work refuses to start a request once only the reserve (``CODAT_QUOTA_RESERVE``) is left, and
  for ``Retry-After`` after any 429; interactive callers (a person waiting on a page) may use
  the reserve.

``CodatLimiter`` is the ``RequestGate`` that ``integrations.codat.factory.codat_client`` gives
every client. Refusals reach callers as ``CodatHeldBackError`` / ``CodatQuotaReservedError``
(both retryable ``CodatRateLimitedError``s carrying ``retry_after``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from redis.exceptions import RedisError

from integrations.codat.errors import GateRefusal, RateLimit

from . import events
from .models import RequestLease, WebhookEvent

logger = logging.getLogger(__name__)

QUOTA_CACHE_KEY = "codat:quota"
HOLD_CACHE_KEY = "codat:hold-until"
REDIS_KEY_PREFIX = "codat:inflight:"
# How long a caller that found no free slot is told to wait before trying again.
BUSY_RETRY_SECONDS = 2.0


# --- The daily quota ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaState:
    """The latest X-Rate-Limit-* Codat sent, as all processes see it."""

    limit: int | None
    remaining: int
    reset: datetime | None
    observed_at: datetime

    def seconds_to_reset(self, now: datetime) -> float:
        if self.reset is None:
            # Codat resets at 00:00 UTC; without the header, assume that.
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            return (tomorrow - now).total_seconds()
        return max((self.reset - now).total_seconds(), 0.0)


def reserve_size(limit: int | None, setting: str | None = None) -> int:
    """Requests kept back for interactive use: a count, or a share of the daily limit."""
    setting = setting if setting is not None else settings.CODAT_QUOTA_RESERVE
    if setting.endswith("%"):
        return math.ceil(limit * int(setting[:-1]) / 100) if limit else 0
    return int(setting)


def quota_state(now: datetime | None = None) -> QuotaState | None:
    """The quota as last reported, or None if unknown or its reset time has passed."""
    return _current(cache.get(QUOTA_CACHE_KEY), now or timezone.now())


def record_rate_limit(rate_limit: RateLimit, now: datetime | None = None) -> None:
    if rate_limit.remaining is None:
        return
    now = now or timezone.now()
    previous = quota_state(now)
    if previous is not None and previous.reset == rate_limit.reset:
        # Within one quota window the count only falls; an answer that overtook a later one
        # on the way back must not raise it again.
        remaining = min(previous.remaining, rate_limit.remaining)
    else:
        remaining = rate_limit.remaining
    state = QuotaState(
        limit=rate_limit.limit, remaining=remaining, reset=rate_limit.reset, observed_at=now
    )
    timeout = state.seconds_to_reset(now) + 60 if state.reset else 24 * 3600
    cache.set(QUOTA_CACHE_KEY, state, timeout=timeout)


def hold_background(seconds: float, now: datetime | None = None) -> None:
    """Keep background requests back for ``seconds`` (a 429's Retry-After), in every process."""
    until = (now or timezone.now()) + timedelta(seconds=seconds)
    current = cache.get(HOLD_CACHE_KEY)
    if current is None or current < until:
        cache.set(HOLD_CACHE_KEY, until, timeout=math.ceil(seconds) + 1)


def forget_quota() -> None:
    """The quota is back (Codat's reset): drop what we knew of it and any 429 hold."""
    cache.delete_many([QUOTA_CACHE_KEY, HOLD_CACHE_KEY])


@events.handles("client.rateLimit.reached", "client.rateLimit.reset")
def follow_quota_webhook(event: WebhookEvent) -> None:
    """Codat says the quota ran out, or was reset: every process learns it before its next call."""
    if event.event_type == "client.rateLimit.reset":
        forget_quota()
        return
    data = event.data
    try:
        reset = parse_datetime(str(data.get("expiryDate") or ""))
    except ValueError:
        reset = None
    record_rate_limit(
        RateLimit(
            limit=_int_or_none(data.get("dailyQuota")),
            remaining=_int_or_none(data.get("quotaRemaining")) or 0,
            reset=reset if reset is None or timezone.is_aware(reset) else None,
        )
    )


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _current(state: QuotaState | None, now: datetime) -> QuotaState | None:
    if not isinstance(state, QuotaState):
        return None
    if state.reset is not None and state.reset <= now:
        return None  # a new day's quota
    return state


# --- Request slots ------------------------------------------------------------------------------


class Slots(Protocol):
    """Leased request slots per Codat company, shared by every process."""

    def try_acquire(self, company_id: str) -> str | None:
        """A token for a free slot, or None if all are taken. Never waits."""

    def release(self, company_id: str, token: str) -> None: ...

    def in_flight(self, company_id: str) -> int: ...


# Atomic in Redis (scripts run one at a time), and timed by Redis's own clock so machines whose
# clocks disagree still agree on which leases have run out.
_ACQUIRE_LUA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
    return 1
end
return 0
"""

_IN_FLIGHT_LUA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
return redis.call('ZCOUNT', KEYS[1], '(' .. t, '+inf')
"""


class RedisSlots:
    def __init__(self, client, *, limit: int, lease_seconds: float, prefix: str = REDIS_KEY_PREFIX):
        self.client = client
        self.limit = limit
        self.lease_seconds = lease_seconds
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE_LUA)
        self._in_flight = client.register_script(_IN_FLIGHT_LUA)

    def _key(self, company_id: str) -> str:
        return self.prefix + company_id

    def try_acquire(self, company_id: str) -> str | None:
        token = uuid.uuid4().hex
        args = [self.limit, self.lease_seconds, token]
        acquired = self._acquire(keys=[self._key(company_id)], args=args)
        return token if acquired else None

    def release(self, company_id: str, token: str) -> None:
        self.client.zrem(self._key(company_id), token)

    def in_flight(self, company_id: str) -> int:
        return int(self._in_flight(keys=[self._key(company_id)]))


class DatabaseSlots:
    """Slots as ``RequestLease`` rows: one per allowed request, claimed by conditional UPDATE.

    Claiming must not happen inside a long transaction of the caller's (nobody else would see
    the claim until it commits); callers should not hold a transaction open across a Codat
    call anyway.
    """

    def __init__(self, *, limit: int, lease_seconds: float):
        self.limit = limit
        self.lease_seconds = lease_seconds

    def _rows(self, company_id: str):
        return RequestLease.objects.filter(codat_company_id=company_id, slot__lt=self.limit)

    @staticmethod
    def _free(now: datetime) -> Q:
        return Q(lease_until__isnull=True) | Q(lease_until__lte=now)

    def _free_slots(self, company_id: str, now: datetime) -> list[int]:
        return list(self._rows(company_id).filter(self._free(now)).values_list("pk", flat=True))

    def try_acquire(self, company_id: str) -> str | None:
        token = uuid.uuid4().hex
        now = timezone.now()
        free = self._free_slots(company_id, now)
        if not free:
            # Every slot taken, or the company has no slot rows yet (its first request, or the
            # limit was raised). Listed again either way: another caller may have made the rows
            # between the two queries, and they would be missed.
            if self._rows(company_id).count() < self.limit:
                RequestLease.objects.bulk_create(
                    [RequestLease(codat_company_id=company_id, slot=n) for n in range(self.limit)],
                    ignore_conflicts=True,
                )
            free = self._free_slots(company_id, now)
        # Start at a random free slot so concurrent callers mostly try different rows.
        random.shuffle(free)
        lease_until = now + timedelta(seconds=self.lease_seconds)
        for pk in free:
            # The WHERE is checked again by the UPDATE itself: only one caller can win a row.
            claimed = RequestLease.objects.filter(self._free(now), pk=pk).update(
                token=token, lease_until=lease_until
            )
            if claimed:
                return token
        return None

    def release(self, company_id: str, token: str) -> None:
        RequestLease.objects.filter(codat_company_id=company_id, token=token).update(
            token="", lease_until=None
        )

    def in_flight(self, company_id: str) -> int:
        return self._rows(company_id).filter(lease_until__gt=timezone.now()).count()


@functools.cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def default_slots() -> Slots:
    limit = settings.CODAT_CONCURRENCY_PER_COMPANY
    lease = settings.CODAT_SLOT_LEASE_SECONDS
    if settings.REDIS_URL:
        return RedisSlots(_redis_client(settings.REDIS_URL), limit=limit, lease_seconds=lease)
    return DatabaseSlots(limit=limit, lease_seconds=lease)


# --- The gate -----------------------------------------------------------------------------------


class CodatLimiter:
    """The ``RequestGate`` for every Codat client the app builds (see the module docstring).

    ``interactive=True`` is for requests a person is waiting on: they may spend the quota's
    reserve and are not held back after a 429 (Codat will say so itself if it still minds).
    Everything is looked up on first use, so building a limiter costs nothing.
    """

    def __init__(
        self,
        *,
        interactive: bool = False,
        slots: Slots | None = None,
        wait_seconds: float | None = None,
    ) -> None:
        self.interactive = interactive
        self._slots = slots
        self.wait_seconds = (
            wait_seconds if wait_seconds is not None else settings.CODAT_SLOT_WAIT_SECONDS
        )

    def __repr__(self) -> str:
        return f"<CodatLimiter {'interactive' if self.interactive else 'background'}>"

    @property
    def slots(self) -> Slots:
        if self._slots is None:
            self._slots = default_slots()
        return self._slots

    @contextlib.contextmanager
    def slot(self, company_id: str | None) -> Iterator[None]:
        if not self.interactive:
            self.check_quota()
        if company_id is None:
            # Listing or creating companies: Codat's concurrency limit is per company.
            yield
            return
        token = self._acquire(company_id)
        try:
            yield
        finally:
            try:
                self.slots.release(company_id, token)
            except (RedisError, DatabaseError):
                # The lease runs out on its own; the request's own outcome matters more.
                logger.exception("Could not release a Codat request slot")

    def check_quota(self, now: datetime | None = None) -> None:
        """Raise GateRefusal if background work should not send a request now."""
        now = now or timezone.now()
        values = cache.get_many([QUOTA_CACHE_KEY, HOLD_CACHE_KEY])
        # The quota first: when both apply it is the more telling reason, and the longer wait.
        state = _current(values.get(QUOTA_CACHE_KEY), now)
        if state is not None and state.remaining <= reserve_size(state.limit):
            raise GateRefusal(
                f"only the daily quota's reserve is left ({state.remaining} requests)",
                retry_after=state.seconds_to_reset(now),
                quota_reserved=True,
            )
        hold_until = values.get(HOLD_CACHE_KEY)
        if hold_until is not None and hold_until > now:
            raise GateRefusal(
                "Codat answered 429; waiting out its Retry-After",
                retry_after=(hold_until - now).total_seconds(),
            )

    def _acquire(self, company_id: str) -> str:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                token = self.slots.try_acquire(company_id)
            except (RedisError, DatabaseError) as exc:
                # Fail closed but retryable: without the shared count, sending could break
                # Codat's limit for everyone else.
                logger.warning("Codat limiter unavailable: %s", exc)
                raise GateRefusal(
                    "the request limiter is unavailable", retry_after=BUSY_RETRY_SECONDS
                ) from exc
            if token is not None:
                return token
            if time.monotonic() >= deadline:
                raise GateRefusal(
                    f"all request slots for company {company_id} stayed busy",
                    retry_after=BUSY_RETRY_SECONDS,
                )
            # Short, jittered naps: Codat requests take tens to hundreds of milliseconds.
            time.sleep(random.uniform(0.02, 0.1))  # noqa: S311 (jitter, not crypto)

    def record(
        self,
        company_id: str | None,
        status_code: int,
        rate_limit: RateLimit | None,
        retry_after: float | None,
    ) -> None:
        # The response is already in hand: failing to note the quota must not lose it.
        try:
            if rate_limit is not None:
                record_rate_limit(rate_limit)
            if status_code == 429 and retry_after:
                hold_background(retry_after)
        except Exception:
            logger.exception("Could not record Codat's rate-limit headers")
