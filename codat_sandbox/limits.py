"""Codat's limits and the sandbox's fault injection: daily quota, per-company concurrency,
Idempotency-Key replay, and injected errors/latency/timeouts.

Each of these writes rows in autocommit mode, outside the request's own transaction, because
other requests must see them while this one is still running (that is the whole point of an
in-flight marker or a shared counter).
"""

import datetime
import hashlib
import random
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .errors import ApiError
from .models import FaultSettings, IdempotencyRecord, InFlightRequest, RateUsage

IDEMPOTENCY_WINDOW = datetime.timedelta(minutes=90)
# An in-flight marker older than this belongs to a request that died without cleaning up.
IN_FLIGHT_STALE_AFTER = datetime.timedelta(minutes=2)


def daily_quota() -> int:
    return int(getattr(settings, "CODAT_SANDBOX_DAILY_QUOTA", 100000))


def concurrency_limit() -> int:
    return int(getattr(settings, "CODAT_SANDBOX_CONCURRENCY", 10))


def next_reset(now: datetime.datetime) -> datetime.datetime:
    today = now.astimezone(datetime.UTC).date()
    return datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )


def rate_headers(used: int, now: datetime.datetime) -> dict[str, str]:
    quota = daily_quota()
    return {
        "X-Rate-Limit-Limit": str(quota),
        "X-Rate-Limit-Remaining": str(max(quota - used, 0)),
        "X-Rate-Limit-Reset": next_reset(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def seconds_until_reset(now: datetime.datetime) -> int:
    return max(int((next_reset(now) - now).total_seconds()), 1)


def count_request(now: datetime.datetime) -> int:
    """Count one request against today's quota and return today's total."""
    day = now.astimezone(datetime.UTC).date()
    if not RateUsage.objects.filter(day=day).update(count=F("count") + 1):
        try:
            with transaction.atomic():
                RateUsage.objects.create(day=day, count=1)
        except IntegrityError:  # another request created today's row first
            RateUsage.objects.filter(day=day).update(count=F("count") + 1)
    return RateUsage.objects.get(day=day).count


def mark_quota_reached(now: datetime.datetime) -> None:
    RateUsage.objects.filter(
        day=now.astimezone(datetime.UTC).date(), reached_at__isnull=True
    ).update(reached_at=now)


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


def current_usage(now: datetime.datetime) -> int:
    row = RateUsage.objects.filter(day=now.astimezone(datetime.UTC).date()).first()
    return row.count if row else 0


def too_many(retry_after: int, headers: dict) -> ApiError:
    return ApiError(429, headers={**headers, "Retry-After": str(retry_after)})


def enter_company(company_id, now: datetime.datetime) -> InFlightRequest | None:
    """Mark a request in flight for the company; None (and no row) when over the limit."""
    marker = InFlightRequest.objects.create(company_id=company_id, started=now)
    in_flight = InFlightRequest.objects.filter(
        company_id=company_id, started__gte=now - IN_FLIGHT_STALE_AFTER
    ).count()
    if in_flight > concurrency_limit():
        marker.delete()
        return None
    return marker


def leave_company(marker: InFlightRequest | None) -> None:
    if marker is not None:
        InFlightRequest.objects.filter(pk=marker.pk).delete()


# --- Fault injection --------------------------------------------------------------------------


def faults_for(company_id) -> FaultSettings | None:
    """The company's own fault row if it has one, else the global row, else None."""
    if company_id is not None:
        own = FaultSettings.objects.filter(company_id=company_id).first()
        if own is not None:
            return own
    return FaultSettings.objects.filter(company__isnull=True).first()


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
    digest.update(request.body)
    return digest.hexdigest()


def claim_idempotency_key(key: str, fingerprint: str, now) -> IdempotencyRecord | None:
    """Claim the key for this request. Returns the stored record to replay, or None when this
    request now owns the key; raises 409 while the first request is in flight and 422 when the
    key was used for a different request."""
    for _ in range(2):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    key=key,
                    request_hash=fingerprint,
                    in_flight=True,
                    created=now,
                    expires_at=now + IDEMPOTENCY_WINDOW,
                )
            return None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(key=key).first()
            if existing is None:
                continue  # deleted meanwhile (a 429 or an expiry); try to claim again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            if existing.request_hash != fingerprint:
                raise ApiError(
                    422,
                    "The Idempotency-Key has already been used with a different request body.",
                ) from None
            if existing.in_flight:
                raise ApiError(
                    409, "A request with the same Idempotency-Key is still being processed."
                ) from None
            return existing
    raise ApiError(409, "A request with the same Idempotency-Key is still being processed.")


def store_idempotent_response(key: str, response) -> None:
    if response.status_code == 429:
        # Codat does not cache 429s, so the client may retry with the same key.
        IdempotencyRecord.objects.filter(key=key).delete()
        return
    headers = {
        name: value
        for name, value in response.items()
        if name.lower() in ("content-type", "retry-after")
    }
    IdempotencyRecord.objects.filter(key=key).update(
        in_flight=False,
        status_code=response.status_code,
        headers=headers,
        body=bytes(response.content),
    )


def release_idempotency_key(key: str) -> None:
    IdempotencyRecord.objects.filter(key=key, in_flight=True).delete()


def prune(now=None) -> None:
    now = now or timezone.now()
    IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
    InFlightRequest.objects.filter(started__lt=now - IN_FLIGHT_STALE_AFTER).delete()
