"""The checks a real ledger applies when the sandbox "writes" a transaction.

Plain functions over plain data:

* `platform`: a `codat_sandbox.platforms.Platform`;
* `ledger`: data type -> id -> record, as `seeds.index_ledger(seeds.seed_ledger(...))`;
* `config`: the company configuration `{"bankAccount": {"id"}, "supplier": {"id"},
  "customer": {"id"}}` or None;
* the transaction dict exactly as posted (camelCase, per the spec schemas).

Each `evaluate_*` returns an `Outcome` with the per-transaction status Codat reports:

* `ValidationError`: the data is wrong and Codat could have known before writing:
  unknown/archived/unsuitable account, tax rate, tracking category, contact or bank
  account; a missing default; a missing currency rate; a type the platform never takes.
* `PushError`: the data looks fine but the ledger refused it when written: the ledger
  lock date, an FX combination the platform cannot book, a type the chosen card cannot
  take (these depend on the ledger's own state and rules, not on Codat's schema).
* `Completed`: written. `message` is left None; the caller fills in the created id.

Schema-level problems (missing required fields, wrong JSON types, too many items) are
the HTTP layer's 400 and are not repeated here, beyond what is needed to not crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any, Literal

from codat_sandbox.platforms import EXPENSE_TYPES, MB, Platform, support_error

Status = Literal["Completed", "ValidationError", "PushError"]
Ledger = Mapping[str, Mapping[str, dict]]


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "Completed"


COMPLETED = Outcome("Completed")


class _Fail(Exception):
    """Raised inside the checks to stop at the first problem, as Codat reports one."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.outcome = Outcome(status, message)


def _invalid(message: str) -> _Fail:
    return _Fail("ValidationError", message)


def _refused(message: str) -> _Fail:
    return _Fail("PushError", message)


# --- small helpers ---------------------------------------------------------------------


def _company(ledger: Ledger) -> dict:
    records = ledger.get("company") or {}
    return next(iter(records.values()), {})


def base_currency(platform: Platform, ledger: Ledger) -> str:
    return _company(ledger).get("baseCurrency") or platform.default_base_currency


def _parse_date(value: Any, field: str) -> date:
    """Dates arrive as `2024-05-21`, `...T00:00:00`, with `Z` or an offset (spec "Date time").

    The calendar date as written is what the ledger books, so offsets are not converted.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        raise _invalid(f"'{field}' is required.")
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise _invalid(f"'{field}' is not a valid date: '{value}'.") from None


def _lock_date(ledger: Ledger) -> date | None:
    raw = _company(ledger).get("ledgerLockDate")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).date() if isinstance(raw, str) else raw
    except ValueError:
        return None


def _check_lock_date(ledger: Ledger, when: date, label: str) -> None:
    # Books are closed up to and including the lock date.
    lock = _lock_date(ledger)
    if lock is not None and when <= lock:
        raise _refused(
            f"The {label} {when.isoformat()} is on or before the ledger lock date "
            f"{lock.isoformat()}."
        )


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(f"'{field}' is not a valid number: '{value}'.") from None


def _ref_id(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        value = ref.get("id")
        return None if value in (None, "") else str(value)
    return None


def _is_archived(record: Mapping) -> bool:
    return record.get("status") == "Archived" or bool(
        (record.get("metadata") or {}).get("isDeleted")
    )


def _account(ledger: Ledger, account_id: str) -> dict:
    account = (ledger.get("chartOfAccounts") or {}).get(account_id)
    if account is None:
        raise _invalid(f"Account '{account_id}' was not found.")
    if _is_archived(account):
        raise _invalid(f"Account '{account_id}' is archived and cannot be used.")
    return account


def _check_account_for_expense(ledger: Ledger, account_id: str, expense_type: str) -> None:
    account = _account(ledger, account_id)
    # validFor is the newer, per-endpoint field; validTransactionTypes the older one.
    valid_for = account.get("validFor")
    allowed = (
        f"expense-transactions.{expense_type}" in valid_for
        if valid_for is not None
        else expense_type in (account.get("validTransactionTypes") or [])
    )
    if not allowed:
        raise _invalid(
            f"Account '{account_id}' is not valid for transaction type '{expense_type}'."
        )


def _check_account_valid_for(ledger: Ledger, account_id: str, endpoint: str, words: str) -> dict:
    account = _account(ledger, account_id)
    if endpoint not in (account.get("validFor") or []):
        raise _invalid(f"Account '{account_id}' is not valid for {words}.")
    return account


def _check_tax_rate(ledger: Ledger, line: Mapping, expense_type: str | None) -> None:
    tax_id = _ref_id(line.get("taxRateRef"))
    if tax_id is None:
        return  # no tax rate = no tax (QBD, Zoho, FreeAgent) or the ledger's default
    rate = (ledger.get("taxRates") or {}).get(tax_id)
    if rate is None:
        raise _invalid(f"Tax rate '{tax_id}' was not found.")
    if _is_archived(rate):
        raise _invalid(f"Tax rate '{tax_id}' is archived and cannot be used.")
    types = rate.get("validTransactionTypes")
    if expense_type is not None and types is not None and expense_type not in types:
        raise _invalid(f"Tax rate '{tax_id}' is not valid for transaction type '{expense_type}'.")


def _contact(ledger: Ledger, data_type: str, contact_id: str) -> dict:
    word = "Supplier" if data_type == "suppliers" else "Customer"
    record = (ledger.get(data_type) or {}).get(contact_id)
    if record is None:
        raise _invalid(f"{word} '{contact_id}' was not found.")
    if _is_archived(record):
        raise _invalid(f"{word} '{contact_id}' is archived and cannot be used.")
    return record


def _check_tracking(ledger: Ledger, refs: Any, allowed_types: tuple[str, ...]) -> None:
    for ref in refs or []:
        ref_id = _ref_id(ref)
        if ref_id is None:
            raise _invalid("Every tracking reference needs an 'id'.")
        data_type = ref.get("dataType") or "trackingCategories"
        if data_type not in allowed_types:
            raise _invalid(f"Tracking data type '{data_type}' is not supported here.")
        if data_type != "trackingCategories":
            _contact(ledger, data_type, ref_id)
            continue
        category = (ledger.get("trackingCategories") or {}).get(ref_id)
        if category is None:
            raise _invalid(f"Tracking category '{ref_id}' was not found.")
        if _is_archived(category):
            raise _invalid(f"Tracking category '{ref_id}' is archived and cannot be used.")
        # Ledgers book against tracking options, not the category that groups them.
        if category.get("hasChildren"):
            raise _invalid(
                f"Tracking category '{ref_id}' has child categories; use one of its children."
            )


def _check_invoice_to(platform: Platform, ledger: Ledger, line: Mapping) -> None:
    invoice_to = line.get("invoiceTo")
    if not invoice_to:
        return
    if not platform.supports_invoice_to:
        raise _invalid(f"Billable expenses (invoiceTo) are not supported on {platform.name}.")
    customer_id = _ref_id(invoice_to)
    if customer_id is None:
        raise _invalid("invoiceTo needs a customer 'id'.")
    _contact(ledger, "customers", customer_id)


def _check_line_target(platform: Platform, ledger: Ledger, line: Mapping) -> str | None:
    """accountRef/itemRef rules; returns the account id to check further, if any."""
    account_id = _ref_id(line.get("accountRef"))
    item_id = _ref_id(line.get("itemRef"))
    if item_id is not None and not platform.supports_item_ref:
        raise _invalid(f"itemRef is not supported on {platform.name}; use accountRef.")
    if platform.supports_item_ref:
        if account_id and item_id:
            raise _invalid("A line cannot have both an accountRef and an itemRef.")
        if not account_id and not item_id:
            raise _invalid("Each line needs an accountRef or an itemRef.")
        items = ledger.get("items")
        # Items are not part of the seeded reference data; check them only if present.
        if item_id and items is not None and item_id not in items:
            raise _invalid(f"Item '{item_id}' was not found.")
    elif not account_id:
        raise _invalid("Each line needs an accountRef.")
    return account_id


def _lines(txn: Mapping) -> list[Mapping]:
    lines = txn.get("lines")
    if not lines:
        raise _invalid("At least one line is required.")
    return list(lines)


def _bank_account(ledger: Ledger, bank_id: str) -> tuple[dict, str | None, str]:
    """Bank account record, its card type (Credit/Debit) and currency."""
    record = (ledger.get("bankAccounts") or {}).get(bank_id)
    if record is None:
        # On most platforms a bank account is also a chart account with the same id.
        account = (ledger.get("chartOfAccounts") or {}).get(bank_id)
        if account is None or not account.get("isBankAccount"):
            raise _invalid(f"Bank account '{bank_id}' was not found.")
        record = account
        card_type = "Credit" if account.get("type") == "Liability" else "Debit"
    else:
        card_type = record.get("accountType")
    if _is_archived(record):
        raise _invalid(f"Bank account '{bank_id}' is archived and cannot be used.")
    return record, card_type, record.get("currency") or ""


def _resolve_bank(
    ledger: Ledger, config: Mapping | None, txn: Mapping
) -> tuple[str, dict, str | None, str]:
    bank_id = _ref_id(txn.get("bankAccountRef")) or _ref_id((config or {}).get("bankAccount"))
    if bank_id is None:
        raise _invalid("No bank account was provided and no default bank account is configured.")
    record, card_type, currency = _bank_account(ledger, bank_id)
    return bank_id, record, card_type, currency


def _check_supplier_currency(supplier_id: str, supplier: Mapping, currency: str) -> None:
    # Codat checks this for single-currency suppliers only: a supplier with no default
    # currency takes any currency.
    supplier_currency = supplier.get("defaultCurrency")
    if supplier_currency and currency and supplier_currency != currency:
        raise _invalid(
            f"Supplier '{supplier_id}' has currency {supplier_currency}, which does not match "
            f"the transaction currency {currency}."
        )


def _check_expense_contact(
    platform: Platform, ledger: Ledger, config: Mapping | None, txn: Mapping, expense_type: str
) -> None:
    contact_type = platform.contact_for(expense_type)
    if contact_type is None:
        return  # Dynamics and FreeAgent attach no contact to expense transactions
    override = _ref_id(txn.get("contactRef"))
    if contact_type == "Supplier":
        supplier_id = override or _ref_id((config or {}).get("supplier"))
        if supplier_id is None:
            raise _invalid("No supplier was provided and no default supplier is configured.")
        supplier = _contact(ledger, "suppliers", supplier_id)
        _check_supplier_currency(supplier_id, supplier, txn.get("currency") or "")
        return
    customer_id = override or _ref_id((config or {}).get("customer"))
    if customer_id is None:
        raise _invalid("No customer was provided and no default customer is configured.")
    # Xero keeps one contact list: a contact id may be filed as supplier or customer.
    customers = ledger.get("customers") or {}
    if override and customer_id not in customers and customer_id in (ledger.get("suppliers") or {}):
        _contact(ledger, "suppliers", customer_id)
        return
    _contact(ledger, "customers", customer_id)


def _currency_rate(txn: Mapping) -> Decimal | None:
    rate = txn.get("currencyRate")
    if rate is None:
        return None
    value = _decimal(rate, "currencyRate")
    if value <= 0:
        raise _invalid("'currencyRate' must be greater than zero.")
    return value


# --- FX ------------------------------------------------------------------------------

_UNCHECKED: Any = object()


def fx_class(base_currency: str, bank_currency: str, txn_currency: str) -> str:
    """Codat's FX combination classes (docs fx-management), relative to the base currency.

    O1 base/base, O2 foreign/same foreign, O3 foreign bank/base txn, O4 base bank/foreign
    txn, O5 two different foreign currencies. For transfers, bank = from and txn = to.
    """
    bank_is_base = bank_currency == base_currency
    txn_is_base = txn_currency == base_currency
    if bank_is_base and txn_is_base:
        return "O1"
    if bank_is_base:
        return "O4"
    if txn_is_base:
        return "O3"
    return "O2" if bank_currency == txn_currency else "O5"


def fx_error(
    platform: Platform,
    base_currency: str,
    bank_currency: str,
    txn_currency: str,
    kind: Literal["expense", "transfer"] = "expense",
    card_type: str | None = None,
    *,
    currency_rate: Any = _UNCHECKED,
) -> str | None:
    """Why the ledger cannot book this currency combination, or None.

    For expenses `bank_currency`/`txn_currency` are the bank account's and the
    transaction's; for transfers they are the from and to accounts' currencies.
    `card_type` is the bank account's accountType ("Credit"/"Debit"; None counts as
    Credit, the common case for expense cards). Pass `currency_rate` (None or a
    number) to also check that a rate was given where one is needed; transfers carry
    no rate (Codat infers it from the two amounts).
    """
    cls = fx_class(base_currency, bank_currency, txn_currency)
    name = platform.name
    if kind == "transfer":
        if platform.key == "gbol" and bank_currency != txn_currency:
            return (
                f"Transfers between accounts in different currencies "
                f"({bank_currency} to {txn_currency}) are not supported on {name}."
            )
        if platform.key == "pqsw" and cls != "O1":
            return (
                f"Transfers on {name} must be between accounts in the base currency "
                f"{base_currency} (got {bank_currency} to {txn_currency})."
            )
        # QBO, and by the general rule every other platform: never two different
        # non-base currencies in one transaction.
        if cls == "O5":
            return (
                f"Transfers between two different non-base currencies "
                f"({bank_currency} to {txn_currency}) are not supported on {name}."
            )
        return None

    # Xero books card spend in the bank account's currency and ignores the transaction
    # currency, so every combination goes through (docs: O3 and O5 allowed on Xero only).
    if platform.key != "gbol":
        if cls == "O3":
            return (
                f"Transactions in the base currency {txn_currency} cannot be posted to a "
                f"{bank_currency} bank account on {name}."
            )
        if cls == "O5":
            return (
                f"Transactions in {txn_currency} cannot be posted to a {bank_currency} bank "
                f"account on {name}: neither is the base currency {base_currency}."
            )
        # O2 is refused on NetSuite credit cards (prepaid/debit cards take it) and on
        # Sage Intacct; O4 only on Dynamics. FreeAgent and Zoho are not in the docs'
        # table and follow the general rule (O1, O2, O4 allowed).
        if cls == "O2" and (
            platform.key == "knfz" or (platform.key == "akxx" and card_type != "Debit")
        ):
            card = "credit card" if platform.key == "akxx" else "card"
            return (
                f"Foreign-currency transactions ({txn_currency}) cannot be posted to a "
                f"{bank_currency} {card} on {name}."
            )
        if cls == "O4" and platform.key == "trji":
            return (
                f"Transactions in {txn_currency} cannot be posted to a base-currency "
                f"({base_currency}) bank account on {name}."
            )

    if currency_rate is not _UNCHECKED and currency_rate is None:
        return currency_rate_error(platform, base_currency, bank_currency, txn_currency, None)
    return None


def currency_rate_error(
    platform: Platform,
    base_currency: str,
    bank_currency: str | None,
    txn_currency: str,
    currency_rate: Any,
) -> str | None:
    """A currencyRate is needed when either currency differs from the base currency.

    QBO treats a missing rate as 1 (docs), so it never complains. Xero ignores the
    transaction currency, so only the bank account's currency counts there.
    """
    if currency_rate is not None or platform.missing_rate_means_one:
        return None
    currencies = (
        [bank_currency]
        if platform.key == "gbol" and bank_currency
        else [bank_currency, txn_currency]
    )
    foreign = [c for c in currencies if c and c != base_currency]
    if not foreign:
        return None
    return (
        f"A currencyRate is required because {foreign[0]} is not the base currency {base_currency}."
    )


# --- expenses --------------------------------------------------------------------------


def _check_platform_op(platform: Platform, operation: str) -> None:
    error = support_error(platform, operation)
    if error is not None:
        raise _invalid(error[1])


def _check_expense_type(platform: Platform, expense_type: Any) -> str:
    if expense_type not in EXPENSE_TYPES:
        raise _invalid(f"Transaction type '{expense_type}' is not supported.")
    if not platform.allows_expense_type(expense_type):
        raise _invalid(f"Transaction type '{expense_type}' is not supported on {platform.name}.")
    return expense_type


def _check_expense(
    platform: Platform, ledger: Ledger, config: Mapping | None, txn: Mapping
) -> None:
    expense_type = _check_expense_type(platform, txn.get("type"))
    issue_date = _parse_date(txn.get("issueDate"), "issueDate")
    currency = txn.get("currency") or ""

    for line in _lines(txn):
        _decimal(line.get("netAmount"), "netAmount")
        account_id = _check_line_target(platform, ledger, line)
        if account_id:
            _check_account_for_expense(ledger, account_id, expense_type)
        _check_tax_rate(ledger, line, expense_type)
        _check_tracking(ledger, line.get("trackingRefs"), ("trackingCategories", "customers"))
        _check_invoice_to(platform, ledger, line)

    _, _, card_type, bank_currency = _resolve_bank(ledger, config, txn)
    _check_expense_contact(platform, ledger, config, txn, expense_type)

    base = base_currency(platform, ledger)
    rate = _currency_rate(txn)
    if message := currency_rate_error(platform, base, bank_currency, currency, rate):
        raise _invalid(message)

    # From here on the data is valid; what remains is the ledger refusing the write.
    if expense_type in platform.credit_card_only_types and card_type != "Credit":
        raise _refused(f"{expense_type} transactions require a credit card on {platform.name}.")
    if message := fx_error(platform, base, bank_currency, currency, "expense", card_type):
        raise _refused(message)
    _check_lock_date(ledger, issue_date, "issue date")


def evaluate_expense(
    platform: Platform, ledger: Ledger, config: Mapping | None, txn: Mapping
) -> Outcome:
    """One item of create-expense-transaction."""
    try:
        _check_platform_op(platform, "expense")
        _check_expense(platform, ledger, config, txn)
    except _Fail as fail:
        return fail.outcome
    return COMPLETED


def evaluate_expense_update(
    platform: Platform,
    ledger: Ledger,
    config: Mapping | None,
    txn: Mapping,
    original: Mapping | None = None,
) -> Outcome:
    """update-expense-transaction (PUT body, no id). `original` is the expense as first
    created, when the caller has it: needed for the rules about what may not change.

    The HTTP layer should answer 422 itself (via `support_error`) for platforms without
    updates; here that case is a ValidationError so the function is total.
    """
    try:
        _check_platform_op(platform, "expense_update")
        for candidate in (txn, original or {}):
            kind = candidate.get("type")
            if kind is not None and kind != "Payment":
                raise _invalid(f"Only Payment transactions can be updated; got '{kind}'.")
        if original is not None and not platform.update_can_change_bank_account:
            before = _ref_id(original.get("bankAccountRef"))
            after = _ref_id(txn.get("bankAccountRef"))
            if after is not None and before is not None and after != before:
                raise _invalid(
                    f"The bank account of an expense cannot be changed on {platform.name}."
                )
        _check_expense(platform, ledger, config, txn)
    except _Fail as fail:
        return fail.outcome
    return COMPLETED


# --- reimbursable expenses ---------------------------------------------------------


def evaluate_reimbursable(
    platform: Platform,
    ledger: Ledger,
    config: Mapping | None,
    txn: Mapping,
    *,
    update: bool = False,
) -> Outcome:
    """One reimbursable expense (a bill against the employee, held as a supplier)."""
    try:
        _check_platform_op(platform, "reimbursable_update" if update else "reimbursable")
        issue_date = _parse_date(txn.get("issueDate"), "issueDate")
        due_date = _parse_date(txn.get("dueDate"), "dueDate")
        if due_date < issue_date:
            raise _invalid(
                f"The due date {due_date.isoformat()} is before the issue date "
                f"{issue_date.isoformat()}."
            )
        currency = txn.get("currency") or ""

        # The employee is required by the schema; the company's default supplier is not
        # an employee, so there is no fallback to the configuration here.
        supplier_id = _ref_id(txn.get("contactRef"))
        if supplier_id is None:
            raise _invalid("A contactRef (the employee, held as a supplier) is required.")
        supplier = _contact(ledger, "suppliers", supplier_id)
        _check_supplier_currency(supplier_id, supplier, currency)

        ap_id = _ref_id(txn.get("apAccountRef"))
        # apAccountRef is QBD-only in the spec; other platforms use their default
        # payables account and ignore it.
        if ap_id is not None and platform.supports_ap_account_ref:
            ap = _account(ledger, ap_id)
            if ap.get("type") != "Liability":
                raise _invalid(f"Account '{ap_id}' is not an accounts payable account.")

        for line in _lines(txn):
            _decimal(line.get("netAmount"), "netAmount")
            account_id = _check_line_target(platform, ledger, line)
            if account_id:
                _check_account_valid_for(
                    ledger,
                    account_id,
                    "reimbursable-expense-transactions",
                    "reimbursable expense transactions",
                )
            _check_tax_rate(ledger, line, None)
            _check_tracking(ledger, line.get("trackingRefs"), ("trackingCategories", "customers"))
            _check_invoice_to(platform, ledger, line)

        base = base_currency(platform, ledger)
        rate = _currency_rate(txn)
        if message := currency_rate_error(platform, base, None, currency, rate):
            raise _invalid(message)
        _check_lock_date(ledger, issue_date, "issue date")
    except _Fail as fail:
        return fail.outcome
    return COMPLETED


def evaluate_reimbursable_update(
    platform: Platform, ledger: Ledger, config: Mapping | None, txn: Mapping
) -> Outcome:
    return evaluate_reimbursable(platform, ledger, config, txn, update=True)


# --- adjustments ---------------------------------------------------------------------


def evaluate_adjustment(
    platform: Platform, ledger: Ledger, config: Mapping | None, txn: Mapping
) -> Outcome:
    """One adjustment: a journal whose lines (debits positive, credits negative) balance."""
    try:
        _check_platform_op(platform, "adjustment")
        when = _parse_date(txn.get("date"), "date")
        total = Decimal(0)
        for line in _lines(txn):
            total += _decimal(line.get("amount"), "amount")
            account_id = _ref_id(line.get("accountRef"))
            if account_id is None:
                raise _invalid("Each adjustment line needs an accountRef.")
            _check_account_valid_for(
                ledger, account_id, "adjustment-transactions", "adjustment transactions"
            )
            _check_tracking(
                ledger, line.get("trackingRefs"), ("trackingCategories", "customers", "suppliers")
            )
            _check_invoice_to(platform, ledger, line)
        if total != 0:
            raise _invalid(f"Adjustment lines must balance to zero; they total {total}.")
        base = base_currency(platform, ledger)
        rate = _currency_rate(txn)
        if message := currency_rate_error(platform, base, None, txn.get("currency") or "", rate):
            raise _invalid(message)
        _check_lock_date(ledger, when, "date")
    except _Fail as fail:
        return fail.outcome
    return COMPLETED


# --- transfers -----------------------------------------------------------------------


def _transfer_account(ledger: Ledger, side: Mapping, label: str) -> tuple[str, str, Decimal]:
    if not isinstance(side, Mapping):
        raise _invalid(f"The '{label}' side of the transfer is required.")
    account_id = _ref_id(side.get("accountRef"))
    if account_id is None:
        raise _invalid(f"The '{label}' account is required.")
    amount = _decimal(side.get("amount"), f"{label}.amount")
    if amount <= 0:
        raise _invalid(f"The '{label}' amount must be greater than zero.")
    bank = (ledger.get("bankAccounts") or {}).get(account_id)
    if bank is not None:
        if _is_archived(bank):
            raise _invalid(f"Account '{account_id}' is archived and cannot be used.")
        return account_id, bank.get("currency") or "", amount
    # Transfers may also move money between a bank account and a nominal account.
    account = _check_account_valid_for(
        ledger, account_id, "transfer-transactions", "transfer transactions"
    )
    return account_id, account.get("currency") or "", amount


def evaluate_transfer(
    platform: Platform, ledger: Ledger, txn: Mapping, *, update: bool = False
) -> Outcome:
    """A transfer (PUT create-or-update). Pass update=True when the id already exists."""
    try:
        _check_platform_op(platform, "transfer_update" if update else "transfer_create")
        when = _parse_date(txn.get("date"), "date")
        from_id, from_ccy, from_amount = _transfer_account(ledger, txn.get("from"), "from")
        to_id, to_ccy, to_amount = _transfer_account(ledger, txn.get("to"), "to")
        if from_id == to_id:
            raise _invalid("The from and to accounts must be different.")
        if from_ccy == to_ccy and from_amount != to_amount:
            raise _invalid(
                f"The from and to amounts must be equal when both accounts are in {from_ccy} "
                f"(got {from_amount} and {to_amount})."
            )
        base = base_currency(platform, ledger)
        if message := fx_error(platform, base, from_ccy, to_ccy, "transfer"):
            raise _refused(message)
        _check_lock_date(ledger, when, "date")
    except _Fail as fail:
        return fail.outcome
    return COMPLETED


# --- attachments ---------------------------------------------------------------------


def _size_words(size: int) -> str:
    return f"{size / MB:.1f} MB"


def attachment_error(
    platform: Platform,
    transaction_kind: str,
    expense_type: str | None,
    filename: str | None,
    content_type: str | None,
    size_bytes: int,
) -> str | None:
    """Why this file cannot be attached to this transaction on this platform, or None.

    `transaction_kind` is "expense", "reimbursable", "transfer" or "adjustment";
    `expense_type` the expense's type when the kind is "expense".
    """
    if transaction_kind in ("transfer", "adjustment"):
        return f"Attachments are not supported for {transaction_kind} transactions."
    if "attachments" not in platform.supports or not platform.attachment_kinds:
        return f"Attachments are not supported on {platform.name}."
    kind_key = f"expense.{expense_type}" if transaction_kind == "expense" else transaction_kind
    if kind_key not in platform.attachment_kinds:
        spec_name = (
            f"expense-transactions.{expense_type}"
            if transaction_kind == "expense"
            else "reimbursable-expense-transactions"
        )
        return f"Attachments are not supported for {spec_name} on {platform.name}."
    if size_bytes <= 0:
        return "The file is empty."
    limit = platform.attachment_max_bytes
    if limit is not None and size_bytes > limit:
        return (
            f"The file is {_size_words(size_bytes)}; {platform.name} accepts attachments of up "
            f"to {limit // MB} MB."
        )
    allowed = platform.attachment_extensions
    if allowed is not None:
        extension = PurePosixPath(filename or "").suffix.lstrip(".").upper()
        # FreeAgent's list is made of MIME subtypes (X-PNG, X-PDF), so the content
        # type's subtype is accepted as well as the extension.
        subtype = (content_type or "").split(";")[0].strip().rpartition("/")[2].upper()
        if extension not in allowed and subtype not in allowed:
            shown = f".{extension.lower()}" if extension else (content_type or "unknown")
            return (
                f"Files of type '{shown}' cannot be attached on {platform.name}. "
                f"Allowed: {', '.join(sorted(allowed))}."
            )
    return None
