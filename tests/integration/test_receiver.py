"""The sandbox's own webhook sender, over real HTTP, into the portal's receiver.

Both run in the live server: the sandbox signs with CODAT_SANDBOX_WEBHOOK_SECRET, the receiver
verifies with CODAT_WEBHOOK_SECRETS (the same fresh secret here, as in `make run`).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from codat_sandbox import outbox
from codat_sandbox.models import WebhookMessage
from expenses_portal.celery import app as celery_app
from integrations.companies.models import Company
from integrations.syncs import events
from integrations.syncs.models import WebhookEvent

from .helpers import advance_until, expense, link_company

# The receiver writes portal tables, so every app's tables are flushed after each test.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver_url(live_server, settings, webhook_secret) -> str:
    url = live_server.url + "/webhooks/codat/"
    settings.CODAT_SANDBOX_WEBHOOK_URL = url
    return url


@pytest.fixture
def eager_celery():
    # The processing task runs in the live server's thread right after the receiver commits.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def registry(monkeypatch):
    fresh = events.HandlerRegistry()
    monkeypatch.setattr(events, "registry", fresh)
    return fresh


def test_a_sandbox_sync_event_is_stored_once_and_processed(
    codat, receiver_url, eager_celery, registry
):
    handled = []

    @registry.handles("expenses.sync.successful")
    def follow(event):
        handled.append((event.webhook_id, event.data["syncId"]))

    lc = link_company(codat)
    company = Company.objects.create(name="Portal side", codat_company_id=lc.company_id)
    txn = expense(lc)
    sync_id = codat.create_expense_transactions(lc.company_id, [txn])["syncId"]

    def sync_event():
        return WebhookEvent.objects.filter(
            event_type="expenses.sync.successful", outcome=WebhookEvent.Outcome.PROCESSED
        ).first()

    event = advance_until(sync_event, "the processed sync webhook")

    assert event.company == company
    assert event.data["syncId"] == sync_id
    assert [t["id"] for t in event.data["transactions"]] == [txn["id"]]
    assert handled == [(event.webhook_id, sync_id)]

    # Codat redelivers (same webhook-id, new signature): answered 2xx, nothing changes.
    message = WebhookMessage.objects.get(pk=event.webhook_id)
    before = WebhookEvent.objects.values().get(pk=event.pk)
    assert outbox.deliver(message, receiver_url, timezone.now()) is True
    assert WebhookEvent.objects.filter(webhook_id=event.webhook_id).count() == 1
    assert WebhookEvent.objects.values().get(pk=event.pk) == before
    assert handled == [(event.webhook_id, sync_id)]

    # Everything else the sandbox sent on the way (company and connection events) was
    # accepted too, and stored as ignored: no handler is registered for it in this test.
    assert not WebhookMessage.objects.filter(delivered_at__isnull=True).exists()
    assert set(WebhookMessage.objects.values_list("last_status_code", flat=True)) == {200}
    others = WebhookEvent.objects.exclude(pk=event.pk)
    assert others.exists()
    assert set(others.values_list("outcome", flat=True)) == {WebhookEvent.Outcome.IGNORED}
    assert WebhookEvent.objects.count() == WebhookMessage.objects.count()


def test_a_sandbox_signing_with_another_secret_is_refused_and_nothing_stored(
    codat, receiver_url, settings, eager_celery
):
    settings.CODAT_SANDBOX_WEBHOOK_SECRET = "whsec_" + "b3RoZXItc2VjcmV0LW5vdC10aGUtcG9ydGFscw=="

    codat.create_company({"name": "Forged"})
    message = advance_until(
        lambda: WebhookMessage.objects.filter(last_status_code__isnull=False).first(),
        "a delivery attempt",
    )

    assert message.last_status_code == 400
    assert message.delivered_at is None
    assert WebhookEvent.objects.count() == 0
