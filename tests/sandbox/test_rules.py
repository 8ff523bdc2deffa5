"""Ledger write rules: every Outcome, the FX tables and attachment limits."""

import copy
from datetime import date

import pytest

from codat_sandbox.platforms import MB, PLATFORMS
from codat_sandbox.push_options import push_option, validate_push
from codat_sandbox.rules import (
    COMPLETED,
    Outcome,
    attachment_error,
    currency_rate_error,
    evaluate_adjustment,
    evaluate_expense,
    evaluate_expense_update,
    evaluate_reimbursable,
    evaluate_reimbursable_update,
    evaluate_transfer,
    fx_class,
    fx_error,
)
from codat_sandbox.seeds import index_ledger, seed_ledger

TODAY = date(2026, 11, 23)  # seeded lock date: 2026-08-31
AFTER_LOCK = "2026-10-15T00:00:00+00:00"

_CACHE: dict[str, dict] = {}


def ledger_for(key):
    if key not in _CACHE:
        _CACHE[key] = index_ledger(seed_ledger(key, "Acme Widgets", today=TODAY))
    return copy.deepcopy(_CACHE[key])


def account(ledger, name):
    return next(a["id"] for a in ledger["chartOfAccounts"].values() if a["name"] == name)


def bank(ledger, name):
    return next(b["id"] for b in ledger["bankAccounts"].values() if b["accountName"] == name)


def supplier(ledger, *, currency="base", status="Active", employee=False):
    base = next(iter(ledger["company"].values()))["baseCurrency"]
    want = base if currency == "base" else currency
    return next(
        s["id"]
        for s in ledger["suppliers"].values()
        if s["defaultCurrency"] == want
        and s["status"] == status
        and ("employee" in s["supplierName"]) == employee
    )


def customer(ledger, status="Active"):
    return next(c["id"] for c in ledger["customers"].values() if c["status"] == status)


def config_for(ledger, bank_name):
    return {
        "bankAccount": {"id": bank(ledger, bank_name)},
        "supplier": {"id": supplier(ledger)},
        "customer": {"id": customer(ledger)},
    }


def invalid(message):
    return Outcome("ValidationError", message)


def refused(message):
    return Outcome("PushError", message)


# --- QuickBooks Online: the main expense path -------------------------------------------


@pytest.fixture
def qbo():
    ledger = ledger_for("qhyg")
    return PLATFORMS["qhyg"], ledger, config_for(ledger, "Mastercard")


def expense(account_id="13", **overrides):
    txn = {
        "id": "4d7c6929-7770-412b-91bb-44d3bc71d111",
        "type": "Payment",
        "issueDate": AFTER_LOCK,
        "currency": "USD",
        "currencyRate": 1,
        "merchantName": "Amazon",
        "lines": [
            {
                "netAmount": 100,
                "taxAmount": 0,
                "taxRateRef": {"id": "NON"},
                "accountRef": {"id": account_id},
                "trackingRefs": [{"id": "DEPARTMENT_1", "dataType": "trackingCategories"}],
            }
        ],
    }
    txn.update(overrides)
    return txn


def with_line(txn, **changes):
    txn["lines"][0].update(changes)
    return txn


def test_expense_ok(qbo):
    assert evaluate_expense(*qbo, expense()) == COMPLETED
    assert COMPLETED.ok and not invalid("x").ok


def test_expense_accepts_date_only_and_z(qbo):
    assert evaluate_expense(*qbo, expense(issueDate="2026-10-15")).ok
    assert evaluate_expense(*qbo, expense(issueDate="2026-10-15T10:00:00Z")).ok
    assert evaluate_expense(*qbo, expense(issueDate="15/10/2026")) == invalid(
        "'issueDate' is not a valid date: '15/10/2026'."
    )


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"accountRef": {"id": "999"}}, invalid("Account '999' was not found.")),
        ({"accountRef": {"id": "12"}}, invalid("Account '12' is archived and cannot be used.")),
        ({"accountRef": None}, invalid("Each line needs an accountRef.")),
        (
            {"itemRef": {"id": "1"}},
            invalid("itemRef is not supported on QuickBooks Online; use accountRef."),
        ),
        ({"taxRateRef": {"id": "XYZ"}}, invalid("Tax rate 'XYZ' was not found.")),
        (
            {"taxRateRef": {"id": "7_Bills"}},
            invalid("Tax rate '7_Bills' is archived and cannot be used."),
        ),
        ({"taxRateRef": None}, COMPLETED),
        ({"trackingRefs": [{"id": "NOPE"}]}, invalid("Tracking category 'NOPE' was not found.")),
        (
            {"trackingRefs": [{"id": "DEPARTMENTS"}]},
            invalid(
                "Tracking category 'DEPARTMENTS' has child categories; use one of its children."
            ),
        ),
        (
            {"trackingRefs": [{"id": "DEPARTMENT_3"}]},
            invalid("Tracking category 'DEPARTMENT_3' is archived and cannot be used."),
        ),
        ({"trackingRefs": [{"id": "500", "dataType": "customers"}]}, COMPLETED),
        (
            {"trackingRefs": [{"id": "1", "dataType": "customers"}]},
            invalid("Customer '1' was not found."),
        ),
        ({"invoiceTo": {"id": "500", "type": "customer"}}, COMPLETED),
        ({"invoiceTo": {"id": "77", "type": "customer"}}, invalid("Customer '77' was not found.")),
        ({"netAmount": "ten"}, invalid("'netAmount' is not a valid number: 'ten'.")),
    ],
)
def test_expense_line_checks(qbo, change, outcome):
    assert evaluate_expense(*qbo, with_line(expense(), **change)) == outcome


def test_expense_account_not_valid_for_type(qbo):
    # "Bank Charges" (8) takes Payment only.
    assert evaluate_expense(*qbo, expense("8")).ok
    assert evaluate_expense(*qbo, expense("8", type="Refund")) == invalid(
        "Account '8' is not valid for transaction type 'Refund'."
    )
    # An income account cannot take spend.
    assert evaluate_expense(*qbo, expense("79")) == invalid(
        "Account '79' is not valid for transaction type 'Payment'."
    )
    # Cashback goes to the rewards income account.
    assert evaluate_expense(*qbo, expense("90", type="Reward")).ok


def test_tax_rate_not_valid_for_type(qbo):
    txn = with_line(expense(type="Refund"), taxRateRef={"id": "5_Bills"})
    assert evaluate_expense(*qbo, txn) == invalid(
        "Tax rate '5_Bills' is not valid for transaction type 'Refund'."
    )


def test_no_lines(qbo):
    assert evaluate_expense(*qbo, expense(lines=[])) == invalid("At least one line is required.")


def test_bank_account_rules(qbo):
    platform, ledger, config = qbo
    assert evaluate_expense(
        platform, ledger, config, expense(bankAccountRef={"id": "999"})
    ) == invalid("Bank account '999' was not found.")
    assert evaluate_expense(
        platform, ledger, config, expense(bankAccountRef={"id": "43"})
    ) == invalid("Bank account '43' is archived and cannot be used.")
    no_default = {**config, "bankAccount": {"id": None}}
    assert evaluate_expense(platform, ledger, no_default, expense()) == invalid(
        "No bank account was provided and no default bank account is configured."
    )
    assert evaluate_expense(
        platform, ledger, None, expense(bankAccountRef={"id": "35"})
    ) == invalid("No supplier was provided and no default supplier is configured.")


def test_supplier_rules(qbo):
    platform, ledger, config = qbo
    archived = supplier(ledger, status="Archived")
    assert evaluate_expense(
        platform, ledger, config, expense(contactRef={"id": archived})
    ) == invalid(f"Supplier '{archived}' is archived and cannot be used.")
    assert evaluate_expense(platform, ledger, config, expense(contactRef={"id": "1"})) == invalid(
        "Supplier '1' was not found."
    )
    euro = supplier(ledger, currency="EUR")
    assert evaluate_expense(platform, ledger, config, expense(contactRef={"id": euro})) == invalid(
        f"Supplier '{euro}' has currency EUR, which does not match the transaction currency USD."
    )
    # Multi-currency suppliers (no default currency) are not checked.
    multi = supplier(ledger, currency=None)
    assert evaluate_expense(platform, ledger, config, expense(contactRef={"id": multi})).ok


def test_lock_date_is_a_push_error(qbo):
    assert evaluate_expense(*qbo, expense(issueDate="2026-08-31")) == refused(
        "The issue date 2026-08-31 is on or before the ledger lock date 2026-08-31."
    )
    assert evaluate_expense(*qbo, expense(issueDate="2026-09-01")).ok


def test_lock_date_message_shape():
    ledger = ledger_for("qhyg")
    next(iter(ledger["company"].values()))["ledgerLockDate"] = "2024-03-31T00:00:00"
    config = config_for(ledger, "Mastercard")
    assert evaluate_expense(
        PLATFORMS["qhyg"], ledger, config, expense(issueDate="2024-01-01")
    ) == refused("The issue date 2024-01-01 is on or before the ledger lock date 2024-03-31.")


def test_qbo_foreign_currency(qbo):
    platform, ledger, config = qbo
    # O4 (USD card, EUR spend) is fine on QBO, and a missing rate counts as 1 there.
    multi = supplier(ledger, currency=None)
    txn = expense(currency="EUR", currencyRate=None, contactRef={"id": multi})
    assert evaluate_expense(platform, ledger, config, txn).ok
    # O3: base-currency spend on the EUR card.
    txn = expense(bankAccountRef={"id": "42"})
    assert evaluate_expense(platform, ledger, config, txn) == refused(
        "Transactions in the base currency USD cannot be posted to a EUR bank account on "
        "QuickBooks Online."
    )
    assert evaluate_expense(platform, ledger, config, expense(currencyRate=0)) == invalid(
        "'currencyRate' must be greater than zero."
    )


# --- other platforms' expense rules -------------------------------------------------------


def test_freeagent_payment_only_and_no_contact():
    ledger = ledger_for("fbrh")
    platform = PLATFORMS["fbrh"]
    config = {"bankAccount": {"id": "7500002"}, "supplier": {"id": None}, "customer": {"id": None}}
    txn = expense("285", currency="GBP", lines=[{"netAmount": 10, "accountRef": {"id": "285"}}])
    # FreeAgent attaches no contact, so no default supplier is needed.
    assert evaluate_expense(platform, ledger, config, txn).ok
    assert evaluate_expense(platform, ledger, config, {**txn, "type": "Reward"}) == invalid(
        "Transaction type 'Reward' is not supported on FreeAgent."
    )
    assert evaluate_expense(platform, ledger, config, {**txn, "type": "Bogus"}) == invalid(
        "Transaction type 'Bogus' is not supported."
    )


def qbd_setup():
    ledger = ledger_for("pqsw")
    return PLATFORMS["pqsw"], ledger, config_for(ledger, "Visa Card")


def test_qbd_card_type_rules():
    platform, ledger, config = qbd_setup()
    meals = account(ledger, "Meals and Entertainment")
    refund = expense(meals, type="Refund", lines=[{"netAmount": 5, "accountRef": {"id": meals}}])
    assert evaluate_expense(platform, ledger, config, refund).ok  # on the credit card
    checking = {"bankAccountRef": {"id": bank(ledger, "Checking")}}
    assert evaluate_expense(platform, ledger, config, {**refund, **checking}) == refused(
        "Refund transactions require a credit card on QuickBooks Desktop."
    )
    payment = {**refund, **checking, "type": "Payment"}
    assert evaluate_expense(platform, ledger, config, payment).ok


def test_qbd_item_ref():
    platform, ledger, config = qbd_setup()
    meals = account(ledger, "Meals and Entertainment")
    base = expense(meals, lines=[{"netAmount": 5, "itemRef": {"id": "8000001F-1674552702"}}])
    assert evaluate_expense(platform, ledger, config, base).ok
    both = with_line(copy.deepcopy(base), accountRef={"id": meals})
    assert evaluate_expense(platform, ledger, config, both) == invalid(
        "A line cannot have both an accountRef and an itemRef."
    )
    neither = expense(meals, lines=[{"netAmount": 5}])
    assert evaluate_expense(platform, ledger, config, neither) == invalid(
        "Each line needs an accountRef or an itemRef."
    )


def test_sage_intacct_credit_cards_only():
    ledger = ledger_for("knfz")
    platform = PLATFORMS["knfz"]
    config = {
        "bankAccount": {"id": "AMEX-1001"},
        "supplier": {"id": supplier(ledger)},
        "customer": {"id": customer(ledger)},
    }
    txn = expense("6000", lines=[{"netAmount": 5, "accountRef": {"id": "6000"}}])
    assert evaluate_expense(platform, ledger, config, txn).ok
    assert evaluate_expense(
        platform, ledger, config, {**txn, "bankAccountRef": {"id": "BOA-CHK"}}
    ) == refused("Payment transactions require a credit card on Sage Intacct.")
    assert evaluate_expense(platform, ledger, config, {**txn, "type": "Reward"}) == invalid(
        "Transaction type 'Reward' is not supported on Sage Intacct."
    )


def xero_setup():
    ledger = ledger_for("gbol")
    return PLATFORMS["gbol"], ledger, config_for(ledger, "Business Credit Card")


def xero_expense(ledger, **overrides):
    general = account(ledger, "General Expenses")
    txn = expense(
        general,
        currency="GBP",
        lines=[{"netAmount": 10, "accountRef": {"id": general}, "taxRateRef": {"id": "NONE"}}],
    )
    txn.update(overrides)
    return txn


def test_xero_contacts_by_type():
    platform, ledger, config = xero_setup()
    assert evaluate_expense(platform, ledger, config, xero_expense(ledger)).ok
    refund = xero_expense(ledger, type="Refund")
    assert evaluate_expense(platform, ledger, config, refund).ok
    # Refunds are written against a customer: without one configured they fail.
    no_customer = {**config, "customer": {"id": None}}
    assert evaluate_expense(platform, ledger, no_customer, refund) == invalid(
        "No customer was provided and no default customer is configured."
    )
    # ...while payments only need the supplier.
    assert evaluate_expense(platform, ledger, no_customer, xero_expense(ledger)).ok


def test_xero_ignores_transaction_currency_but_needs_rate_for_foreign_card():
    platform, ledger, config = xero_setup()
    usd_card = bank(ledger, "USD Credit Card")
    multi = supplier(ledger, currency=None)
    # O5 (USD card, EUR spend) is refused everywhere but Xero.
    txn = xero_expense(
        ledger,
        currency="EUR",
        currencyRate=None,
        bankAccountRef={"id": usd_card},
        contactRef={"id": multi},
    )
    assert evaluate_expense(platform, ledger, config, txn) == invalid(
        "A currencyRate is required because USD is not the base currency GBP."
    )
    assert evaluate_expense(platform, ledger, config, {**txn, "currencyRate": 1.27}).ok


def test_xero_invoice_to_refused():
    platform, ledger, config = xero_setup()
    txn = xero_expense(ledger)
    txn["lines"][0]["invoiceTo"] = {"id": customer(ledger), "type": "customer"}
    assert evaluate_expense(platform, ledger, config, txn) == invalid(
        "Billable expenses (invoiceTo) are not supported on Xero."
    )


def test_dynamics_o4_refused_and_no_supplier_needed():
    ledger = ledger_for("trji")
    platform = PLATFORMS["trji"]
    config = {
        "bankAccount": {"id": bank(ledger, "Corporate Credit Card")},
        "supplier": {"id": None},
        "customer": {"id": None},
    }
    travel = account(ledger, "Travel")
    txn = expense(
        travel,
        currency="GBP",
        postAsDraft=True,
        lines=[{"netAmount": 10, "accountRef": {"id": travel}, "taxRateRef": {"id": "ZERO"}}],
    )
    assert evaluate_expense(platform, ledger, config, txn).ok
    assert evaluate_expense(platform, ledger, config, {**txn, "currency": "USD"}) == refused(
        "Transactions in USD cannot be posted to a base-currency (GBP) bank account on "
        "Dynamics 365 Business Central."
    )


def test_unsupported_operation_is_a_validation_error():
    platform, ledger, config = xero_setup()
    outcome = evaluate_reimbursable(platform, ledger, config, {})
    assert outcome == invalid("Reimbursable expense transactions are not supported for Xero.")


# --- expense updates ----------------------------------------------------------------------


def test_expense_update(qbo):
    platform, ledger, config = qbo
    update = expense()
    del update["id"]
    assert evaluate_expense_update(platform, ledger, config, update, expense()).ok
    assert evaluate_expense_update(
        platform, ledger, config, {**update, "type": "Refund"}
    ) == invalid("Only Payment transactions can be updated; got 'Refund'.")
    assert evaluate_expense_update(
        platform, ledger, config, update, expense(type="Refund")
    ) == invalid("Only Payment transactions can be updated; got 'Refund'.")
    # The usual ledger checks apply to the new values.
    assert evaluate_expense_update(platform, ledger, config, expense("12")) == invalid(
        "Account '12' is archived and cannot be used."
    )


def test_expense_update_unsupported_on_dynamics():
    ledger = ledger_for("trji")
    assert evaluate_expense_update(PLATFORMS["trji"], ledger, None, expense()) == invalid(
        "Expense transaction updates are not supported for Dynamics 365 Business Central."
    )


def test_freeagent_update_cannot_move_bank_account():
    ledger = ledger_for("fbrh")
    platform = PLATFORMS["fbrh"]
    config = {"bankAccount": {"id": "7500002"}, "supplier": {"id": None}, "customer": {"id": None}}
    original = expense("285", currency="GBP", bankAccountRef={"id": "7500002"})
    original["lines"][0].pop("taxRateRef")
    original["lines"][0].pop("trackingRefs")
    moved = {**original, "bankAccountRef": {"id": "7500001"}}
    assert evaluate_expense_update(platform, ledger, config, original, original).ok
    assert evaluate_expense_update(platform, ledger, config, moved, original) == invalid(
        "The bank account of an expense cannot be changed on FreeAgent."
    )


# --- reimbursables ------------------------------------------------------------------------


def reimbursable(ledger, account_id="58", **overrides):
    txn = {
        "id": "c9a2a6a3-1d5d-4b3c-8d1e-1c2b3d4e5f60",
        "contactRef": {"id": supplier(ledger, employee=True)},
        "issueDate": "2026-10-15",
        "dueDate": "2026-10-30",
        "currency": "USD",
        "currencyRate": 1,
        "lines": [{"description": "Hotel", "netAmount": 100, "accountRef": {"id": account_id}}],
    }
    txn.update(overrides)
    return txn


def test_reimbursable_rules(qbo):
    platform, ledger, config = qbo
    assert evaluate_reimbursable(platform, ledger, config, reimbursable(ledger)).ok
    assert evaluate_reimbursable(
        platform, ledger, config, reimbursable(ledger, dueDate="2026-10-01")
    ) == invalid("The due date 2026-10-01 is before the issue date 2026-10-15.")
    assert evaluate_reimbursable(
        platform, ledger, config, reimbursable(ledger, contactRef=None)
    ) == invalid("A contactRef (the employee, held as a supplier) is required.")
    employee = supplier(ledger, employee=True)
    assert evaluate_reimbursable(
        platform, ledger, config, reimbursable(ledger, currency="EUR")
    ) == invalid(
        f"Supplier '{employee}' has currency USD, which does not match the transaction "
        "currency EUR."
    )
    assert evaluate_reimbursable(platform, ledger, config, reimbursable(ledger, "79")) == invalid(
        "Account '79' is not valid for reimbursable expense transactions."
    )
    assert evaluate_reimbursable(
        platform, ledger, config, reimbursable(ledger, issueDate="2026-06-01")
    ) == refused("The issue date 2026-06-01 is on or before the ledger lock date 2026-08-31.")
    assert evaluate_reimbursable_update(platform, ledger, config, reimbursable(ledger)).ok


def test_reimbursable_update_unsupported_on_qbd_and_ap_account():
    platform, ledger, config = qbd_setup()
    meals = account(ledger, "Meals and Entertainment")
    txn = reimbursable(ledger, meals)
    assert evaluate_reimbursable(platform, ledger, config, txn).ok
    assert evaluate_reimbursable(platform, ledger, config, txn, update=True) == invalid(
        "Reimbursable expense transaction updates are not supported for QuickBooks Desktop."
    )
    ap = account(ledger, "Accounts Payable")
    assert evaluate_reimbursable(platform, ledger, config, {**txn, "apAccountRef": {"id": ap}}).ok
    assert evaluate_reimbursable(
        platform, ledger, config, {**txn, "apAccountRef": {"id": meals}}
    ) == invalid(f"Account '{meals}' is not an accounts payable account.")


def test_reimbursable_needs_rate_in_foreign_currency():
    ledger = ledger_for("akxx")
    platform = PLATFORMS["akxx"]
    multi = supplier(ledger, currency=None)
    txn = reimbursable(ledger, contactRef={"id": multi}, currency="EUR", currencyRate=None)
    assert evaluate_reimbursable(platform, ledger, None, txn) == invalid(
        "A currencyRate is required because EUR is not the base currency USD."
    )
    assert evaluate_reimbursable(platform, ledger, None, {**txn, "currencyRate": 0.92}).ok


# --- adjustments --------------------------------------------------------------------------


def adjustment(debit, credit, amounts=(50, -50), **overrides):
    txn = {
        "id": "3357b3df-5f2e-465d-b9ba-226519dbb8f1",
        "date": AFTER_LOCK,
        "currency": "USD",
        "currencyRate": 1,
        "reference": "FX write-off",
        "lines": [
            {"amount": amounts[0], "accountRef": {"id": debit}, "description": "debit line"},
            {"amount": amounts[1], "accountRef": {"id": credit}, "description": "credit line"},
        ],
    }
    txn.update(overrides)
    return txn


def test_adjustment_rules():
    platform, ledger, config = qbd_setup()
    meals = account(ledger, "Meals and Entertainment")
    card = account(ledger, "Visa Card")
    assert evaluate_adjustment(platform, ledger, config, adjustment(meals, card)).ok
    assert evaluate_adjustment(
        platform, ledger, config, adjustment(meals, card, ("50.10", "-50.00"))
    ) == invalid("Adjustment lines must balance to zero; they total 0.10.")
    archived = account(ledger, "Printing and Reproduction")
    assert evaluate_adjustment(platform, ledger, config, adjustment(archived, card)) == invalid(
        f"Account '{archived}' is archived and cannot be used."
    )
    txn = adjustment(meals, card)
    txn["lines"][0]["trackingRefs"] = [{"id": supplier(ledger), "dataType": "suppliers"}]
    assert evaluate_adjustment(platform, ledger, config, txn).ok
    txn["lines"][1]["accountRef"] = None
    assert evaluate_adjustment(platform, ledger, config, txn) == invalid(
        "Each adjustment line needs an accountRef."
    )
    assert evaluate_adjustment(
        platform, ledger, config, adjustment(meals, card, date="2026-01-05")
    ) == refused("The date 2026-01-05 is on or before the ledger lock date 2026-08-31.")


def test_adjustment_not_supported_on_qbo(qbo):
    assert evaluate_adjustment(*qbo, adjustment("13", "41")) == invalid(
        "Adjustment transactions are not supported for QuickBooks Online."
    )


def test_adjustment_account_must_allow_adjustments():
    platform, ledger, config = qbd_setup()
    meals = account(ledger, "Meals and Entertainment")
    ledger["chartOfAccounts"][meals]["validFor"] = ["expense-transactions.Payment"]
    card = account(ledger, "Visa Card")
    assert evaluate_adjustment(platform, ledger, config, adjustment(meals, card)) == invalid(
        f"Account '{meals}' is not valid for adjustment transactions."
    )


# --- transfers ----------------------------------------------------------------------------


def transfer(from_id, to_id, from_amount=100, to_amount=100, **overrides):
    txn = {
        "description": "Card pay-down",
        "date": AFTER_LOCK,
        "from": {"accountRef": {"id": from_id}, "amount": from_amount},
        "to": {"accountRef": {"id": to_id}, "amount": to_amount},
    }
    txn.update(overrides)
    return txn


def test_transfer_rules_qbo():
    platform, ledger = PLATFORMS["qhyg"], ledger_for("qhyg")
    assert evaluate_transfer(platform, ledger, transfer("35", "41")).ok
    assert evaluate_transfer(platform, ledger, transfer("35", "41"), update=True).ok
    assert evaluate_transfer(platform, ledger, transfer("35", "35")) == invalid(
        "The from and to accounts must be different."
    )
    assert evaluate_transfer(platform, ledger, transfer("35", "41", 100, 90)) == invalid(
        "The from and to amounts must be equal when both accounts are in USD (got 100 and 90)."
    )
    assert evaluate_transfer(platform, ledger, transfer("35", "41", 0, 0)) == invalid(
        "The 'from' amount must be greater than zero."
    )
    assert evaluate_transfer(platform, ledger, transfer("35", "43")) == invalid(
        "Account '43' is archived and cannot be used."
    )
    assert evaluate_transfer(platform, ledger, transfer("35", "999")) == invalid(
        "Account '999' was not found."
    )
    # A nominal account that does not take transfers.
    assert evaluate_transfer(platform, ledger, transfer("35", "13")) == invalid(
        "Account '13' is not valid for transfer transactions."
    )
    # USD -> EUR card (O4 for a transfer) is fine on QBO, amounts differ by the rate.
    assert evaluate_transfer(platform, ledger, transfer("35", "42", 100, 92)).ok
    assert evaluate_transfer(platform, ledger, transfer("35", "41", date="2026-08-01")) == refused(
        "The date 2026-08-01 is on or before the ledger lock date 2026-08-31."
    )


def test_transfer_fx_refusals():
    xero, xledger = PLATFORMS["gbol"], ledger_for("gbol")
    gbp_bank = bank(xledger, "Business Bank Account")
    usd_card = bank(xledger, "USD Credit Card")
    gbp_card = bank(xledger, "Business Credit Card")
    assert evaluate_transfer(xero, xledger, transfer(gbp_bank, gbp_card)).ok
    assert evaluate_transfer(xero, xledger, transfer(gbp_bank, usd_card, 100, 127)) == refused(
        "Transfers between accounts in different currencies (GBP to USD) are not supported on Xero."
    )
    assert evaluate_transfer(xero, xledger, transfer(gbp_bank, gbp_card), update=True) == invalid(
        "Transfer transaction updates are not supported for Xero."
    )
    qbd, qledger = PLATFORMS["pqsw"], ledger_for("pqsw")
    checking = bank(qledger, "Checking")
    assert evaluate_transfer(qbd, qledger, transfer(checking, bank(qledger, "Visa Card"))).ok
    assert evaluate_transfer(
        qbd, qledger, transfer(checking, bank(qledger, "Amex (CAD)"), 100, 135)
    ) == refused(
        "Transfers on QuickBooks Desktop must be between accounts in the base currency USD "
        "(got USD to CAD)."
    )
    netsuite = PLATFORMS["akxx"]
    assert evaluate_transfer(netsuite, ledger_for("akxx"), transfer("1", "212")) == invalid(
        "Transfer transactions are not supported for Oracle NetSuite."
    )


def test_intacct_transfer_account_ids_are_bank_ids():
    # Checking/card objects in Intacct have their own ids, separate from GL numbers.
    platform = PLATFORMS["knfz"]
    assert evaluate_transfer(
        platform, ledger_for("knfz"), transfer("BOA-CHK", "AMEX-1001")
    ) == invalid("Transfer transactions are not supported for Sage Intacct.")


# --- FX tables (codat-api.md 6.6, base GBP) ----------------------------------------------

EXPENSE_CASES = {
    "O1": ("GBP", "GBP"),
    "O2": ("USD", "USD"),
    "O3": ("USD", "GBP"),
    "O4": ("GBP", "USD"),
    "O5": ("USD", "EUR"),
}
# platform (card type) -> classes allowed for expenses
EXPENSE_ALLOWED = {
    ("trji", None): {"O1", "O2"},
    ("qhyg", None): {"O1", "O2", "O4"},
    ("pqsw", None): {"O1", "O2", "O4"},
    ("akxx", "Credit"): {"O1", "O4"},
    ("akxx", "Debit"): {"O1", "O2", "O4"},  # NetSuite prepaid cards
    ("gbol", None): {"O1", "O2", "O3", "O4", "O5"},
    ("knfz", "Credit"): {"O1", "O4"},
    ("fbrh", None): {"O1", "O2", "O4"},  # not in the docs: general rule
    ("rwuv", None): {"O1", "O2", "O4"},  # not in the docs: general rule
}
TRANSFER_ALLOWED = {
    "qhyg": {"O1", "O2", "O3", "O4"},
    "gbol": {"O1", "O2"},
    "pqsw": {"O1"},
    "fbrh": {"O1", "O2", "O3", "O4"},  # not in the docs: general rule
}


@pytest.mark.parametrize("cls", sorted(EXPENSE_CASES))
def test_fx_class(cls):
    assert fx_class("GBP", *EXPENSE_CASES[cls]) == cls


@pytest.mark.parametrize(("key", "card_type"), sorted(EXPENSE_ALLOWED, key=str))
@pytest.mark.parametrize("cls", sorted(EXPENSE_CASES))
def test_fx_expense_table(key, card_type, cls):
    bank_ccy, txn_ccy = EXPENSE_CASES[cls]
    error = fx_error(PLATFORMS[key], "GBP", bank_ccy, txn_ccy, "expense", card_type)
    assert (error is None) == (cls in EXPENSE_ALLOWED[(key, card_type)]), error


@pytest.mark.parametrize("key", sorted(TRANSFER_ALLOWED))
@pytest.mark.parametrize("cls", sorted(EXPENSE_CASES))
def test_fx_transfer_table(key, cls):
    from_ccy, to_ccy = EXPENSE_CASES[cls]
    error = fx_error(PLATFORMS[key], "GBP", from_ccy, to_ccy, kind="transfer")
    assert (error is None) == (cls in TRANSFER_ALLOWED[key]), error


def test_fx_messages():
    assert fx_error(PLATFORMS["akxx"], "GBP", "USD", "USD", card_type="Credit") == (
        "Foreign-currency transactions (USD) cannot be posted to a USD credit card on "
        "Oracle NetSuite."
    )
    assert fx_error(PLATFORMS["qhyg"], "GBP", "USD", "EUR") == (
        "Transactions in EUR cannot be posted to a USD bank account on QuickBooks Online: "
        "neither is the base currency GBP."
    )
    assert fx_error(PLATFORMS["qhyg"], "GBP", "USD", "EUR", kind="transfer") == (
        "Transfers between two different non-base currencies (USD to EUR) are not supported on "
        "QuickBooks Online."
    )


@pytest.mark.parametrize(
    ("key", "bank_ccy", "txn_ccy", "needs_rate"),
    [
        ("akxx", "GBP", "GBP", False),
        ("akxx", "GBP", "USD", True),
        ("pqsw", "USD", "USD", True),
        ("qhyg", "GBP", "USD", False),  # QBO treats a missing rate as 1
        ("gbol", "GBP", "USD", False),  # Xero ignores the transaction currency
        ("gbol", "USD", "USD", True),
    ],
)
def test_currency_rate_required(key, bank_ccy, txn_ccy, needs_rate):
    platform = PLATFORMS[key]
    assert (
        fx_error(platform, "GBP", bank_ccy, txn_ccy, currency_rate=None) is not None
    ) == needs_rate
    assert (currency_rate_error(platform, "GBP", bank_ccy, txn_ccy, None) is not None) == needs_rate
    assert fx_error(platform, "GBP", bank_ccy, txn_ccy, currency_rate=1.2) is None
    assert currency_rate_error(platform, "GBP", bank_ccy, txn_ccy, 1.2) is None


# --- attachments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "expense_type", "filename", "content_type", "size", "expected"),
    [
        ("gbol", "expense", "Payment", "r.pdf", "application/pdf", 1 * MB, None),
        ("gbol", "expense", "Chargeback", "r.png", "image/png", 10 * MB, None),
        (
            "gbol",
            "expense",
            "Payment",
            "r.pdf",
            "application/pdf",
            10 * MB + 1,
            "The file is 10.0 MB; Xero accepts attachments of up to 10 MB.",
        ),
        (
            "gbol",
            "expense",
            "Payment",
            "r.exe",
            "application/octet-stream",
            100,
            "Files of type '.exe' cannot be attached on Xero. Allowed: ",
        ),
        ("qhyg", "expense", "Refund", "r.jpg", "image/jpeg", 99 * MB, None),
        ("qhyg", "reimbursable", None, "r.xml", "text/xml", 10, None),
        (
            "qhyg",
            "expense",
            "Reward",
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported for expense-transactions.Reward on QuickBooks Online.",
        ),
        (
            "akxx",
            "reimbursable",
            None,
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported for reimbursable-expense-transactions on Oracle",
        ),
        ("fbrh", "expense", "Payment", "r.png", "image/png", 5 * MB, None),
        ("fbrh", "expense", "Payment", "scan", "image/x-png", 100, None),
        (
            "fbrh",
            "expense",
            "Payment",
            "r.png",
            "image/png",
            5 * MB + 1,
            "The file is 5.0 MB; FreeAgent accepts attachments of up to 5 MB.",
        ),
        (
            "fbrh",
            "expense",
            "Payment",
            "r.docx",
            "application/msword",
            100,
            "Files of type '.docx' cannot be attached on FreeAgent. Allowed: ",
        ),
        ("rwuv", "reimbursable", None, "r.bmp", "image/bmp", 100, None),
        ("trji", "expense", "Reward", "video.mov", "video/quicktime", 349 * MB, None),
        (
            "trji",
            "expense",
            "Payment",
            "video.mov",
            "video/quicktime",
            351 * MB,
            "The file is 351.0 MB; Dynamics 365 Business Central accepts attachments of up to 350",
        ),
        (
            "pqsw",
            "expense",
            "Payment",
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported on QuickBooks Desktop.",
        ),
        (
            "knfz",
            "expense",
            "Payment",
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported on Sage Intacct.",
        ),
        (
            "gbol",
            "transfer",
            None,
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported for transfer transactions.",
        ),
        (
            "qhyg",
            "adjustment",
            None,
            "r.pdf",
            "application/pdf",
            10,
            "Attachments are not supported for adjustment transactions.",
        ),
        ("gbol", "expense", "Payment", "r.pdf", "application/pdf", 0, "The file is empty."),
    ],
)
def test_attachment_error(key, kind, expense_type, filename, content_type, size, expected):
    error = attachment_error(PLATFORMS[key], kind, expense_type, filename, content_type, size)
    if expected is None:
        assert error is None
    else:
        assert error is not None and error.startswith(expected)


# --- push options and push validation ------------------------------------------------------

PUSH_TYPES = ("chartOfAccounts", "bankAccounts", "suppliers", "customers")


def _check_push_option_shape(option):
    assert {"type", "displayName", "required"} <= set(option)
    for name, prop in (option.get("properties") or {}).items():
        assert {"type", "displayName", "description", "required"} <= set(prop), name
        assert prop["type"] in (
            "Array",
            "Object",
            "String",
            "Number",
            "Boolean",
            "DateTime",
            "File",
            "MultiPart",
        )
        validation = prop.get("validation")
        if validation is not None:
            assert set(validation) == {"warnings", "information"}
            for item in validation["warnings"] + validation["information"]:
                assert item["details"] and item["field"]
        for choice in prop.get("options") or []:
            assert choice["value"]


@pytest.mark.parametrize("key", sorted(PLATFORMS))
@pytest.mark.parametrize("data_type", PUSH_TYPES)
def test_push_option_shape(key, data_type):
    option = push_option(key, data_type)
    assert option["type"] == "Object" and option["required"] is True
    _check_push_option_shape(option)


def test_push_option_platform_rules():
    xero = push_option("gbol", "chartOfAccounts")["properties"]
    assert xero["nominalCode"]["required"] is True
    assert {"field": "NominalCode", "details": "Max length of 10 characters."} in (
        xero["nominalCode"]["validation"]["warnings"]
    )
    assert xero["name"]["required"] is True
    assert "Expense.Overhead" in [o["value"] for o in xero["fullyQualifiedCategory"]["options"]]
    qbo = push_option("qhyg", "chartOfAccounts")["properties"]
    assert {"field": "Name", "details": "Max length of 100 characters."} in qbo["name"][
        "validation"
    ]["warnings"]
    assert {"field": "Name", "details": "Must be unique."} in qbo["name"]["validation"]["warnings"]
    assert qbo["nominalCode"]["required"] is False
    supplier_props = push_option("pqsw", "suppliers")["properties"]
    assert supplier_props["supplierName"]["required"] is True
    assert supplier_props["status"]["required"] is True
    assert push_option("trji", "bankAccounts")["properties"]["accountName"]["required"] is True
    with pytest.raises(ValueError):
        push_option("mqjo", "suppliers")
    with pytest.raises(ValueError):
        push_option("gbol", "invoices")


def messages(items):
    for item in items:
        assert set(item) == {"itemId", "message", "validatorName"}
    return [item["message"] for item in items]


def test_xero_nominal_code_too_long_refused():
    ledger = ledger_for("gbol")
    account_record = {
        "nominalCode": "12345678901",
        "name": "Subscriptions",
        "fullyQualifiedCategory": "Expense.Overhead",
    }
    assert messages(validate_push("gbol", "chartOfAccounts", account_record, ledger)) == [
        "Nominal Code must be at most 10 characters long (got 11)."
    ]
    assert (
        validate_push("gbol", "chartOfAccounts", {**account_record, "nominalCode": "4291"}, ledger)
        == []
    )


def test_account_push_rules():
    ledger = ledger_for("gbol")
    record = {
        "nominalCode": "429",
        "name": "general expenses",
        "fullyQualifiedCategory": "Expense.Nope",
        "type": "Cost",
        "currency": "XYZ",
    }
    assert messages(validate_push("gbol", "chartOfAccounts", record, ledger)) == [
        "Nominal Code '429' is already used by another record.",
        "Name 'general expenses' is already used by another record.",
        "Fully Qualified Category 'Expense.Nope' is not one of: "
        + ", ".join(
            o["value"]
            for o in push_option("gbol", "chartOfAccounts")["properties"]["fullyQualifiedCategory"][
                "options"
            ]
        )
        + ".",
        "Account type 'Cost' is not one of: Unknown, Asset, Expense, Income, Liability, Equity.",
        "Currency 'XYZ' is not a valid ISO 4217 currency code.",
    ]
    assert messages(validate_push("gbol", "chartOfAccounts", {}, ledger)) == [
        "Nominal Code must be provided.",
        "Name must be provided.",
        "Fully Qualified Category must be provided.",
    ]
    qbo = ledger_for("qhyg")
    long_name = {
        "name": "x" * 101,
        "fullyQualifiedCategory": "Expense.Expense.Travel",
        "currency": "EUR",
    }
    assert messages(validate_push("qhyg", "chartOfAccounts", long_name, qbo)) == [
        "Name must be at most 100 characters long (got 101)."
    ]
    assert messages(
        validate_push(
            "qhyg", "chartOfAccounts", {**long_name, "name": "Travel", "currency": "EURO"}, qbo
        )
    ) == [
        "Name 'Travel' is already used by another record.",
        "Currency 'EURO' is not a valid ISO 4217 currency code.",
    ]


def test_duplicate_supplier_name_refused():
    ledger = ledger_for("qhyg")
    existing = next(iter(ledger["suppliers"].values()))
    new = {
        "supplierName": existing["supplierName"].upper(),
        "status": "Active",
        "defaultCurrency": "USD",
    }
    assert messages(validate_push("qhyg", "suppliers", new, ledger)) == [
        f"Supplier Name '{new['supplierName']}' is already used by another record."
    ]
    # Updating the supplier itself keeps its own name.
    assert validate_push("qhyg", "suppliers", dict(existing), ledger) == []
    assert (
        validate_push("qhyg", "suppliers", {**new, "id": None}, ledger, record_id=existing["id"])
        == []
    )
    assert validate_push("qhyg", "suppliers", {**new, "supplierName": "Brand New Co"}, ledger) == []


def test_contact_push_rules():
    ledger = ledger_for("pqsw")
    record = {
        "customerName": "N" * 42,
        "status": "Live",
        "defaultCurrency": "usd",
        "emailAddress": "not-an-email",
        "addresses": [{"type": "Home", "line1": "1 Road"}],
    }
    assert messages(validate_push("pqsw", "customers", record, ledger)) == [
        "Customer Name must be at most 41 characters long (got 42).",
        "Email Address 'not-an-email' is not a valid email address.",
        "Default Currency 'usd' is not a valid ISO 4217 currency code.",
        "Status 'Live' is not one of: Unknown, Active, Archived.",
        "Address 1 needs a type of Unknown, Billing or Delivery.",
    ]
    assert messages(validate_push("pqsw", "customers", {}, ledger)) == [
        "Customer Name must be provided.",
        "Status must be provided.",
    ]


def test_bank_account_push_rules():
    ledger = ledger_for("fbrh")
    record = {
        "accountName": "Savings",
        "currency": "GBP",
        "sortCode": "12-34-567",
        "balance": "abc",
        "accountType": "Savings",
    }
    assert messages(validate_push("fbrh", "bankAccounts", record, ledger)) == [
        "Sort Code must be at most 8 characters long (got 9).",
        "Balance must be a number.",
        "Account type 'Savings' is not one of: Unknown, Credit, Debit.",
    ]
    ok = {"accountName": "Savings", "currency": "GBP", "sortCode": "12-34-56", "balance": "100.50"}
    assert validate_push("fbrh", "bankAccounts", ok, ledger) == []


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_seeded_records_pass_their_own_push_rules(key):
    # Bank accounts in the chart are created through bankAccounts, not chartOfAccounts.
    ledger = ledger_for(key)
    for data_type in PUSH_TYPES:
        for record in ledger[data_type].values():
            if data_type == "chartOfAccounts" and record["isBankAccount"]:
                continue
            assert validate_push(key, data_type, record, ledger) == [], (data_type, record["id"])
