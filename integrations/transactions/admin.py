from django.contrib import admin

from integrations.companies.admin import AuditedModelAdmin

from .models import Receipt, Transaction


class ReceiptInline(admin.TabularInline):
    model = Receipt
    extra = 0
    fields = [
        "original_filename",
        "size",
        "content_type",
        "upload_status",
        "error",
        "codat_attachment_id",
    ]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(AuditedModelAdmin):
    list_display = [
        "issue_date",
        "company",
        "kind",
        "expense_type",
        "merchant_name",
        "amount_display",
        "status",
        "attention_code",
        "needs_attention_reason",
        "id",
    ]
    # The operator's first question about a stuck row: why (the code, then the reason's words).
    list_filter = ["status", "attention_code", "kind", "expense_type", "currency", "pending_edit"]
    list_select_related = ["company"]
    search_fields = [
        "id",
        "merchant_name",
        "reference",
        "ledger_record_id",
        "company__name",
        "needs_attention_reason",
    ]
    date_hierarchy = "issue_date"
    autocomplete_fields = [
        "company",
        "card",
        "category",
        "supplier",
        "from_bank_account",
        "to_bank_account",
    ]
    readonly_fields = ["id", "created_at", "updated_at", "status_changed_at"]
    inlines = [ReceiptInline]

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return f"{obj.total_amount} {obj.currency}"


@admin.register(Receipt)
class ReceiptAdmin(AuditedModelAdmin):
    list_display = [
        "original_filename",
        "transaction",
        "company",
        "size",
        "content_type",
        "upload_status",
        "created_at",
    ]
    list_filter = ["upload_status", "content_type"]
    list_select_related = ["transaction__company"]
    search_fields = [
        "original_filename",
        "codat_attachment_id",
        "transaction__id",
        "transaction__company__name",
    ]
    raw_id_fields = ["transaction"]
    readonly_fields = ["created_at", "uploaded_at"]

    @admin.display(description="Company", ordering="transaction__company__name")
    def company(self, obj):
        return obj.transaction.company

    def audit_company(self, obj):
        return obj.transaction.company
