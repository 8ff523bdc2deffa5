"""The webhook outbox: messages recorded in the transaction of the change they report, then
delivered (signed, Standard Webhooks) with retries, outside any transaction.

It sits below the services and the engine, which both queue messages, and imports neither.
"""

import datetime
import uuid

import httpx
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from . import conf, jsonutil, serializers
from .models import SandboxConnection, WebhookMessage

WEBHOOK_TIMEOUT_SECONDS = 5


# --- Enqueue ---------------------------------------------------------------------------------


def enqueue_webhook(event_type: str, payload: dict, company_id=None) -> WebhookMessage | None:
    """Record a message to deliver; the row commits with the change it reports."""
    if not conf.webhook_url():
        return None
    message_id = uuid.uuid4()
    envelope = {
        "id": str(message_id),
        "eventType": event_type,
        "generatedDate": jsonutil.format_datetime(timezone.now()),
        "payload": payload,
    }
    return WebhookMessage.objects.create(
        id=message_id,
        company_id=company_id,
        event_type=event_type,
        body=jsonutil.dumps(envelope),
        next_attempt_at=timezone.now(),
    )


def enqueue_connection_event(event_type: str, conn: SandboxConnection) -> None:
    base = conf.public_base_url()
    enqueue_webhook(
        event_type,
        {
            "referenceCompany": serializers.company_reference(conn.company, base),
            "connection": serializers.connection(conn, base),
        },
        company_id=conn.company_id,
    )


# --- Deliver ---------------------------------------------------------------------------------


def deliver_due_webhooks(now=None) -> int:
    """Deliver due messages. Must run outside any transaction: it makes HTTP calls."""
    now = now or timezone.now()
    url = conf.webhook_url()
    if not url or transaction.get_connection().in_atomic_block:
        return 0
    delivered = 0
    due = WebhookMessage.objects.filter(
        delivered_at__isnull=True, next_attempt_at__lte=now
    ).values_list("id", "next_attempt_at")
    for message_id, next_attempt_at in list(due[:100]):
        if WebhookMessage.objects.filter(pk=message_id, next_attempt_at=next_attempt_at).update(
            next_attempt_at=None, claimed_at=now
        ):
            deliver(WebhookMessage.objects.get(pk=message_id), url, now)
            delivered += 1
    return delivered


def sign_headers(message_id: str, body: str, now: datetime.datetime) -> dict[str, str]:
    secret = conf.webhook_secret()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
        "content-type": "application/json",
    }


def deliver(message: WebhookMessage, url: str, now) -> bool:
    # The id stays the same on every retry so receivers can deduplicate on webhook-id.
    headers = sign_headers(str(message.id), message.body, timezone.now())
    error = ""
    status_code = None
    try:
        response = httpx.post(
            url, content=message.body.encode(), headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS
        )
        status_code = response.status_code
        ok = 200 <= response.status_code < 300
        if not ok:
            error = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok = False
        error = f"{type(exc).__name__}: {exc}"
    attempts = message.attempts + 1
    schedule = conf.webhook_retry_schedule()
    update = {"attempts": attempts, "last_status_code": status_code, "last_error": error}
    if ok:
        update["delivered_at"] = timezone.now()
    elif attempts < len(schedule):
        update["next_attempt_at"] = now + datetime.timedelta(seconds=schedule[attempts])
    WebhookMessage.objects.filter(pk=message.pk).update(**update)
    return ok


def release_stale_claims(claimed_before: datetime.datetime, now: datetime.datetime) -> None:
    """A delivery whose worker died mid-attempt is due again, unless its attempts are spent."""
    WebhookMessage.objects.filter(
        delivered_at__isnull=True,
        next_attempt_at__isnull=True,
        claimed_at__lt=claimed_before,
        attempts__lt=len(conf.webhook_retry_schedule()),
    ).update(next_attempt_at=now)
