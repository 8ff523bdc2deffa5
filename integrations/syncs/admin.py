from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from integrations.companies.admin import ReadOnlyAdmin
from integrations.companies.admin_scale import LargeTableAdmin, choices_filter, platform_filter

from . import events
from .models import (
    CompanyHealth,
    ErrorCluster,
    ErrorClusterMember,
    RequestLease,
    Sync,
    SyncHour,
    SyncTransaction,
    WebhookEvent,
    WriteOperation,
)
from .services import operator


def event_types():
    """The webhook types the portal handles (the registry), listed without a DISTINCT over every
    delivery; a type nobody handles is still found by searching for it."""
    return [(name, name) for name in sorted(events.registry)]


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

    def get_queryset(self, request):
        # Each row shows its transaction: one join, not a query per item (a sync holds 50).
        return super().get_queryset(request).select_related("transaction")


@admin.register(Sync)
class SyncAdmin(LargeTableAdmin, ReadOnlyAdmin):
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
    list_filter = ["send_state", "status_code", platform_filter("company"), "kind", "data_pushed"]
    list_select_related = ["company"]
    search_fields = ["=codat_sync_id", "=idempotency_key", "company__name", "error_message"]
    inlines = [SyncTransactionInline]
    actions = ["poll_now"]

    @admin.action(description="Re-fetch sync status from Codat now")
    def poll_now(self, request, queryset):
        count = operator.poll_now(queryset, actor=request.user)
        self.message_user(
            request,
            f"{count} open sync(s) queued for a status check; finished ones were skipped.",
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.display(description="Status")
    def status_label_display(self, obj):
        return obj.status_label

    @admin.display(description="Done / failed / total")
    def counts(self, obj):
        return f"{obj.completed_count} / {obj.failed_count} / {obj.total_count}"


@admin.register(SyncTransaction)
class SyncTransactionAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["transaction_id", "sync", "status", "message", "ledger_record_id", "updated_at"]
    list_filter = ["status", platform_filter("sync__company")]
    list_select_related = ["sync"]
    # By transaction id (indexed); a sync's items are found from the sync itself.
    search_fields = ["=transaction__id", "=ledger_record_id", "message"]
    raw_id_fields = ["sync", "transaction"]


@admin.register(WriteOperation)
class WriteOperationAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "company",
        "data_type",
        "status",
        "status_code",
        "record_id",
        "push_operation_key",
    ]
    list_filter = ["status", "data_type", platform_filter("company")]
    list_select_related = ["company"]
    search_fields = ["=push_operation_key", "=record_id", "company__name"]
    date_hierarchy = "requested_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["received_at", "event_type", "company", "outcome", "attempts", "has_error"]
    list_filter = ["outcome", choices_filter("event_type", "event type", event_types)]
    list_select_related = ["company"]
    search_fields = ["=webhook_id", "event_type", "company__name"]

    @admin.display(description="Error", boolean=True)
    def has_error(self, obj):
        return bool(obj.processing_error)


@admin.register(RequestLease)
class RequestLeaseAdmin(ReadOnlyAdmin):
    # Which Codat request slots are held right now (the limiter without Redis).
    list_display = ["codat_company_id", "slot", "lease_until"]
    search_fields = ["codat_company_id"]


# --- Sync health summaries: derived rows (health.rebuild_all() remakes them), read-only --------


@admin.register(CompanyHealth)
class CompanyHealthAdmin(ReadOnlyAdmin):
    list_display = [
        "company",
        "health",
        "score",
        "platform_name",
        "connection_status",
        "last_sync_at",
        "last_failure_code",
        "waiting_count",
        "failed_count",
        "oldest_waiting_at",
        "refreshed_at",
    ]
    list_filter = ["health", "connection_status", "stuck", "platform_key"]
    list_select_related = ["company"]
    search_fields = ["company__name", "=company__codat_company_id"]
    ordering = ["-score", "company"]
    show_full_result_count = False


@admin.register(SyncHour)
class SyncHourAdmin(ReadOnlyAdmin):
    list_display = ["hour", "outcome", "count"]
    list_filter = ["outcome"]
    ordering = ["-hour", "outcome"]


@admin.register(ErrorCluster)
class ErrorClusterAdmin(ReadOnlyAdmin):
    list_display = [
        "status_code",
        "item_status",
        "pattern",
        "state",
        "transactions_count",
        "companies_count",
        "first_seen_at",
        "last_seen_at",
    ]
    list_filter = ["state", "status_code", "item_status"]
    search_fields = ["pattern", "sample_message", "=key"]
    show_full_result_count = False
    actions = ["retry_all", "resolve"]
    # No inline of members: a cluster can hold thousands; the link lists them a page at a time.
    readonly_fields = ["members_link"]

    @admin.display(description="Transactions")
    def members_link(self, obj):
        url = reverse("admin:syncs_errorclustermember_changelist")
        return format_html(
            '<a href="{}?cluster__id__exact={}">{} open, {} in all</a>',
            url,
            obj.pk,
            obj.transactions_count,
            obj.total_transactions,
        )

    @admin.action(description="Retry all failed transactions in these clusters")
    def retry_all(self, request, queryset):
        count = operator.retry_clusters(queryset, actor=request.user)
        self.message_user(
            request,
            f"{count} failed transaction(s) back to ready; pre-flight checks them before sending.",
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description="Resolve (close) these clusters")
    def resolve(self, request, queryset):
        count = operator.resolve_clusters(queryset, actor=request.user)
        self.message_user(
            request,
            f"{count} cluster(s) resolved; a new failure with the same cause opens one again.",
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(ErrorClusterMember)
class ErrorClusterMemberAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["transaction_id", "cluster", "company", "sync", "last_seen_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), platform_filter("company")]
    list_select_related = ["cluster", "company", "sync"]
    search_fields = ["=transaction__id", "company__name"]
    raw_id_fields = ["cluster", "transaction", "company", "sync"]
