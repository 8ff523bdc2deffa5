"""integrations.syncs.events: the registry, process_event's claim, and the sweeper."""

import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from integrations.codat.errors import CodatTransientError
from integrations.companies.models import Company
from integrations.syncs import events
from integrations.syncs.models import WebhookEvent
from integrations.webhooks import tasks

pytestmark = pytest.mark.django_db

Outcome = WebhookEvent.Outcome


def make_event(event_type="expenses.sync.successful", **fields):
    return WebhookEvent.objects.create(
        webhook_id=fields.pop("webhook_id", str(uuid.uuid4())),
        event_type=event_type,
        payload={"eventType": event_type, "payload": {"syncId": "s1"}},
        **fields,
    )


# --- Registry -----------------------------------------------------------------------------------


def test_one_handler_per_event_type(registry):
    @registry.handles("expenses.sync.successful", "expenses.sync.unsuccessful")
    def first(event):
        pass

    assert registry.handler_for("expenses.sync.unsuccessful") is first
    assert list(registry) == ["expenses.sync.successful", "expenses.sync.unsuccessful"]
    # Registering the same function again (a module imported twice) is harmless ...
    registry.handles("expenses.sync.successful")(first)
    # ... a second function for the same type is a mistake found at start-up.
    with pytest.raises(ValueError, match="already handled by"):
        registry.handles("expenses.sync.successful")(lambda event: None)


def test_the_module_level_decorator_registers_in_the_registry(registry):
    @events.handles("read.completed")
    def refreshed(event):
        pass

    assert registry.handler_for("read.completed") is refreshed


# --- process_event ------------------------------------------------------------------------------


def test_an_event_is_handled_once_however_often_it_is_processed(registry):
    calls = []

    @registry.handles("expenses.sync.successful")
    def follow(event):
        calls.append(event.pk)

    event = make_event()

    assert events.process_event(event.pk).outcome == Outcome.PROCESSED
    assert events.process_event(event.pk) is None

    event.refresh_from_db()
    assert calls == [event.pk]
    assert event.outcome == Outcome.PROCESSED
    assert event.attempts == 1
    assert event.processed_at is not None
    assert event.processing_error == ""


def test_an_unknown_type_is_ignored(registry):
    event = make_event("company.product.added")

    assert events.process_event(event.pk).outcome == Outcome.IGNORED
    event.refresh_from_db()
    assert (event.outcome, event.processing_error) == (Outcome.IGNORED, "")
    assert event.processed_at is not None


def test_a_failing_handler_leaves_nothing_half_done(registry):
    @registry.handles("expenses.sync.successful")
    def broken(event):
        Company.objects.create(name="made by the handler")
        raise KeyError("transactions")

    event = make_event()

    assert events.process_event(event.pk).outcome == Outcome.FAILED
    event.refresh_from_db()
    assert event.outcome == Outcome.FAILED
    assert event.processing_error == "KeyError: 'transactions'"
    assert not Company.objects.filter(name="made by the handler").exists()


def test_a_retryable_error_puts_the_event_back_until_attempts_run_out(registry, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2

    @registry.handles("expenses.sync.successful")
    def flaky(event):
        raise CodatTransientError("timed out", method="GET", path="/companies/x")

    event = make_event()

    first = events.process_event(event.pk)
    assert (first.outcome, first.attempts) == (Outcome.PENDING, 1)
    assert "timed out" in first.processing_error
    assert 0 <= events.retry_countdown(first) <= 10

    second = events.process_event(event.pk)
    assert (second.outcome, second.attempts) == (Outcome.FAILED, 2)
    event.refresh_from_db()
    assert event.outcome == Outcome.FAILED


def test_the_task_schedules_the_retry(registry, settings):
    @registry.handles("expenses.sync.successful")
    def flaky(event):
        raise CodatTransientError("timed out", method="GET", path="/companies/x")

    event = make_event()
    with mock.patch.object(tasks.process_webhook_event, "apply_async") as send:
        tasks.process_webhook_event(event.pk)

    [call] = send.call_args_list
    assert call.args == ((event.pk,),)
    assert 0 <= call.kwargs["countdown"] <= 10


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivered_the_same_event_run_the_handler_once(registry):
    if connection.vendor == "sqlite":
        # The in-memory test database is shared-cache: a second writer fails at once with
        # "table is locked" instead of waiting, unlike the file database the app uses.
        pytest.skip("concurrent writers need PostgreSQL (as in CI)")
    calls = []
    barrier = threading.Barrier(5)

    @registry.handles("expenses.sync.successful")
    def follow(event):
        calls.append(event.pk)

    event = make_event()

    def worker():
        barrier.wait()
        try:
            events.process_event(event.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == [event.pk]


# --- The sweeper --------------------------------------------------------------------------------


def test_the_sweeper_requeues_lost_and_abandoned_events_only(registry):
    now = timezone.now()
    old = now - timedelta(hours=1)
    lost = make_event(queued_at=old)
    never_queued = make_event(queued_at=None)
    abandoned = make_event(outcome=Outcome.PROCESSING, claimed_at=old, attempts=1)
    out_of_attempts = make_event(outcome=Outcome.PROCESSING, claimed_at=old, attempts=3)
    just_queued = make_event(queued_at=now - timedelta(seconds=30))
    being_processed = make_event(outcome=Outcome.PROCESSING, claimed_at=now, attempts=1)
    done = make_event(outcome=Outcome.PROCESSED, processed_at=old, queued_at=old)

    with mock.patch.object(events, "_enqueue") as enqueue:
        assert events.sweep_events(now) == 3
        # A second sweep straight after finds them freshly queued.
        assert events.sweep_events(now) == 0

    assert sorted(c.args[0] for c in enqueue.call_args_list) == sorted(
        [lost.pk, never_queued.pk, abandoned.pk]
    )
    outcomes = dict(WebhookEvent.objects.values_list("pk", "outcome"))
    assert outcomes[abandoned.pk] == Outcome.PENDING
    assert outcomes[out_of_attempts.pk] == Outcome.FAILED
    assert outcomes[just_queued.pk] == Outcome.PENDING
    assert outcomes[being_processed.pk] == Outcome.PROCESSING
    assert outcomes[done.pk] == Outcome.PROCESSED
    out_of_attempts.refresh_from_db()
    assert out_of_attempts.processing_error.startswith("Gave up after 3 attempts")


def test_the_sweeper_is_on_the_beat_schedule():
    from expenses_portal.celery import app

    assert app.conf.beat_schedule["webhooks-sweep"]["task"] == tasks.sweep_webhook_events.name
