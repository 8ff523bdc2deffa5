"""Partner API keys sent as `Authorization: Bearer epk_...`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer

from .models import PartnerApiKey, hash_secret

# last_used_at is a person's hint ("is this key still in use?"), not a log: writing it at most
# once a minute keeps a busy key from turning every read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class DevelopmentKey:
    """The published development key (DEBUG only); it has no row."""

    name: str = "development"
    pk: None = None

    @property
    def actor_label(self) -> str:
        return "api:development"


class PartnerKeyAuth(HttpBearer):
    def __call__(self, request):
        # Unlike the base class, never log the header: it is a secret.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token: str):
        dev_key = settings.PARTNER_API_DEV_KEY
        if settings.DEBUG and dev_key and secrets.compare_digest(token, dev_key):
            return DevelopmentKey()
        key = PartnerApiKey.objects.filter(
            secret_hash=hash_secret(token), revoked_at__isnull=True
        ).first()
        if key is None:
            return None
        now = timezone.now()
        if key.last_used_at is None or key.last_used_at < now - LAST_USED_GRANULARITY:
            PartnerApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key
