"""Codat's limits and the sandbox's fault injection: daily quota, per-company concurrency,
Idempotency-Key replay, and injected errors/latency/timeouts.

The per-request bookkeeping writes nothing to the database (see locks for why files):
- the daily quota is a counter file per UTC day, copied to RateUsage at most about once a second
  per process (and when the quota runs out), so the ledger viewer and admin still show usage;
- the per-company concurrency limit is N slot files per company, one held with flock for the
  length of each request, so a process that dies frees its slots with it;
- fault settings are cached per process and reloaded when their version counter moves (every
  save or delete bumps it), so a change from the ledger page applies to the next request;
- the quota-reset announcement is checked on a process's first request of each UTC day.
Idempotency-Key records stay in the database: they are written only by POST/PATCH requests that
send a key, and they must outlive the process (Codat replays for 90 minutes).
"""

import datetime
import hashlib
import random
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from . import conf, locks
from .errors import ApiError
from .models import (
    IN_FLIGHT_LEASE,
    FaultSettings,
    IdempotencyRecord,
    RateUsage,
    faults_version_counter,
)

IDEMPOTENCY_WINDOW = datetime.timedelta(minutes=90)
# How often a process copies its view of the quota counter into RateUsage.
USAGE_FLUSH_SECONDS = 1.0


def next_reset(now: datetime.datetime) -> datetime.datetime:
    today = now.astimezone(datetime.UTC).date()
    return datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )


def rate_headers(used: int, now: datetime.datetime) -> dict[str, str]:
    quota = conf.daily_quota()
    return {
        "X-Rate-Limit-Limit": str(quota),
        "X-Rate-Limit-Remaining": str(max(quota - used, 0)),
        "X-Rate-Limit-Reset": next_reset(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def seconds_until_reset(now: datetime.datetime) -> int:
    return max(int((next_reset(now) - now).total_seconds()), 1)


def _quota_counter(day: datetime.date) -> locks.Counter:
    return locks.counter(locks.state_dir() / "quota" / day.isoformat())


def _stored_count(day: datetime.date) -> int:
    # Seeds a new day's counter file, so a restart with an emptied state directory goes on from
    # the last count copied to the database.
    row = RateUsage.objects.filter(day=day).values_list("count", flat=True).first()
    return row or 0


_last_flush: dict[tuple, float] = {}


def count_request(now: datetime.datetime) -> int:
    """Count one request against today's quota and return today's total."""
    day = now.astimezone(datetime.UTC).date()
    used = _quota_counter(day).add(1, seed=lambda: _stored_count(day))
    key = (locks.state_dir(), day)
    if time.monotonic() - _last_flush.get(key, float("-inf")) >= USAGE_FLUSH_SECONDS:
        _last_flush[key] = time.monotonic()
        _store_count(day, used)
    return used


def _store_count(day: datetime.date, used: int, **fields) -> None:
    # Greatest: another process may have copied a later (larger) figure already.
    if RateUsage.objects.filter(day=day).update(count=Greatest(F("count"), Value(used)), **fields):
        return
    try:
        with transaction.atomic():
            RateUsage.objects.create(day=day, count=used, **fields)
    except IntegrityError:  # another process created today's row first
        RateUsage.objects.filter(day=day).update(count=Greatest(F("count"), Value(used)), **fields)


def mark_quota_reached(now: datetime.datetime) -> None:
    day = now.astimezone(datetime.UTC).date()
    _store_count(day, current_usage(now))
    RateUsage.objects.filter(day=day, reached_at__isnull=True).update(reached_at=now)


def claim_quota_reset(now: datetime.datetime) -> bool:
    """True for exactly one caller once a UTC day has begun after a day whose quota ran out.

    Each earlier exhausted day is claimed with a conditional UPDATE, so the request path and
    the background thread racing at midnight cannot both announce the reset.
    """
    today = now.astimezone(datetime.UTC).date()
    pending = RateUsage.objects.filter(
        day__lt=today, reached_at__isnull=False, reset_queued_at__isnull=True
    ).values_list("pk", flat=True)
    claimed = False
    for pk in list(pending):
        if RateUsage.objects.filter(pk=pk, reset_queued_at__isnull=True).update(
            reset_queued_at=now
        ):
            claimed = True
    return claimed


_reset_checked: dict = {}


def first_request_today(now: datetime.datetime) -> bool:
    """True on this process's first call of each UTC day: the time to look for a quota reset
    (the background thread's advance() looks too, so a process serving nothing still notices)."""
    key = locks.state_dir()
    today = now.astimezone(datetime.UTC).date()
    if _reset_checked.get(key) == today:
        return False
    _reset_checked[key] = today
    return True


def current_usage(now: datetime.datetime) -> int:
    day = now.astimezone(datetime.UTC).date()
    used = _quota_counter(day).read()
    return _stored_count(day) if used is None else used


def too_many(retry_after: int, headers: dict) -> ApiError:
    return ApiError(429, headers={**headers, "Retry-After": str(retry_after)})


def enter_company(company_id) -> int | None:
    """Hold one of the company's concurrency slots for this request; None when all are held."""
    return locks.take_slot(
        locks.state_dir() / "companies" / str(company_id), conf.concurrency_limit()
    )


def leave_company(slot: int | None) -> None:
    if slot is not None:
        locks.release_slot(slot)


# --- Fault injection --------------------------------------------------------------------------


_fault_rows: dict = {}
_fault_rows_lock = threading.Lock()


def faults_for(company_id) -> FaultSettings | None:
    """The company's own fault row if it has one, else the global row, else None.

    Reads every row once per version of the table (there are a handful at most), so a request
    with no faults configured costs one pread rather than two queries.
    """
    key = locks.state_dir()
    # Read the version before the rows: a change committed in between is reloaded next time.
    version = faults_version_counter().read()
    cached = _fault_rows.get(key)
    if cached is None or cached[0] != version:
        with _fault_rows_lock:
            rows = {row.company_id: row for row in FaultSettings.objects.all()}
            _fault_rows.clear()  # only the current state directory's rows are worth keeping
            _fault_rows[key] = cached = (version, rows)
    rows = cached[1]
    own = rows.get(company_id) if company_id is not None else None
    return own or rows.get(None)


def injected_delay(faults: FaultSettings | None) -> datetime.timedelta:
    if faults is None:
        return datetime.timedelta(0)
    return datetime.timedelta(seconds=faults.timeout_seconds, milliseconds=faults.latency_ms)


def inject_faults(faults: FaultSettings | None, headers: dict, now) -> None:
    """Sleep and/or raise as the fault settings say. Called before any real work."""
    if faults is None:
        return
    if faults.timeout_seconds:
        time.sleep(faults.timeout_seconds)
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if faults.quota_exhausted:
        raise too_many(seconds_until_reset(now), {**headers, "X-Rate-Limit-Remaining": "0"})
    if faults.error_rate and random.random() * 100 < faults.error_rate:  # noqa: S311 (not crypto)
        raise ApiError(random.choice([500, 503]), can_be_retried="Unknown")  # noqa: S311


# --- Idempotency-Key ------------------------------------------------------------------------


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    if request.content_type == "multipart/form-data" and _over_memory_limit(request):
        # An upload may be bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (file data is exempt from
        # it, and platforms accept 10 MB and more), and then request.body refuses to read it.
        _digest_form(request, digest)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _over_memory_limit(request) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


def _digest_form(request, digest) -> None:
    try:
        fields, files = request.POST, request.FILES
    except MultiPartParserError:
        digest.update(b"unparseable")  # the handler then finds no file and answers 400
        return
    for name, values in sorted(fields.lists()):
        digest.update(repr((name, values)).encode())
    for name, uploads in sorted(files.lists()):
        for upload in uploads:
            digest.update(repr((name, upload.name, upload.content_type, upload.size)).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)


@dataclass(frozen=True)
class Claim:
    """This request's hold on an Idempotency-Key while it runs."""

    key: str
    owner: uuid.UUID


IN_FLIGHT = "A request with the same Idempotency-Key is still being processed."


def claim_idempotency_key(
    key: str, fingerprint: str, now, delay: datetime.timedelta = datetime.timedelta(0)
) -> tuple[IdempotencyRecord | None, Claim | None]:
    """Claim the key for this request: (stored record to replay, None) for a completed first
    request, (None, claim) when this request now owns the key. Raises 409 while the first request
    is in flight and 422 when the key was used for a different request; neither touches the
    stored record. `delay` is the injected latency this request will sleep, added to its lease.
    """
    owner = uuid.uuid4()
    lease = now + IN_FLIGHT_LEASE + delay
    fresh = {
        "request_hash": fingerprint,
        "in_flight": True,
        "owner": owner,
        "lease_expires_at": lease,
        "created": now,
        "expires_at": now + IDEMPOTENCY_WINDOW,
    }
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(key=key, **fresh)
            return None, Claim(key, owner)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(key=key).first()
            if existing is None:
                continue  # released meanwhile (a 429 or an expiry); try to claim again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            if existing.in_flight and existing.lease_expires_at <= now:
                # The first request's process died before answering: the key is usable again.
                if IdempotencyRecord.objects.filter(
                    pk=existing.pk, in_flight=True, lease_expires_at=existing.lease_expires_at
                ).update(**fresh):
                    return None, Claim(key, owner)
                continue
            if existing.request_hash != fingerprint:
                raise ApiError(
                    422,
                    "The Idempotency-Key has already been used with a different request body.",
                ) from None
            if existing.in_flight:
                raise ApiError(409, IN_FLIGHT) from None
            return existing, None
    raise ApiError(409, IN_FLIGHT)


def store_idempotent_response(claim: Claim, response) -> None:
    """Keep the owner's answer for replay. Only the request holding the claim gets here, so the
    409/422 a conflicting request is given never replace the stored answer."""
    if response.status_code == 429:
        # Codat does not cache 429s, so the client may retry with the same key.
        release_idempotency_key(claim)
        return
    headers = {
        name: value
        for name, value in response.items()
        if name.lower() in ("content-type", "retry-after")
    }
    IdempotencyRecord.objects.filter(key=claim.key, owner=claim.owner, in_flight=True).update(
        in_flight=False,
        status_code=response.status_code,
        headers=headers,
        body=bytes(response.content),
    )


def release_idempotency_key(claim: Claim) -> None:
    IdempotencyRecord.objects.filter(key=claim.key, owner=claim.owner, in_flight=True).delete()


def prune(now=None) -> None:
    now = now or timezone.now()
    IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
