"""Pre-flight's rules as pure functions over plain data: no database, no HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from integrations.syncs.services import platforms
from integrations.syncs.services.preflight import Facts, LedgerFacts, Record, check
from integrations.transactions.models import Transaction

Code = Transaction.AttentionCode
Screen = Transaction.Screen

QBO = LedgerFacts(
    platform=platforms.get_platform("qhyg"),
    linked=True,
    base_currency="GBP",
    lock_date=date(2026, 1, 31),
)
GOOD = Facts(
    kind="expense",
    expense_type="Payment",
    issue_date=date(2026, 3, 1),
    currency="GBP",
    currency_rate=None,
    has_category=True,
    account=Record("10", "Travel"),
    bank_account=Record("20", "Amex", currency="GBP", card_type="Credit"),
    bank_from_card=True,
    has_card=True,
    contact=Record("30", "Card spend"),
    contact_kind="Supplier",
)


def _problem(facts=GOOD, ledger=QBO):
    problem = check(facts, ledger)
    return (problem.code, problem.screen) if problem else None


def test_a_well_mapped_expense_passes():
    assert check(GOOD, QBO) is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"has_category": False}, (Code.NO_CATEGORY, Screen.TRANSACTION)),
        ({"account": None}, (Code.CATEGORY_NOT_MAPPED, Screen.CATEGORY_MAPPING)),
        (
            {"account": Record("10", "Travel", archived=True)},
            (Code.ACCOUNT_ARCHIVED, Screen.CATEGORY_MAPPING),
        ),
        (
            {"account": Record("10", "Sales", valid=False)},
            (Code.ACCOUNT_NOT_VALID, Screen.CATEGORY_MAPPING),
        ),
        (
            {"tax_rate": Record("5", "Zero", valid=False)},
            (Code.TAX_RATE_NOT_VALID, Screen.CATEGORY_MAPPING),
        ),
        ({"bank_account": None}, (Code.NO_BANK_ACCOUNT, Screen.CARD_MAPPING)),
        (
            {"bank_account": None, "bank_from_card": False, "has_card": False},
            (Code.NO_BANK_ACCOUNT, Screen.COMPANY_DEFAULTS),
        ),
        (
            {"bank_account": Record("20", "Amex", archived=True, currency="GBP")},
            (Code.BANK_ACCOUNT_ARCHIVED, Screen.CARD_MAPPING),
        ),
        ({"contact": None}, (Code.NO_CONTACT, Screen.COMPANY_DEFAULTS)),
        (
            {"contact": Record("30", "Old supplier", archived=True)},
            (Code.CONTACT_ARCHIVED, Screen.COMPANY_DEFAULTS),
        ),
        (
            {"contact": Record("30", "US supplier", currency="USD")},
            (Code.CONTACT_CURRENCY, Screen.COMPANY_DEFAULTS),
        ),
        ({"issue_date": date(2026, 1, 31)}, (Code.LOCKED_PERIOD, Screen.TRANSACTION)),
    ],
)
def test_each_rule_names_its_problem_and_the_screen_that_fixes_it(changes, expected):
    assert _problem(replace(GOOD, **changes)) == expected


def test_a_disconnected_or_unloaded_ledger_comes_first():
    broken = replace(GOOD, account=None)
    assert _problem(broken, replace(QBO, linked=False)) == (
        Code.CONNECTION_NOT_LINKED,
        Screen.CONNECTION,
    )
    assert _problem(broken, replace(QBO, base_currency="")) == (
        Code.LEDGER_NOT_LOADED,
        Screen.CONNECTION,
    )


def test_platform_support_for_kinds_and_types():
    adjustment = replace(GOOD, kind="adjustment")
    assert _problem(adjustment)[0] == Code.KIND_NOT_SUPPORTED
    qbd = replace(QBO, platform=platforms.get_platform("pqsw"))
    assert _problem(adjustment, qbd) is None
    zoho = replace(QBO, platform=platforms.get_platform("rwuv"))
    assert _problem(replace(GOOD, expense_type="Refund"), zoho)[0] == Code.TYPE_NOT_SUPPORTED
    # QBD books refunds against credit cards only.
    debit = replace(GOOD, bank_account=Record("20", "Current", currency="GBP", card_type="Debit"))
    assert _problem(replace(debit, expense_type="Refund"), qbd)[0] == Code.CARD_TYPE_REFUSED
    assert _problem(debit, qbd) is None


@pytest.mark.parametrize(
    ("platform", "bank", "spend", "refused"),
    [
        ("qhyg", "GBP", "GBP", False),  # O1
        ("qhyg", "USD", "USD", False),  # O2
        ("qhyg", "USD", "GBP", True),  # O3
        ("qhyg", "GBP", "USD", False),  # O4
        ("qhyg", "USD", "EUR", True),  # O5
        ("gbol", "USD", "EUR", False),  # Xero ignores the spend's currency
        ("knfz", "USD", "USD", True),  # Sage Intacct refuses O2
        ("trji", "GBP", "USD", True),  # Dynamics refuses O4
    ],
)
def test_codats_fx_table(platform, bank, spend, refused):
    ledger = replace(QBO, platform=platforms.get_platform(platform))
    facts = replace(
        GOOD,
        currency=spend,
        currency_rate=Decimal("1.25"),
        bank_account=Record("20", "Card", currency=bank, card_type="Credit"),
        contact=Record("30", "Any", currency=""),
    )
    problem = check(facts, ledger)
    assert (problem is not None and problem.code == Code.CURRENCY_NOT_ALLOWED) is refused


def test_a_missing_rate_matters_except_where_the_platform_reads_it_as_one():
    foreign = replace(
        GOOD, currency="USD", bank_account=Record("20", "Card", currency="GBP", card_type="Credit")
    )
    assert _problem(foreign) is None  # QuickBooks Online treats no rate as 1
    xero = replace(QBO, platform=platforms.get_platform("gbol"))
    assert _problem(foreign, xero) is None  # Xero books in the bank account's currency
    netsuite = replace(QBO, platform=platforms.get_platform("akxx"))
    assert _problem(foreign, netsuite) == (Code.CURRENCY_RATE_MISSING, Screen.TRANSACTION)


def test_transfers_need_two_accounts_and_a_currency_pair_the_platform_books():
    transfer = replace(
        GOOD,
        kind="transfer",
        transfer_from=Record("1", "Current", currency="GBP"),
        transfer_to=Record("2", "Amex", currency="GBP"),
        transfer_amounts=True,
    )
    assert _problem(transfer) is None
    assert _problem(replace(transfer, transfer_to=None))[0] == Code.TRANSFER_INCOMPLETE
    xero = replace(QBO, platform=platforms.get_platform("gbol"))
    usd = replace(transfer, transfer_to=Record("2", "USD card", currency="USD"))
    assert _problem(usd, xero)[0] == Code.CURRENCY_NOT_ALLOWED
    assert _problem(usd) is None  # QuickBooks Online books GBP -> USD


def test_reimbursables_need_the_employee_not_a_bank_account():
    claim = replace(
        GOOD,
        kind="reimbursable",
        expense_type="",
        bank_account=None,
        contact=None,
        contact_from_transaction=True,
    )
    assert _problem(claim) == (Code.NO_CONTACT, Screen.TRANSACTION)
    assert _problem(replace(claim, contact=Record("7", "Alice"))) is None
