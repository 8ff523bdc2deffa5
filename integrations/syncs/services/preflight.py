"""Stage 2: check each ready transaction against the cached ledger before anything is sent.

`check` is a pure function over plain data (`Facts` about one transaction, `LedgerFacts` about
its company) so every rule is unit-testable without a database; `preflight_company` gathers
those facts from the cache in a fixed number of queries and stores each outcome: queued for
the push, or "needs attention" with a code, a sentence and the screen that fixes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from integrations.companies.models import Company, Connection
from integrations.ledger.models import (
    BankAccount,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    RecordStatus,
)
from integrations.transactions.models import Transaction

from . import platforms
from .platforms import Platform

Code = Transaction.AttentionCode
Screen = Transaction.Screen
Kind = Transaction.Kind

# The platform operation each kind of transaction needs.
KIND_OPERATION = {
    Kind.EXPENSE: platforms.EXPENSE,
    Kind.REIMBURSABLE: platforms.REIMBURSABLE,
    Kind.ADJUSTMENT: platforms.ADJUSTMENT,
    Kind.TRANSFER: platforms.TRANSFER_CREATE,
}


@dataclass(frozen=True)
class Record:
    """A cached ledger record as the rules see it."""

    id: str
    name: str
    archived: bool = False
    currency: str = ""
    # Accounts: whether Codat accepts it for this transaction's type (validFor).
    # Tax rates: whether its validTransactionTypes allow the type.
    valid: bool = True
    # Bank accounts: Codat's accountType, "Credit" or "Debit" ("" when unknown).
    card_type: str = ""


@dataclass(frozen=True)
class Facts:
    """One transaction and the ledger records its mapping resolves to."""

    kind: str
    expense_type: str
    issue_date: date
    currency: str
    currency_rate: Decimal | None
    has_category: bool = False
    account: Record | None = None
    tax_rate: Record | None = None
    bank_account: Record | None = None
    # Where the bank account came from: the card's mapping or the company default.
    bank_from_card: bool = False
    has_card: bool = False
    contact: Record | None = None
    # "Supplier", "Customer" or None when the platform attaches no contact.
    contact_kind: str | None = None
    contact_from_transaction: bool = False
    transfer_from: Record | None = None
    transfer_to: Record | None = None
    transfer_amounts: bool = False
    # Already in the ledger and changed since: an update, not a create.
    is_edit: bool = False


@dataclass(frozen=True)
class LedgerFacts:
    """What is known about the company's ledger, once for all of its transactions."""

    platform: Platform | None
    linked: bool
    platform_name: str = ""
    base_currency: str = ""
    lock_date: date | None = None


@dataclass(frozen=True)
class Problem:
    code: str
    words: str
    screen: str


def _problem(code, words, screen) -> Problem:
    return Problem(str(code), words, str(screen))


def check(facts: Facts, ledger: LedgerFacts) -> Problem | None:
    """The first reason Codat or the ledger would refuse this transaction, or None."""
    if not ledger.linked:
        return _problem(
            Code.CONNECTION_NOT_LINKED,
            "The accounting software is not connected. Reconnect it to send transactions.",
            Screen.CONNECTION,
        )
    platform = ledger.platform
    if platform is None or not ledger.base_currency:
        return _problem(
            Code.LEDGER_NOT_LOADED,
            "The ledger's details have not been loaded yet; refresh them from the connection page.",
            Screen.CONNECTION,
        )
    if facts.is_edit:
        update = platforms.update_operation(facts.kind, facts.expense_type)
        if update is None or update not in platform.supports:
            return _problem(
                Code.EDIT_NOT_SUPPORTED,
                f"{platform.name} does not take changes to this {_noun(facts)} through Codat. "
                f"Make the same change in {platform.name} itself, then mark it done here.",
                Screen.LEDGER,
            )
    operation = KIND_OPERATION[facts.kind]
    if operation not in platform.supports:
        return _problem(
            Code.KIND_NOT_SUPPORTED,
            f"{platform.name} does not accept {Kind(facts.kind).label.lower()}s through Codat.",
            Screen.TRANSACTION,
        )
    if facts.kind == Kind.TRANSFER:
        return _check_transfer(facts, ledger, platform)
    if facts.kind == Kind.EXPENSE and facts.expense_type not in platform.expense_types:
        return _problem(
            Code.TYPE_NOT_SUPPORTED,
            f"{platform.name} does not accept {facts.expense_type} transactions.",
            Screen.TRANSACTION,
        )
    return (
        _check_account(facts)
        or _check_tax_rate(facts)
        or _check_bank_account(facts, platform)
        or _check_contact(facts)
        or _check_currency(facts, ledger, platform)
        or _check_lock_date(facts.issue_date, ledger)
    )


def _check_account(facts: Facts) -> Problem | None:
    if not facts.has_category:
        return _problem(
            Code.NO_CATEGORY, "Choose an expense category for this transaction.", Screen.TRANSACTION
        )
    account = facts.account
    if account is None:
        return _problem(
            Code.CATEGORY_NOT_MAPPED,
            "This transaction's category is not mapped to a ledger account.",
            Screen.CATEGORY_MAPPING,
        )
    if account.archived:
        return _problem(
            Code.ACCOUNT_ARCHIVED,
            f"The account '{account.name}' this category is mapped to is archived in the "
            "ledger; map the category to an active account.",
            Screen.CATEGORY_MAPPING,
        )
    if not account.valid:
        return _problem(
            Code.ACCOUNT_NOT_VALID,
            f"The account '{account.name}' cannot take {_what(facts)}; map the category to an "
            "account that can.",
            Screen.CATEGORY_MAPPING,
        )
    return None


def _noun(facts: Facts) -> str:
    if facts.kind == Kind.EXPENSE:
        return f"{facts.expense_type.lower()} transaction"
    return Kind(facts.kind).label.lower()


def _what(facts: Facts) -> str:
    if facts.kind == Kind.EXPENSE:
        return f"{facts.expense_type.lower()} transactions"
    return f"{Kind(facts.kind).label.lower()}s"


def _check_tax_rate(facts: Facts) -> Problem | None:
    rate = facts.tax_rate
    if rate is not None and (rate.archived or not rate.valid):
        return _problem(
            Code.TAX_RATE_NOT_VALID,
            f"The tax rate '{rate.name}' cannot be used for {_what(facts)}; choose another in "
            "the category mapping.",
            Screen.CATEGORY_MAPPING,
        )
    return None


def _bank_screen(facts: Facts) -> str:
    if facts.bank_from_card or facts.has_card:
        return Screen.CARD_MAPPING
    return Screen.COMPANY_DEFAULTS


def _check_bank_account(facts: Facts, platform: Platform) -> Problem | None:
    if facts.kind == Kind.REIMBURSABLE:
        return None  # a bill against the employee: no bank account involved
    bank = facts.bank_account
    if bank is None:
        return _problem(
            Code.NO_BANK_ACCOUNT,
            "No bank account to post this to: map the card to a bank account or set the "
            "company's default bank account.",
            _bank_screen(facts),
        )
    if bank.archived:
        return _problem(
            Code.BANK_ACCOUNT_ARCHIVED,
            f"The bank account '{bank.name}' is archived in the ledger; choose an active one.",
            _bank_screen(facts),
        )
    if (
        facts.kind == Kind.EXPENSE
        and facts.expense_type in platform.credit_card_only_types
        and bank.card_type != "Credit"
    ):
        return _problem(
            Code.CARD_TYPE_REFUSED,
            f"{platform.name} only books {facts.expense_type} transactions against a credit "
            f"card account, and '{bank.name}' is not one.",
            _bank_screen(facts),
        )
    return None


def _check_contact(facts: Facts) -> Problem | None:
    if facts.kind == Kind.ADJUSTMENT or facts.contact_kind is None:
        return None
    screen = Screen.TRANSACTION if facts.kind == Kind.REIMBURSABLE else Screen.COMPANY_DEFAULTS
    contact = facts.contact
    word = "employee" if facts.kind == Kind.REIMBURSABLE else facts.contact_kind.lower()
    if contact is None:
        return _problem(
            Code.NO_CONTACT,
            f"No {word} to record this against: "
            + (
                "choose the employee on the claim."
                if facts.kind == Kind.REIMBURSABLE
                else f"set the company's default {word}."
            ),
            screen,
        )
    if facts.contact_from_transaction:
        screen = Screen.TRANSACTION
    if contact.archived:
        return _problem(
            Code.CONTACT_ARCHIVED,
            f"The {word} '{contact.name}' is archived in the ledger; choose an active one.",
            screen,
        )
    # Codat checks this for single-currency suppliers only.
    if facts.contact_kind == "Supplier" and contact.currency and contact.currency != facts.currency:
        return _problem(
            Code.CONTACT_CURRENCY,
            f"The {word} '{contact.name}' deals in {contact.currency}, not {facts.currency}; "
            f"choose a {word} in {facts.currency}.",
            screen,
        )
    return None


def _check_currency(facts: Facts, ledger: LedgerFacts, platform: Platform) -> Problem | None:
    base = ledger.base_currency
    bank_currency = facts.bank_account.currency if facts.bank_account else ""
    card_type = facts.bank_account.card_type if facts.bank_account else ""
    if (
        facts.kind == Kind.EXPENSE
        and bank_currency
        and platforms.expense_fx_refused(platform, base, bank_currency, facts.currency, card_type)
    ):
        return _problem(
            Code.CURRENCY_NOT_ALLOWED,
            f"{platform.name} cannot book {facts.currency} spend on a {bank_currency} bank "
            f"account (the ledger's base currency is {base}).",
            _bank_screen(facts),
        )
    # Xero books card spend in the bank account's currency, so only that one needs a rate.
    if platform.key == "gbol" and facts.kind == Kind.EXPENSE:
        in_play = (bank_currency,)
    else:
        in_play = (bank_currency, facts.currency)
    if facts.currency_rate is None and platforms.rate_needed(platform, base, in_play):
        return _problem(
            Code.CURRENCY_RATE_MISSING,
            f"An exchange rate is needed: {base} is the ledger's base currency.",
            Screen.TRANSACTION,
        )
    return None


def _check_lock_date(when: date, ledger: LedgerFacts) -> Problem | None:
    # Books are closed up to and including the lock date.
    if ledger.lock_date is not None and when <= ledger.lock_date:
        return _problem(
            Code.LOCKED_PERIOD,
            f"Dated {when.isoformat()}, on or before the ledger's lock date "
            f"{ledger.lock_date.isoformat()}: change the date or reopen the period in the ledger.",
            Screen.TRANSACTION,
        )
    return None


def _check_transfer(facts: Facts, ledger: LedgerFacts, platform: Platform) -> Problem | None:
    source, target = facts.transfer_from, facts.transfer_to
    if source is None or target is None or not facts.transfer_amounts or source.id == target.id:
        return _problem(
            Code.TRANSFER_INCOMPLETE,
            "A transfer needs two different accounts and an amount on each side.",
            Screen.TRANSACTION,
        )
    for side in (source, target):
        if side.archived:
            return _problem(
                Code.BANK_ACCOUNT_ARCHIVED,
                f"The account '{side.name}' is archived in the ledger.",
                Screen.TRANSACTION,
            )
    base = ledger.base_currency
    if platforms.transfer_fx_refused(platform, base, source.currency, target.currency):
        return _problem(
            Code.CURRENCY_NOT_ALLOWED,
            f"{platform.name} cannot transfer from {source.currency} to {target.currency}.",
            Screen.TRANSACTION,
        )
    return _check_lock_date(facts.issue_date, ledger)


# --- Gathering the facts from the cache ----------------------------------------------------------


def _record(obj, *, valid: bool = True) -> Record | None:
    if obj is None:
        return None
    # Tax rates carry no status; several platforms report none for the others either.
    status = getattr(obj, "status", RecordStatus.ACTIVE)
    return Record(
        id=obj.codat_id,
        name=obj.name,
        archived=status == RecordStatus.ARCHIVED,
        currency=getattr(obj, "currency", ""),
        valid=valid,
        card_type=obj.account_type if isinstance(obj, BankAccount) else "",
    )


@dataclass
class Context:
    """The company's ledger cache, loaded once and shared by every transaction it checks."""

    company: Company
    ledger: LedgerFacts
    category_mappings: dict
    card_mappings: dict
    configuration: CompanyConfiguration | None


def load_context(company: Company) -> Context:
    connection = company.accounting_connection()
    info = CompanyInfo.objects.filter(company=company).first()
    linked = connection is not None and connection.status == Connection.Status.LINKED
    ledger = LedgerFacts(
        platform=platforms.get_platform(connection.platform_key) if connection else None,
        linked=linked,
        platform_name=connection.platform_name if connection else "",
        base_currency=info.base_currency if info else "",
        lock_date=info.ledger_lock_date if info else None,
    )
    category_mappings = {
        m.category_id: m
        for m in CategoryMapping.objects.filter(category__company=company)
        .select_related("account", "tax_rate")
        .prefetch_related("tracking_categories")
    }
    card_mappings = {
        m.card_id: m
        for m in CardMapping.objects.filter(card__company=company).select_related("bank_account")
    }
    configuration = (
        CompanyConfiguration.objects.filter(company=company)
        .select_related("default_bank_account", "default_supplier", "default_customer")
        .first()
    )
    return Context(company, ledger, category_mappings, card_mappings, configuration)


@dataclass(frozen=True)
class Resolved:
    """The ledger records a transaction goes to: what the push sends and pre-flight checks."""

    account: object | None
    tax_rate: object | None
    tracking: tuple
    bank_account: object | None
    bank_from_card: bool
    contact: object | None
    contact_kind: str | None
    contact_from_transaction: bool


def resolve(txn: Transaction, context: Context) -> Resolved:
    mapping = context.category_mappings.get(txn.category_id) if txn.category_id else None
    card_mapping = context.card_mappings.get(txn.card_id) if txn.card_id else None
    config = context.configuration
    bank = card_mapping.bank_account if card_mapping else None
    bank_from_card = bank is not None
    if bank is None and config is not None:
        bank = config.default_bank_account
    if txn.kind == Kind.REIMBURSABLE:
        contact_kind, contact, from_txn = "Supplier", txn.supplier, True
    elif txn.kind == Kind.EXPENSE and context.ledger.platform is not None:
        contact_kind = context.ledger.platform.contact_for(txn.expense_type)
        contact, from_txn = None, False
        if contact_kind == "Supplier":
            from_txn = txn.supplier is not None
            contact = txn.supplier or (config.default_supplier if config else None)
        elif contact_kind == "Customer":
            contact = config.default_customer if config else None
    else:
        contact_kind, contact, from_txn = None, None, False
    return Resolved(
        account=mapping.account if mapping else None,
        tax_rate=mapping.tax_rate if mapping else None,
        tracking=tuple(mapping.tracking_categories.all()) if mapping else (),
        bank_account=bank,
        bank_from_card=bank_from_card,
        contact=contact,
        contact_kind=contact_kind,
        contact_from_transaction=from_txn,
    )


def facts_for(txn: Transaction, context: Context) -> Facts:
    resolved = resolve(txn, context)
    key = txn.valid_for_key
    account = resolved.account
    tax_rate = resolved.tax_rate
    tax_types = tax_rate.valid_transaction_types if tax_rate else []
    tax_valid = txn.kind != Kind.EXPENSE or not tax_types or txn.expense_type in tax_types
    return Facts(
        kind=txn.kind,
        expense_type=txn.expense_type,
        issue_date=txn.issue_date,
        currency=txn.currency,
        currency_rate=txn.currency_rate,
        has_category=txn.category_id is not None,
        account=_record(account, valid=account.is_valid_for(key)) if account else None,
        tax_rate=_record(tax_rate, valid=tax_valid),
        bank_account=_record(resolved.bank_account),
        bank_from_card=resolved.bank_from_card,
        has_card=txn.card_id is not None,
        contact=_record(resolved.contact),
        contact_kind=resolved.contact_kind,
        contact_from_transaction=resolved.contact_from_transaction,
        transfer_from=_record(txn.from_bank_account),
        transfer_to=_record(txn.to_bank_account),
        transfer_amounts=txn.from_amount is not None and txn.to_amount is not None,
        is_edit=txn.pending_edit,
    )


# --- Storing outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreflightResult:
    queued: int
    needs_attention: int


# Rows pre-flight looks at: new work, and rows it parked earlier (fixing the mapping is enough
# for them to flow again). Rows Codat refused are FAILED and wait for a person.
CHECKED_STATUSES = (Transaction.Status.READY, Transaction.Status.NEEDS_ATTENTION)


def preflight_company(
    company_id: int, *, transaction_ids: Iterable | None = None
) -> PreflightResult:
    """Check the company's ready (and parked) transactions; queue the good, park the rest."""
    company = Company.objects.get(pk=company_id)
    context = load_context(company)
    candidates = Transaction.objects.filter(company=company, status__in=CHECKED_STATUSES)
    if transaction_ids is not None:
        candidates = candidates.filter(pk__in=list(transaction_ids))
    candidates = candidates.select_related(
        "supplier", "from_bank_account", "to_bank_account"
    ).order_by("issue_date", "created_at")
    queued: list = []
    parked: dict[Problem, list] = {}
    for txn in candidates:
        problem = check(facts_for(txn, context), context.ledger)
        if problem is None:
            queued.append(txn.pk)
        else:
            parked.setdefault(problem, []).append(txn.pk)
    now = timezone.now()
    # The status filter again: a row a person edited or a worker claimed meanwhile is left alone.
    with db_transaction.atomic():
        moved = Transaction.objects.filter(pk__in=queued, status__in=CHECKED_STATUSES).update(
            status=Transaction.Status.QUEUED,
            status_changed_at=now,
            **Transaction.attention(),
        )
        for problem, ids in parked.items():
            rows = Transaction.objects.filter(pk__in=ids, status__in=CHECKED_STATUSES)
            # status_changed_at only moves for rows that were not already parked.
            rows.filter(~Q(status=Transaction.Status.NEEDS_ATTENTION)).update(status_changed_at=now)
            rows.update(
                status=Transaction.Status.NEEDS_ATTENTION,
                **Transaction.attention(problem.code, problem.words, problem.screen),
            )
    return PreflightResult(queued=moved, needs_attention=sum(len(v) for v in parked.values()))


def recheck_parked(company_id: int) -> PreflightResult:
    """After a person changed a mapping: parked rows that would now pass go back to ready
    (the next sync, by hand or automatic, sends them) and the rest get today's reason.

    Unlike `preflight_company` nothing is queued: fixing a mapping is not asking to sync.
    `queued` in the result counts the rows made ready.
    """
    company = Company.objects.get(pk=company_id)
    context = load_context(company)
    parked_rows = (
        Transaction.objects.filter(company=company, status=Transaction.Status.NEEDS_ATTENTION)
        .select_related("supplier", "from_bank_account", "to_bank_account")
        .order_by("issue_date", "created_at")
    )
    ready: list = []
    parked: dict[Problem, list] = {}
    for txn in parked_rows:
        problem = check(facts_for(txn, context), context.ledger)
        if problem is None:
            ready.append(txn.pk)
        else:
            parked.setdefault(problem, []).append(txn.pk)
    still = Transaction.objects.filter(status=Transaction.Status.NEEDS_ATTENTION)
    with db_transaction.atomic():
        moved = still.filter(pk__in=ready).update(
            status=Transaction.Status.READY,
            status_changed_at=timezone.now(),
            **Transaction.attention(),
        )
        for problem, ids in parked.items():
            still.filter(pk__in=ids).update(
                **Transaction.attention(problem.code, problem.words, problem.screen)
            )
    return PreflightResult(queued=moved, needs_attention=sum(len(v) for v in parked.values()))
