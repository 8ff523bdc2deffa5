from django.contrib import admin, messages
from django.utils import timezone

from integrations.companies.models import AuditEvent

from .models import KEY_PREFIX, PartnerApiKey, hash_secret


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(admin.ModelAdmin):
    """Operators create keys here (the raw key is shown once, in the confirmation message) and
    revoke them; a key's secret cannot be read or changed afterwards, only its name."""

    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = [StateFilter]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = PartnerApiKey.generate(obj.name, created_by=request.user)
        obj.pk, obj.prefix, obj.secret_hash = key.pk, key.prefix, key.secret_hash
        obj.created_by, obj.created_at = key.created_by, key.created_at
        assert key.secret_hash == hash_secret(raw) and raw.startswith(KEY_PREFIX)
        AuditEvent.record(request.user, "api_key.create", obj=key)
        messages.warning(
            request,
            f"The key for {key.name} is {raw} — copy it now: it is stored hashed and will "
            "not be shown again.",
        )

    def has_delete_permission(self, request, obj=None):
        # Revoked keys stay, so the trail of what a key did still names it.
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        PartnerApiKey.objects.filter(pk__in=[k.pk for k in keys]).update(revoked_at=timezone.now())
        for key in keys:
            AuditEvent.record(request.user, "api_key.revoke", obj=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).")
