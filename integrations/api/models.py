import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "epk_"


def hash_secret(raw_key: str) -> str:
    # The key is 32 random bytes, so a fast hash is enough: nothing to brute-force from a dump.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class PartnerApiKey(models.Model):
    """A key the partner's systems send as `Authorization: Bearer epk_...`.

    Only the hash is stored; the raw key is shown once, when an operator creates it in the
    admin. `prefix` (the first characters) lets a person tell keys apart without the secret.
    """

    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. card-processor")
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "partner API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    @classmethod
    def generate(cls, name: str, *, created_by=None) -> tuple["PartnerApiKey", str]:
        """A new key and its raw value (the only time the raw value exists)."""
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            prefix=raw[:12],
            secret_hash=hash_secret(raw),
            created_by=created_by if created_by and created_by.is_authenticated else None,
        )
        return key, raw

    @property
    def actor_label(self) -> str:
        """How the audit trail names changes made with this key."""
        return f"api:{self.name}"
