"""Copy what Codat read from a company's ledger into the cache, in a bounded number of queries.

Each kind of record is written with one INSERT … ON CONFLICT DO UPDATE per batch, whatever the
ledger's size, and rows the read did not return are marked missing with one UPDATE: a record
that was seen carries this import's `stamp` in `last_refreshed_at`, so every older row is one
that disappeared. Running an import twice leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction

from integrations.codat.client import CodatClient
from integrations.companies.models import Company

from .models import (
    BankAccount,
    CompanyConfiguration,
    CompanyInfo,
    Customer,
    LedgerAccount,
    LedgerRefresh,
    RecordStatus,
    Supplier,
    TaxRate,
    TrackingCategory,
)

BATCH_SIZE = 500
# Suppliers and customers are the only lists read page by page; big pages keep a large ledger
# to a handful of requests.
PAGE_SIZE = 1000
DataType = LedgerRefresh.DataType


def import_ledger(client: CodatClient, company: Company, *, stamp: datetime) -> dict[str, int]:
    """Read every cached kind of record from Codat and store it; returns the count per type."""
    codat_id = str(company.codat_company_id)
    mapping = client.get_mapping_options(codat_id)
    suppliers = list(client.paginate(client.list_suppliers, codat_id, page_size=PAGE_SIZE))
    customers = list(client.paginate(client.list_customers, codat_id, page_size=PAGE_SIZE))
    info = client.get_company_info(codat_id)
    configuration = client.get_company_configuration(codat_id)

    accounts = mapping.get("accounts")
    with transaction.atomic():
        counts = {
            DataType.ACCOUNTS: upsert_accounts(company, accounts, stamp),
            DataType.BANK_ACCOUNTS: upsert_bank_accounts(
                company,
                None if accounts is None else [a for a in accounts if a.get("isBankAccount")],
                stamp,
            ),
            DataType.TAX_RATES: upsert_tax_rates(company, mapping.get("taxRates"), stamp),
            DataType.TRACKING_CATEGORIES: upsert_tracking_categories(
                company, mapping.get("trackingCategories"), stamp
            ),
            DataType.SUPPLIERS: upsert_suppliers(company, suppliers, stamp),
            DataType.CUSTOMERS: upsert_customers(company, customers, stamp),
            DataType.COMPANY_INFO: upsert_company_info(company, info, stamp),
        }
        upsert_configuration(company, configuration)
        _record_refreshes(company, counts, stamp)
    return counts


# --- One function per kind of record -------------------------------------------------------------


def upsert_accounts(company: Company, accounts: list[dict] | None, stamp: datetime) -> int:
    # Mapping options only offer live accounts, so one that is not listed has been archived or
    # deleted in the ledger: either way it is missing, and its last known status is kept.
    rows = [
        LedgerAccount(
            company=company,
            codat_id=str(a["id"]),
            name=_text(a.get("name")),
            nominal_code=_text(a.get("nominalCode"), 64),
            account_type=_choice(LedgerAccount.Type, a.get("accountType"), "UNKNOWN"),
            currency=_currency(a.get("currency")),
            fully_qualified_category=_text(a.get("fullyQualifiedCategory")),
            is_bank_account=bool(a.get("isBankAccount")),
            valid_transaction_types=list(a.get("validTransactionTypes") or []),
            valid_for=list(a.get("validFor") or []),
            status=RecordStatus.ACTIVE,
            raw=a,
        )
        for a in accounts or []
        if a.get("id") is not None
    ]
    return _upsert(
        LedgerAccount,
        company,
        rows,
        stamp,
        [
            "name",
            "nominal_code",
            "account_type",
            "currency",
            "fully_qualified_category",
            "is_bank_account",
            "valid_transaction_types",
            "valid_for",
            "status",
        ],
        complete=accounts is not None,
    )


_BANK_TYPES = {"Liability": BankAccount.Type.CREDIT, "Asset": BankAccount.Type.DEBIT}


def upsert_bank_accounts(company: Company, accounts: list[dict] | None, stamp: datetime) -> int:
    # Codat's Expenses API has no bank-account list: a bank account is an account flagged
    # isBankAccount in the mapping options, and a card (a liability) is a credit account.
    rows = [
        BankAccount(
            company=company,
            codat_id=str(a["id"]),
            name=_text(a.get("name")),
            account_type=_BANK_TYPES.get(a.get("accountType"), BankAccount.Type.UNKNOWN),
            currency=_currency(a.get("currency")),
            nominal_code=_text(a.get("nominalCode"), 64),
            status=RecordStatus.ACTIVE,
            raw=a,
        )
        for a in accounts or []
        if a.get("id") is not None
    ]
    return _upsert(
        BankAccount,
        company,
        rows,
        stamp,
        ["name", "account_type", "currency", "nominal_code", "status"],
        complete=accounts is not None,
    )


def upsert_tax_rates(company: Company, rates: list[dict] | None, stamp: datetime) -> int:
    rows = [
        TaxRate(
            company=company,
            codat_id=str(r["id"]),
            name=_text(r.get("name")),
            code=_text(r.get("code"), 64),
            effective_rate=_decimal(r.get("effectiveTaxRate")),
            total_rate=_decimal(r.get("totalTaxRate")),
            valid_transaction_types=list(r.get("validTransactionTypes") or []),
            raw=r,
        )
        for r in rates or []
        if r.get("id") is not None
    ]
    return _upsert(
        TaxRate,
        company,
        rows,
        stamp,
        ["name", "code", "effective_rate", "total_rate", "valid_transaction_types"],
        complete=rates is not None,
    )


def upsert_tracking_categories(
    company: Company, categories: list[dict] | None, stamp: datetime
) -> int:
    rows = [
        TrackingCategory(
            company=company,
            codat_id=str(c["id"]),
            name=_text(c.get("name")),
            has_children=bool(c.get("hasChildren")),
            raw=c,
        )
        for c in categories or []
        if c.get("id") is not None
    ]
    count = _upsert(
        TrackingCategory,
        company,
        rows,
        stamp,
        ["name", "has_children"],
        complete=categories is not None,
    )
    # Parents point at rows that may have been created in the same statement, so the tree is
    # set afterwards, and only where it changed (usually nowhere).
    parents = {str(c["id"]): c.get("parentId") for c in categories or [] if c.get("id") is not None}
    existing = TrackingCategory.objects.filter(company=company).values_list(
        "pk", "codat_id", "parent_id"
    )
    pk_of = {codat_id: pk for pk, codat_id, _ in existing}
    changed = []
    for pk, codat_id, parent_id in existing:
        if codat_id not in parents:
            continue
        wanted = pk_of.get(str(parents[codat_id])) if parents[codat_id] is not None else None
        if wanted != parent_id:
            changed.append(TrackingCategory(pk=pk, parent_id=wanted))
    TrackingCategory.objects.bulk_update(changed, ["parent"], batch_size=BATCH_SIZE)
    return count


def upsert_suppliers(company: Company, suppliers: list[dict], stamp: datetime) -> int:
    return _upsert_contacts(Supplier, "supplierName", company, suppliers, stamp)


def upsert_customers(company: Company, customers: list[dict], stamp: datetime) -> int:
    return _upsert_contacts(Customer, "customerName", company, customers, stamp)


def _upsert_contacts(model, name_field: str, company: Company, records: list[dict], stamp):
    """Suppliers and customers: the same shape at Codat but for the name's field."""
    rows = [
        model(
            company=company,
            codat_id=str(r["id"]),
            name=_text(r.get(name_field)),
            currency=_currency(r.get("defaultCurrency")),
            status=_choice(RecordStatus, r.get("status"), "UNKNOWN"),
            raw=r,
        )
        for r in records
        if r.get("id") is not None and not _is_deleted(r)
    ]
    return _upsert(model, company, rows, stamp, ["name", "currency", "status"], complete=True)


def upsert_company_info(company: Company, info: dict, stamp: datetime) -> int:
    CompanyInfo.objects.update_or_create(
        company=company,
        defaults={
            "company_name": _text(info.get("companyName")),
            "legal_name": _text(info.get("companyLegalName")),
            "base_currency": _currency(info.get("baseCurrency")),
            "ledger_lock_date": _date(info.get("ledgerLockDate")),
            "raw": info,
            "last_refreshed_at": stamp,
        },
    )
    return 1


def upsert_configuration(company: Company, configuration: dict) -> CompanyConfiguration:
    """Take the defaults Codat holds; an id Codat has but our cache lacks becomes empty, which
    the mapping pages show as needing attention."""
    wanted = {
        "default_bank_account": (BankAccount, configuration.get("bankAccount")),
        "default_supplier": (Supplier, configuration.get("supplier")),
        "default_customer": (Customer, configuration.get("customer")),
    }
    defaults = {}
    for field, (model, ref) in wanted.items():
        codat_id = (ref or {}).get("id")
        defaults[f"{field}_id"] = (
            model.objects.filter(company=company, codat_id=str(codat_id))
            .values_list("pk", flat=True)
            .first()
            if codat_id
            else None
        )
    current = CompanyConfiguration.objects.filter(company=company).first()
    if current is None:
        return CompanyConfiguration.objects.create(company=company, **defaults)
    changed = [f for f, v in defaults.items() if getattr(current, f) != v]
    if changed:
        for field in changed:
            setattr(current, field, defaults[field])
        # updated_by is left alone: Codat is not a person.
        current.save(update_fields=[*changed, "updated_at"])
    return current


# --- Plumbing ---------------------------------------------------------------------------------


def _upsert(model, company, rows, stamp, fields, *, complete: bool) -> int:
    for row in rows:
        row.last_refreshed_at = stamp
        row.missing_since = None  # a record that comes back is usable again
    model.objects.bulk_create(
        _unique(rows),
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["company", "codat_id"],
        update_fields=[*fields, "raw", "last_refreshed_at", "missing_since"],
    )
    if complete:
        # Only a full list can say what is gone; a list Codat did not send says nothing.
        model.objects.filter(
            company=company, missing_since__isnull=True, last_refreshed_at__lt=stamp
        ).update(missing_since=stamp)
    return len(rows)


def _unique(rows: Iterable) -> list:
    # One statement cannot touch a row twice (PostgreSQL refuses), so a record a ledger lists
    # twice keeps its last copy.
    return list({row.codat_id: row for row in rows}.values())


def _record_refreshes(company: Company, counts: dict[str, int], stamp: datetime) -> None:
    LedgerRefresh.objects.bulk_create(
        [
            LedgerRefresh(
                company=company,
                data_type=data_type,
                refreshed_at=stamp,
                record_count=count,
                error="",
            )
            for data_type, count in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["company", "data_type"],
        update_fields=["refreshed_at", "record_count", "error"],
    )


def _is_deleted(record: dict) -> bool:
    return bool((record.get("metadata") or {}).get("isDeleted"))


def _text(value, limit: int = 255) -> str:
    return str(value or "")[:limit]


def _currency(value) -> str:
    text = str(value or "").strip().upper()
    return text if len(text) == 3 and text.isalpha() else ""


def _choice(choices, value, fallback: str) -> str:
    return value if value in choices.values else choices[fallback].value


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        return None
