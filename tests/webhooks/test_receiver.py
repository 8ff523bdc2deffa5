"""POST /webhooks/codat/: verified, stored once, answered at once, processed in the background."""

import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from integrations.syncs.models import WebhookEvent
from tests.models.factories import make_company

from .conftest import OLD_SECRET, SECRET, envelope, signed

pytestmark = pytest.mark.django_db

URL = "/webhooks/codat/"


@pytest.fixture
def codat():
    # Codat has no CSRF token; the receiver must not need one.
    return Client(enforce_csrf_checks=True)


def post(codat, raw, headers):
    return codat.post(URL, data=raw, content_type="application/json", **headers)


def test_the_route_is_the_one_the_sandbox_delivers_to(settings):
    assert reverse("webhooks:codat") == URL
    assert settings.CODAT_SANDBOX_WEBHOOK_URL.endswith(URL)


def test_a_signed_event_is_stored_once_and_queued_after_commit(
    codat, django_capture_on_commit_callbacks
):
    company = make_company(codat_company_id=uuid.uuid4())
    body = envelope(company_id=str(company.codat_company_id))

    with django_capture_on_commit_callbacks() as queued:
        response = post(codat, *signed(body))

    assert response.status_code == 200
    assert response.json() == {"id": body["id"], "duplicate": False}
    event = WebhookEvent.objects.get()
    assert event.webhook_id == body["id"]
    assert event.event_type == "expenses.sync.successful"
    assert event.company == company
    assert event.payload == body
    assert event.data["syncId"] == body["payload"]["syncId"]
    assert event.generated_at.isoformat() == "2026-11-30T10:15:00+00:00"
    assert event.outcome == WebhookEvent.Outcome.PENDING
    assert len(queued) == 1


def test_a_redelivery_answers_2xx_and_changes_nothing(codat, django_capture_on_commit_callbacks):
    body = envelope()
    post(codat, *signed(body))
    WebhookEvent.objects.update(outcome=WebhookEvent.Outcome.PROCESSING)
    before = WebhookEvent.objects.values().get()

    # Codat re-signs each attempt (a new timestamp) but keeps the webhook-id.
    with django_capture_on_commit_callbacks() as queued:
        response = post(codat, *signed(body, timestamp=int(time.time()) - 10))

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert list(WebhookEvent.objects.values()) == [before]
    assert queued == []


def test_numbers_in_the_payload_are_stored_as_sent(codat):
    raw = (
        b'{"id": "msg_amounts", "eventType": "x.y", "payload": '
        b'{"amount": 12.34, "big": 1234567.89, "count": 3}}'
    )

    assert post(codat, *signed(raw, webhook_id="msg_amounts")).status_code == 200
    assert WebhookEvent.objects.get().data == {"amount": 12.34, "big": 1234567.89, "count": 3}


def test_the_company_is_left_empty_when_not_ours(codat):
    post(codat, *signed(envelope(company_id="not-a-uuid")))
    post(codat, *signed(envelope(company_id=str(uuid.uuid4()))))

    assert list(WebhookEvent.objects.values_list("company", flat=True)) == [None, None]


def test_company_events_carry_the_company_itself(codat):
    company = make_company(codat_company_id=uuid.uuid4())
    body = {
        "id": "msg_company",
        "eventType": "company.deleted",
        "generatedDate": "2026-11-30T10:15:00Z",
        "payload": {"id": str(company.codat_company_id), "name": "Acme"},
    }

    assert post(codat, *signed(body)).status_code == 200
    assert WebhookEvent.objects.get().company == company


def test_a_secret_being_rotated_out_is_still_accepted(codat, settings):
    settings.CODAT_WEBHOOK_SECRETS = [SECRET, OLD_SECRET]

    response = post(codat, *signed(envelope(), secret=OLD_SECRET))

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def _tampered():
    raw, headers = signed(envelope())
    return raw.replace(b"expenses.sync.successful", b"expenses.sync.unsuccessful"), headers


def _unsigned():
    raw, headers = signed(envelope())
    del headers["HTTP_WEBHOOK_SIGNATURE"]
    return raw, headers


@pytest.mark.parametrize(
    "make_request",
    [
        pytest.param(_tampered, id="tampered body"),
        pytest.param(_unsigned, id="unsigned"),
        pytest.param(lambda: signed(envelope(), secret=OLD_SECRET), id="forged (other secret)"),
        pytest.param(lambda: signed(envelope(), timestamp=int(time.time()) - 301), id="stale"),
        pytest.param(lambda: signed(envelope(), timestamp=int(time.time()) + 301), id="future"),
        pytest.param(lambda: (b"{}", {}), id="no headers at all"),
        pytest.param(lambda: signed(b"[1, 2]"), id="signed but not an object"),
    ],
)
def test_what_codat_did_not_sign_gets_4xx_and_stores_nothing(
    codat, make_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = post(codat, *make_request())

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]
    assert WebhookEvent.objects.count() == 0
    assert queued == []


def test_an_oversized_body_is_refused_unread(codat):
    raw, headers = signed(envelope(notes="x" * 300_000))

    response = post(codat, raw, headers)

    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large."}
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(codat, method):
    assert getattr(codat, method)(URL).status_code == 405


def test_an_event_nobody_handles_is_stored_and_ignored(
    codat, registry, eager_celery, django_capture_on_commit_callbacks
):
    body = envelope(event_type="client.rateLimit.reached")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(codat, *signed(body))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.IGNORED
    assert event.processed_at is not None


def test_the_handler_runs_in_the_background_after_the_answer(
    codat, registry, eager_celery, django_capture_on_commit_callbacks
):
    seen = []

    @registry.handles("expenses.sync.successful")
    def follow(event):
        seen.append(event.data["syncId"])

    body = envelope()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post(codat, *signed(body))
    # Answered before any handler ran: the work waits for the commit and a worker.
    assert response.status_code == 200
    assert seen == []

    queued[0]()

    assert seen == [body["payload"]["syncId"]]
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_event_is_kept_and_swept_later(codat, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.syncs import events

    def broker_down(event_id, countdown=None):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(events, "_enqueue", broker_down)
    body = envelope()

    response = post(codat, *signed(body))

    # Codat hears "stored", so it stops retrying; the sweeper is what queues it later.
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.PENDING
    queued = []
    monkeypatch.setattr(
        events, "_enqueue", lambda event_id, countdown=None: queued.append(event_id)
    )
    assert events.sweep_events(timezone.now() + timedelta(minutes=16)) == 1
    assert queued == [event.pk]
