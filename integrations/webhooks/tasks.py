"""Thin tasks around integrations.syncs.events: ids in, a service called, retry policy only."""

from celery import shared_task

from integrations.syncs import events


@shared_task(name="webhooks.process_event")
def process_webhook_event(event_id: int) -> None:
    event = events.process_event(event_id)
    if event is not None and event.outcome == events.Outcome.PENDING:
        # A retryable handler error put it back; try again later (the sweeper is the backstop).
        process_webhook_event.apply_async((event_id,), countdown=events.retry_countdown(event))


@shared_task(name="webhooks.sweep_events")
def sweep_webhook_events() -> int:
    return events.sweep_events()
