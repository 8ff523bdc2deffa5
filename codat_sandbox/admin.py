"""The sandbox's tables in the Django admin: mostly read-only history, plus fault settings."""

from django.contrib import admin

from .models import (
    FaultSettings,
    LedgerRecord,
    PushOperation,
    SandboxCompany,
    SandboxConnection,
    SandboxSync,
    SyncTransaction,
    WebhookMessage,
)


class ConnectionInline(admin.TabularInline):
    model = SandboxConnection
    extra = 0
    fields = ["platform_name", "source_type", "status", "created"]
    readonly_fields = ["platform_name", "source_type", "created"]


@admin.register(SandboxCompany)
class SandboxCompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created", "last_sync"]
    search_fields = ["name", "id"]
    inlines = [ConnectionInline]


@admin.register(SandboxConnection)
class SandboxConnectionAdmin(admin.ModelAdmin):
    list_display = ["company", "platform_name", "source_type", "status", "created"]
    list_filter = ["status", "platform_name", "source_type"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]


@admin.register(LedgerRecord)
class LedgerRecordAdmin(admin.ModelAdmin):
    list_display = ["record_id", "data_type", "company", "modified"]
    list_filter = ["data_type"]
    search_fields = ["record_id", "company__name"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]


class SyncTransactionInline(admin.TabularInline):
    model = SyncTransaction
    extra = 0
    fields = ["transaction_id", "status", "message", "record_id"]
    readonly_fields = fields
    can_delete = False


@admin.register(SandboxSync)
class SandboxSyncAdmin(admin.ModelAdmin):
    list_display = ["id", "company", "kind", "status_code", "status_text", "created", "completed"]
    list_filter = ["kind", "status_code", "state"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]
    inlines = [SyncTransactionInline]


@admin.register(PushOperation)
class PushOperationAdmin(admin.ModelAdmin):
    list_display = ["key", "company", "data_type", "operation", "status", "requested"]
    list_filter = ["status", "data_type", "operation"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]


@admin.register(WebhookMessage)
class WebhookMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "attempts", "delivered_at", "next_attempt_at", "last_error"]
    list_filter = ["event_type"]
    readonly_fields = ["body"]


@admin.register(FaultSettings)
class FaultSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "error_rate",
        "latency_ms",
        "timeout_seconds",
        "quota_exhausted",
        "long_running_syncs",
    ]
    raw_id_fields = ["company"]
