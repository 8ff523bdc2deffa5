"""Seeded ledgers: shapes, enums, ids, determinism and the records the rules need."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest

from codat_sandbox.platforms import EXPENSE_TYPES, PLATFORMS
from codat_sandbox.seeds import (
    ACCOUNT_TYPES,
    DATA_TYPES,
    VALID_FOR,
    index_ledger,
    lock_date_for,
    seed_ledger,
)

TODAY = date(2026, 11, 23)
KEYS = sorted(PLATFORMS)


@pytest.fixture(params=KEYS)
def seeded(request):
    return request.param, seed_ledger(request.param, "Acme Widgets", seed=3, today=TODAY)


def test_every_data_type_present_and_non_empty(seeded):
    _, ledger = seeded
    assert set(ledger) == set(DATA_TYPES)
    for data_type in DATA_TYPES:
        assert ledger[data_type], data_type
    assert len(ledger["company"]) == 1


def test_ids_unique_per_data_type(seeded):
    _, ledger = seeded
    for data_type, records in ledger.items():
        if data_type == "company":
            continue
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)), data_type
        assert all(isinstance(i, str) and i for i in ids)


def test_deterministic():
    for key in KEYS:
        first = seed_ledger(key, "Acme Widgets", seed=1, today=TODAY)
        assert first == seed_ledger(key, "Acme Widgets", seed=1, today=TODAY)
        assert first != seed_ledger(key, "Acme Widgets", seed=2, today=TODAY)


def test_unknown_platform_refused():
    with pytest.raises(ValueError):
        seed_ledger("mqjo", "Acme")


def test_accounts_shape_and_enums(seeded):
    key, ledger = seeded
    platform = PLATFORMS[key]
    for account in ledger["chartOfAccounts"]:
        assert {
            "id",
            "nominalCode",
            "name",
            "description",
            "fullyQualifiedCategory",
            "fullyQualifiedName",
            "currency",
            "type",
            "status",
            "isBankAccount",
            "validTransactionTypes",
            "validFor",
            "metadata",
        } <= set(account)
        assert account["type"] in ACCOUNT_TYPES
        assert account["status"] in ("Active", "Archived")
        assert isinstance(account["metadata"]["isDeleted"], bool)
        assert set(account["validTransactionTypes"]) <= set(EXPENSE_TYPES)
        assert set(account["validTransactionTypes"]) <= platform.expense_types
        assert set(account["validFor"]) <= set(VALID_FOR)
        assert re.fullmatch(r"[A-Z]{3}", account["currency"])
        assert isinstance(account["currentBalance"], Decimal)
        assert account["fullyQualifiedCategory"].split(".")[0] == account["type"]
        # validFor never offers an endpoint the platform does not support.
        if "reimbursable" not in platform.supports:
            assert "reimbursable-expense-transactions" not in account["validFor"]
        if "adjustment" not in platform.supports:
            assert "adjustment-transactions" not in account["validFor"]
        if "transfer_create" not in platform.supports:
            assert "transfer-transactions" not in account["validFor"]


def test_accounts_needed_by_the_rules(seeded):
    _, ledger = seeded
    expenses = [a for a in ledger["chartOfAccounts"] if a["type"] == "Expense"]
    archived = [a for a in expenses if a["status"] == "Archived"]
    assert archived and all(a["metadata"]["isDeleted"] for a in archived)
    active = [a for a in expenses if a["status"] == "Active"]
    payment_only = [a for a in active if a["validTransactionTypes"] == ["Payment"]]
    assert payment_only
    assert all(
        [v for v in a["validFor"] if v.startswith("expense-")] == ["expense-transactions.Payment"]
        for a in payment_only
    )


def test_platform_id_styles():
    ledgers = {k: seed_ledger(k, "Acme Widgets", today=TODAY) for k in KEYS}

    def names(key):
        return {a["name"]: a for a in ledgers[key]["chartOfAccounts"]}

    assert names("qhyg")["Meals and Entertainment"]["id"] == "13"
    assert all(a["id"].isdigit() for a in ledgers["qhyg"]["chartOfAccounts"])
    xero = names("gbol")["General Expenses"]
    assert xero["nominalCode"] == "429"
    uuid.UUID(xero["id"])
    assert all(a["id"].isdigit() for a in ledgers["akxx"]["chartOfAccounts"])
    assert names("knfz")["Travel"]["id"] == "6000"
    assert all(
        re.fullmatch(r"[0-9A-F]{8}-\d{10}", a["id"]) for a in ledgers["pqsw"]["chartOfAccounts"]
    )
    for account in ledgers["trji"]["chartOfAccounts"]:
        uuid.UUID(account["id"])
    assert names("fbrh")["Accommodation and Meals"]["id"] == "285"
    assert all(re.fullmatch(r"\d{15}", a["id"]) for a in ledgers["rwuv"]["chartOfAccounts"])


def test_no_tax_rate_present_with_platform_id(seeded):
    key, ledger = seeded
    no_tax = PLATFORMS[key].no_tax_rate_id
    rates = {r["id"]: r for r in ledger["taxRates"]}
    if no_tax is not None:
        assert rates[no_tax]["effectiveTaxRate"] == Decimal(0)
        assert rates[no_tax]["status"] == "Active"
    for rate in ledger["taxRates"]:
        assert set(rate) >= {
            "id",
            "name",
            "code",
            "effectiveTaxRate",
            "totalTaxRate",
            "validTransactionTypes",
            "status",
        }
        assert isinstance(rate["effectiveTaxRate"], Decimal)
        assert rate["status"] in ("Active", "Archived")
    assert any(r["status"] == "Archived" for r in ledger["taxRates"])


def test_tracking_categories_tree(seeded):
    _, ledger = seeded
    records = {r["id"]: r for r in ledger["trackingCategories"]}
    parents = [r for r in records.values() if r["parentId"] is None]
    children = [r for r in records.values() if r["parentId"] is not None]
    assert len(parents) >= 2 and len(children) >= 4
    for child in children:
        assert records[child["parentId"]]["hasChildren"] is True
        assert child["hasChildren"] is False
    for parent in parents:
        assert parent["hasChildren"] == any(c["parentId"] == parent["id"] for c in children)
    assert any(r["status"] == "Archived" for r in children)


def test_suppliers_and_customers(seeded):
    key, ledger = seeded
    base = PLATFORMS[key].default_base_currency
    for data_type, name_field in (("suppliers", "supplierName"), ("customers", "customerName")):
        records = ledger[data_type]
        assert len(records) >= 4
        assert sum(r["status"] == "Archived" for r in records) == 1
        assert all(r["status"] in ("Active", "Archived") for r in records)
        assert all(r[name_field] for r in records)
        currencies = {r["defaultCurrency"] for r in records} - {None}
        assert base in currencies and len(currencies) >= 2
        for record in records:
            assert all(a["type"] in ("Unknown", "Billing", "Delivery") for a in record["addresses"])
    # A multi-currency supplier (no default currency) and an employee for reimbursables.
    assert any(s["defaultCurrency"] is None for s in ledger["suppliers"])
    assert any("employee" in s["supplierName"] for s in ledger["suppliers"])


def test_bank_accounts(seeded):
    key, ledger = seeded
    banks = ledger["bankAccounts"]
    assert {b["accountType"] for b in banks} == {"Credit", "Debit"}
    assert len({b["currency"] for b in banks}) >= 2
    assert sum(b["status"] == "Archived" for b in banks) == 1
    for bank in banks:
        assert bank["status"] in ("Active", "Archived")
        assert isinstance(bank["balance"], Decimal)
    assert any(
        b["currency"] == PLATFORMS[key].default_base_currency
        and b["accountType"] == "Credit"
        and b["status"] == "Active"
        for b in banks
    )


def test_company_information(seeded):
    key, ledger = seeded
    company = ledger["company"][0]
    assert company["companyName"] == "Acme Widgets"
    assert company["baseCurrency"] == PLATFORMS[key].default_base_currency
    for field in (
        "companyLegalName",
        "addresses",
        "registrationNumber",
        "taxNumber",
        "accountingPlatformRef",
        "createdDate",
        "sourceUrls",
        "financialYearStartDate",
        "ledgerLockDate",
    ):
        assert field in company
    lock = datetime.fromisoformat(company["ledgerLockDate"]).date()
    assert 55 <= (TODAY - lock).days <= 95
    assert datetime.fromisoformat(company["financialYearStartDate"]).date() <= TODAY


def test_base_currencies():
    assert PLATFORMS["gbol"].default_base_currency == "GBP"
    assert PLATFORMS["fbrh"].default_base_currency == "GBP"
    assert PLATFORMS["qhyg"].default_base_currency == "USD"


@pytest.mark.parametrize(
    ("today", "lock"),
    [
        (date(2026, 11, 23), date(2026, 8, 31)),
        (date(2026, 1, 1), date(2025, 10, 31)),
        (date(2026, 3, 31), date(2025, 12, 31)),
    ],
)
def test_lock_date_is_two_to_three_months_back(today, lock):
    assert lock_date_for(today) == lock


def test_index_ledger():
    seeded = seed_ledger("gbol", "Acme", today=TODAY)
    indexed = index_ledger(seeded)
    assert set(indexed) == set(DATA_TYPES)
    account = seeded["chartOfAccounts"][0]
    assert indexed["chartOfAccounts"][account["id"]] is account
    assert list(indexed["company"].values()) == seeded["company"]
