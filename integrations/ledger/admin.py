from django.contrib import admin

from integrations.companies.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    LedgerRead,
    LedgerRefresh,
    Supplier,
    TaxRate,
    TrackingCategory,
)


class CachedRecordAdmin(AuditedModelAdmin):
    """Ledger data is Codat's copy: editable for emergencies, overwritten by the next refresh."""

    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    readonly_fields = ["last_refreshed_at"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(CachedRecordAdmin):
    list_display = [
        "name",
        "nominal_code",
        "company",
        "account_type",
        "currency",
        "is_bank_account",
        "status",
        "codat_id",
    ]
    list_filter = ["account_type", "status", "is_bank_account"]
    search_fields = ["name", "nominal_code", "codat_id", "company__name"]


@admin.register(TaxRate)
class TaxRateAdmin(CachedRecordAdmin):
    list_display = ["name", "code", "company", "effective_rate", "total_rate", "codat_id"]
    search_fields = ["name", "code", "codat_id", "company__name"]


@admin.register(TrackingCategory)
class TrackingCategoryAdmin(CachedRecordAdmin):
    list_display = ["name", "parent", "company", "has_children", "codat_id"]
    list_filter = ["has_children"]
    list_select_related = ["company", "parent"]
    search_fields = ["name", "codat_id", "company__name"]
    raw_id_fields = ["parent"]


@admin.register(Supplier)
class SupplierAdmin(CachedRecordAdmin):
    list_display = ["name", "company", "currency", "status", "codat_id"]
    list_filter = ["status"]
    search_fields = ["name", "codat_id", "company__name"]


@admin.register(Customer)
class CustomerAdmin(CachedRecordAdmin):
    list_display = ["name", "company", "currency", "status", "codat_id"]
    list_filter = ["status"]
    search_fields = ["name", "codat_id", "company__name"]


@admin.register(BankAccount)
class BankAccountAdmin(CachedRecordAdmin):
    list_display = ["name", "company", "account_type", "currency", "nominal_code", "status"]
    list_filter = ["account_type", "status"]
    search_fields = ["name", "nominal_code", "codat_id", "company__name"]


@admin.register(CompanyInfo)
class CompanyInfoAdmin(AuditedModelAdmin):
    list_display = ["company", "legal_name", "base_currency", "ledger_lock_date"]
    list_select_related = ["company"]
    search_fields = ["company__name", "legal_name", "company_name"]
    autocomplete_fields = ["company"]
    readonly_fields = ["last_refreshed_at"]


@admin.register(LedgerRefresh)
class LedgerRefreshAdmin(AuditedModelAdmin):
    list_display = ["company", "data_type", "refreshed_at", "record_count", "has_error"]
    list_filter = ["data_type"]
    list_select_related = ["company"]
    search_fields = ["company__name"]
    autocomplete_fields = ["company"]

    @admin.display(description="Error", boolean=True)
    def has_error(self, obj):
        return bool(obj.error)


@admin.register(LedgerRead)
class LedgerReadAdmin(ReadOnlyAdmin):
    """Where each company's ledger read stands; the workers and the sweeper move them on."""

    list_display = ["company", "status", "reason", "created_at", "finished_at", "attempts"]
    list_filter = ["status", "reason"]
    list_select_related = ["company"]
    search_fields = ["company__name", "error"]
    date_hierarchy = "created_at"


@admin.register(ExpenseCategory)
class ExpenseCategoryAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "company", "is_active", "mapped_to"]
    list_filter = ["is_active"]
    list_select_related = ["company", "mapping__account"]
    search_fields = ["name", "code", "company__name"]
    autocomplete_fields = ["company"]

    @admin.display(description="Ledger account")
    def mapped_to(self, obj):
        mapping = getattr(obj, "mapping", None)
        return mapping.account if mapping and mapping.account else "—"


@admin.register(Card)
class CardAdmin(AuditedModelAdmin):
    list_display = ["name", "last_four", "cardholder", "company", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    list_select_related = ["company"]
    search_fields = ["name", "cardholder", "last_four", "reference", "company__name"]
    autocomplete_fields = ["company"]


class MappingAdmin(AuditedModelAdmin):
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CategoryMapping)
class CategoryMappingAdmin(MappingAdmin):
    list_display = ["category", "company", "account", "tax_rate", "updated_by", "updated_at"]
    list_select_related = ["category__company", "account", "tax_rate", "updated_by"]
    search_fields = ["category__name", "category__code", "category__company__name"]
    autocomplete_fields = ["category", "account", "tax_rate", "tracking_categories"]

    @admin.display(description="Company", ordering="category__company__name")
    def company(self, obj):
        return obj.category.company

    def audit_company(self, obj):
        return obj.category.company


@admin.register(CardMapping)
class CardMappingAdmin(MappingAdmin):
    list_display = ["card", "company", "bank_account", "updated_by", "updated_at"]
    list_select_related = ["card__company", "bank_account", "updated_by"]
    search_fields = ["card__name", "card__last_four", "card__company__name"]
    autocomplete_fields = ["card", "bank_account"]

    @admin.display(description="Company", ordering="card__company__name")
    def company(self, obj):
        return obj.card.company

    def audit_company(self, obj):
        return obj.card.company


@admin.register(CompanyConfiguration)
class CompanyConfigurationAdmin(MappingAdmin):
    list_display = [
        "company",
        "default_bank_account",
        "default_supplier",
        "default_customer",
        "is_complete",
        "updated_at",
    ]
    list_select_related = [
        "company",
        "default_bank_account",
        "default_supplier",
        "default_customer",
    ]
    search_fields = ["company__name"]
    autocomplete_fields = [
        "company",
        "default_bank_account",
        "default_supplier",
        "default_customer",
    ]

    @admin.display(description="Complete", boolean=True)
    def is_complete(self, obj):
        return obj.is_complete
