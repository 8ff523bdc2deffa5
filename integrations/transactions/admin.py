from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from integrations.companies.admin import AuditedModelAdmin
from integrations.companies.admin_scale import LargeTableAdmin, choices_filter, platform_filter
from integrations.syncs.services import operator

from .models import Receipt, Transaction

CURRENCIES = [(c, c) for c in ("AUD", "CAD", "EUR", "GBP", "NZD", "USD", "ZAR")]


class HandledOutsideForm(forms.Form):
    """The reason an operator gives when settling transactions by hand (kept on each row)."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        max_length=1000,
        help_text="What was done, e.g. \u201centered in Xero by hand on 3 March\u201d.",
    )


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
class TransactionAdmin(LargeTableAdmin, AuditedModelAdmin):
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
    # Currencies from a fixed list: a field filter would SELECT DISTINCT over every row.
    list_filter = [
        "status",
        platform_filter("company"),
        "attention_code",
        "kind",
        "expense_type",
        choices_filter("currency", "currency", CURRENCIES),
        "pending_edit",
    ]
    list_select_related = ["company"]
    # Ids match exactly (an index lookup); words match anywhere.
    search_fields = [
        "=id",
        "=ledger_record_id",
        "merchant_name",
        "reference",
        "company__name",
    ]
    # No date_hierarchy: its year links come from a scan of every row's date.
    actions = ["retry_failed", "mark_handled_outside"]
    autocomplete_fields = [
        "company",
        "card",
        "category",
        "supplier",
        "from_bank_account",
        "to_bank_account",
    ]
    # handled_reason stays editable: the form then checks "handled needs a reason" itself
    # (a constraint on a read-only field is skipped by the form and would fail in the database).
    readonly_fields = ["id", "created_at", "updated_at", "status_changed_at"]
    inlines = [ReceiptInline]

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return f"{obj.total_amount} {obj.currency}"

    @admin.action(description="Retry push (failed rows back to ready)", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = operator.retry_failed(queryset, actor=request.user)
        self.message_user(
            request,
            f"{count} failed transaction(s) back to ready; pre-flight checks them before "
            "sending. Rows that had not failed were left as they were.",
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description="Mark handled outside the portal", permissions=["change"])
    def mark_handled_outside(self, request, queryset):
        form = HandledOutsideForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = operator.mark_handled_outside(
                queryset, reason=form.cleaned_data["reason"], actor=request.user
            )
            self.message_user(
                request,
                f"{count} transaction(s) marked handled outside the portal; rows in flight or "
                "already in the ledger were left alone.",
                messages.SUCCESS if count else messages.WARNING,
            )
            return None
        # First visit, or no reason given: ask for it, keeping the selection.
        return TemplateResponse(
            request,
            "admin/transactions/handled_outside.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark handled outside the portal",
                "opts": self.model._meta,
                "form": form,
                "queryset": queryset[:20],
                "count": queryset.count(),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "action": "mark_handled_outside",
            },
        )


@admin.register(Receipt)
class ReceiptAdmin(LargeTableAdmin, AuditedModelAdmin):
    list_display = [
        "original_filename",
        "transaction",
        "company",
        "size",
        "content_type",
        "upload_status",
        "created_at",
    ]
    list_filter = ["upload_status", platform_filter("transaction__company")]
    list_select_related = ["transaction__company"]
    ordering = ["-created_at", "-pk"]
    search_fields = [
        "=codat_attachment_id",
        "=transaction__id",
        "original_filename",
        "transaction__company__name",
    ]
    raw_id_fields = ["transaction"]
    readonly_fields = ["created_at", "uploaded_at"]

    @admin.display(description="Company", ordering="transaction__company__name")
    def company(self, obj):
        return obj.transaction.company

    def audit_company(self, obj):
        return obj.transaction.company
