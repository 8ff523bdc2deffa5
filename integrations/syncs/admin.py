from django.contrib import admin

from integrations.companies.admin import ReadOnlyAdmin

from .models import RequestLease, Sync, SyncTransaction, WebhookEvent, WriteOperation


class SyncTransactionInline(admin.TabularInline):
    model = SyncTransaction
    extra = 0
    fields = ["transaction", "status", "message", "ledger_record_id", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Sync)
class SyncAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "company",
        "kind",
        "send_state",
        "status_code",
        "status_label_display",
        "counts",
        "completed_at",
        "codat_sync_id",
    ]
    list_filter = ["send_state", "status_code", "kind", "data_pushed"]
    list_select_related = ["company"]
    search_fields = [
        "codat_sync_id",
        "idempotency_key",
        "company__name",
        "error_message",
        "last_error",
    ]
    date_hierarchy = "requested_at"
    inlines = [SyncTransactionInline]

    @admin.display(description="Status")
    def status_label_display(self, obj):
        return obj.status_label

    @admin.display(description="Done / failed / total")
    def counts(self, obj):
        return f"{obj.completed_count} / {obj.failed_count} / {obj.total_count}"


@admin.register(SyncTransaction)
class SyncTransactionAdmin(ReadOnlyAdmin):
    list_display = ["transaction_id", "sync", "status", "ledger_record_id", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["sync"]
    search_fields = ["transaction__id", "sync__codat_sync_id", "ledger_record_id", "message"]


@admin.register(WriteOperation)
class WriteOperationAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "company",
        "data_type",
        "status",
        "status_code",
        "record_id",
        "push_operation_key",
    ]
    list_filter = ["status", "data_type"]
    list_select_related = ["company"]
    search_fields = ["push_operation_key", "record_id", "company__name"]
    date_hierarchy = "requested_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_type", "company", "outcome", "attempts", "has_error"]
    list_filter = ["outcome", "event_type"]
    list_select_related = ["company"]
    search_fields = ["webhook_id", "event_type", "company__name"]
    date_hierarchy = "received_at"

    @admin.display(description="Error", boolean=True)
    def has_error(self, obj):
        return bool(obj.processing_error)


@admin.register(RequestLease)
class RequestLeaseAdmin(ReadOnlyAdmin):
    # Which Codat request slots are held right now (the limiter without Redis).
    list_display = ["codat_company_id", "slot", "lease_until"]
    search_fields = ["codat_company_id"]
