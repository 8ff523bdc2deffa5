"""The endpoint Codat delivers webhooks to.

Not a user-facing page: no session, no CSRF token (Codat cannot have one), no company from a
membership. What authenticates a request is the Standard Webhooks signature over the raw body,
checked before anything is stored; the company comes from the signed payload.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.codat.factory import webhook_verifier
from integrations.codat.webhooks import WebhookVerificationError
from integrations.syncs import events

logger = logging.getLogger(__name__)

# Codat's largest events (a 50-transaction sync result, a read.completed listing every data
# type) are a few tens of kilobytes; anything far bigger is not from Codat, and is refused
# before it is read into memory or hashed.
MAX_BODY_BYTES = 256 * 1024


@csrf_exempt
@require_POST
def codat_webhook(request: HttpRequest) -> JsonResponse:
    body = _bounded_body(request)
    if body is None:
        return JsonResponse({"error": "Request body too large."}, status=413)
    try:
        webhook = webhook_verifier().verify(body, request.headers)
    except WebhookVerificationError as exc:
        # The reason is ours (never the secret or the body), so it is safe to log and return.
        logger.warning("Refused a Codat webhook: %s", exc.reason)
        return JsonResponse({"error": exc.reason}, status=400)

    _, created = events.receive(webhook)
    # Any 2xx tells Codat to stop retrying; a redelivery gets the same answer as the first.
    return JsonResponse({"id": webhook.webhook_id, "duplicate": not created}, status=200)


def _bounded_body(request: HttpRequest) -> bytes | None:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    # Read one byte past the limit so a body longer than its Content-Length claims is caught too.
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body
