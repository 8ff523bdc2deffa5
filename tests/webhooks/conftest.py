import base64
import json
import time
import uuid

import pytest

from expenses_portal.celery import app as celery_app
from integrations.codat.webhooks import sign_webhook
from integrations.syncs import events

SECRET = "whsec_" + base64.b64encode(b"receiver-tests-secret-0123456789").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"receiver-tests-old-secret-987654").decode()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.CODAT_WEBHOOK_SECRET = SECRET
    settings.CODAT_WEBHOOK_SECRETS = [SECRET]
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 900
    return settings


@pytest.fixture
def registry(monkeypatch):
    """An empty handler registry for the test: handlers defined in a test stay in it."""
    fresh = events.HandlerRegistry()
    monkeypatch.setattr(events, "registry", fresh)
    return fresh


@pytest.fixture
def eager_celery():
    # Celery copies Django settings once, so CELERY_TASK_ALWAYS_EAGER cannot be overridden here.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def envelope(event_type="expenses.sync.successful", company_id=None, **payload):
    company_id = company_id or str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "generatedDate": "2026-11-30T10:15:00Z",
        "payload": {
            "referenceCompany": {"id": company_id, "name": "Acme"},
            "syncId": str(uuid.uuid4()),
            "transactions": [],
            **payload,
        },
    }


def signed(body: dict | bytes, *, secret=SECRET, webhook_id=None, timestamp=None):
    """(raw body, headers) as Codat would send them."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    webhook_id = webhook_id or (body.get("id") if isinstance(body, dict) else None) or "msg_1"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return raw, {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": sign_webhook(secret, webhook_id, timestamp, raw),
    }
