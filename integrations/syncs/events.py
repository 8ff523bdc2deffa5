"""Codat's webhooks after the signature check: stored once, then handled in the background.

The receiver view calls ``receive`` and answers at once; a Celery task calls ``process_event``,
which claims the event with a conditional UPDATE, runs the handler registered for its type and
records the outcome. Handlers live in the app that owns the data they change and register with::

    @events.handles("expenses.sync.successful", "expenses.sync.unsuccessful")
    def follow_sync(event: WebhookEvent) -> None: ...

A handler runs inside a transaction together with the "processed" mark, so a worker killed
half-way leaves nothing half-done and the event is simply handled again. Handlers must still
be idempotent (Codat may send the same news twice under different ids), and should not call
Codat themselves: enqueue a task for that.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.codat import encoding
from integrations.codat.webhooks import VerifiedWebhook
from integrations.companies.models import Company

from .models import WebhookEvent
from .retry import backoff_seconds

logger = logging.getLogger(__name__)

Handler = Callable[[WebhookEvent], None]
Outcome = WebhookEvent.Outcome

_EVENT_TYPE_LENGTH = WebhookEvent._meta.get_field("event_type").max_length


class HandlerRegistry:
    """Event type -> the one function that handles it."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def handles(self, *event_types: str) -> Callable[[Handler], Handler]:
        if not event_types:
            raise TypeError("handles() needs at least one event type.")

        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                existing = self._handlers.get(event_type)
                # Two handlers for one type would make the outcome depend on import order.
                if existing is not None and existing is not handler:
                    raise ValueError(
                        f"{event_type!r} is already handled by "
                        f"{existing.__module__}.{existing.__qualname__}."
                    )
                self._handlers[event_type] = handler
            return handler

        return register

    def handler_for(self, event_type: str) -> Handler | None:
        return self._handlers.get(event_type)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))


registry = HandlerRegistry()


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register ``fn(event: WebhookEvent) -> None`` for the given Codat event types."""
    return registry.handles(*event_types)


# --- Receiving ----------------------------------------------------------------------------------


def receive(webhook: VerifiedWebhook) -> tuple[WebhookEvent, bool]:
    """Store a verified delivery once per webhook-id; ``(event, created)``.

    A new event is queued for processing when the transaction commits; a redelivery changes
    nothing. Cheap on purpose (one or two queries): Codat wants an answer within 15 seconds and
    a slow receiver turns into retries.
    """
    # The verifier keeps JSON numbers as Decimal (exact money); a JSONField cannot store those,
    # so they go in as floats, whose shortest repr round-trips amounts like 12.34 unchanged.
    envelope = json.loads(encoding.dumps(webhook.payload))
    event_type = str(envelope.get("eventType") or "")[:_EVENT_TYPE_LENGTH]
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            webhook_id=webhook.webhook_id,
            defaults={
                "event_type": event_type,
                "payload": envelope,
                "company": _company_of(envelope),
                "generated_at": _datetime_or_none(envelope.get("generatedDate")),
                "queued_at": timezone.now(),
            },
        )
        if created:
            # robust: with the broker down the event is stored all the same and Codat gets its
            # 2xx; the sweeper queues it once the broker is back (queued_at is set above).
            transaction.on_commit(lambda: _enqueue(event.pk), robust=True)
    return event, created


def company_id_of(envelope: dict) -> str | None:
    """The Codat company an event is about, wherever its event type keeps it."""
    payload = envelope.get("payload")
    if isinstance(payload, dict):
        reference = payload.get("referenceCompany")
        if isinstance(reference, dict) and reference.get("id"):
            return str(reference["id"])
        if payload.get("companyId"):
            return str(payload["companyId"])
        # company.created / company.deleted carry the company object itself.
        if str(envelope.get("eventType") or "").startswith("company.") and payload.get("id"):
            return str(payload["id"])
    # Codat's legacy PascalCase envelope.
    if envelope.get("CompanyId"):
        return str(envelope["CompanyId"])
    return None


def _company_of(envelope: dict) -> Company | None:
    try:
        codat_id = uuid.UUID(company_id_of(envelope) or "")
    except ValueError:
        return None
    return Company.objects.filter(codat_company_id=codat_id).first()


def _datetime_or_none(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


def _enqueue(event_id: int, countdown: float | None = None) -> None:
    # Imported here: the task module imports this one.
    from integrations.webhooks.tasks import process_webhook_event

    process_webhook_event.apply_async((event_id,), countdown=countdown)


# --- Processing ---------------------------------------------------------------------------------


def process_event(event_id: int) -> WebhookEvent | None:
    """Claim the event, run its handler, record the outcome; None if there was nothing to do.

    Safe to call any number of times, concurrently too: only the call whose conditional UPDATE
    moves the event from pending to processing does anything. A handler error marked
    ``retryable`` (a Codat timeout, say) puts the event back to pending, and the caller
    schedules another attempt; any other error, or running out of attempts, marks it failed.
    """
    now = timezone.now()
    claimed = WebhookEvent.objects.filter(pk=event_id, outcome=Outcome.PENDING).update(
        outcome=Outcome.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    event = WebhookEvent.objects.select_related("company").get(pk=event_id)
    handler = registry.handler_for(event.event_type)
    if handler is None:
        _finish(event, Outcome.IGNORED)
        return event

    try:
        with transaction.atomic():
            handler(event)
            _finish(event, Outcome.PROCESSED)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if getattr(exc, "retryable", False) and event.attempts < max_attempts():
            logger.warning(
                "Webhook %s: attempt %s failed, will retry: %s", event, event.attempts, error
            )
            _release(event, error)
        else:
            logger.exception("Webhook %s failed after %s attempt(s)", event, event.attempts)
            _finish(event, Outcome.FAILED, error)
    return event


def retry_countdown(event: WebhookEvent) -> float:
    """How long to wait before the next attempt at an event put back to pending."""
    return backoff_seconds(event.attempts, base=5, cap=600)


def _finish(event: WebhookEvent, outcome: Outcome, error: str = "") -> None:
    event.outcome = outcome
    event.processed_at = timezone.now()
    event.processing_error = error
    # Only the claim holder may finish it; after a sweep took it back, the row is not ours.
    WebhookEvent.objects.filter(pk=event.pk, outcome=Outcome.PROCESSING).update(
        outcome=outcome, processed_at=event.processed_at, processing_error=error
    )


def _release(event: WebhookEvent, error: str) -> None:
    event.outcome = Outcome.PENDING
    event.processing_error = error
    event.queued_at = timezone.now()
    WebhookEvent.objects.filter(pk=event.pk, outcome=Outcome.PROCESSING).update(
        outcome=Outcome.PENDING, processing_error=error, queued_at=event.queued_at
    )


# --- Sweeping -----------------------------------------------------------------------------------


def max_attempts() -> int:
    return settings.WEBHOOK_MAX_ATTEMPTS


def sweep_events(now: datetime | None = None, limit: int = 500) -> int:
    """Re-queue events stuck short of a final outcome; the number re-queued.

    Two ways to get stuck: the task message was lost (the broker was down at commit, or the
    retry was never sent), leaving an event pending; or the worker died inside the handler,
    leaving it processing. Both are safe to hand out again because the handler's work and the
    "processed" mark commit together. An event out of attempts is marked failed, visibly.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)

    # A dead worker's claim: give the event back, or give up on it.
    dead = Q(outcome=Outcome.PROCESSING, claimed_at__lt=stale)
    WebhookEvent.objects.filter(dead, attempts__gte=max_attempts()).update(
        outcome=Outcome.FAILED,
        processed_at=now,
        processing_error=f"Gave up after {max_attempts()} attempts; the last one never finished.",
    )
    WebhookEvent.objects.filter(dead).update(outcome=Outcome.PENDING)

    requeued = 0
    lost = WebhookEvent.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=stale), outcome=Outcome.PENDING
    ).order_by("received_at")
    for event_id, queued_at in list(lost.values_list("pk", "queued_at")[:limit]):
        # Conditional on queued_at, so two sweepers running at once do not both send it.
        if WebhookEvent.objects.filter(
            pk=event_id, outcome=Outcome.PENDING, queued_at=queued_at
        ).update(queued_at=now):
            _enqueue(event_id)
            requeued += 1
    if requeued:
        logger.info("Re-queued %s webhook event(s) stuck for over %s", requeued, now - stale)
    return requeued
