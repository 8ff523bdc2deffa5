"""Where a transaction lands in the ledger, and what stops it: the one place that answers.

The mapping pages ask "which mappings need attention?"; pre-flight asks "can this transaction
go, and if not, why?". Both get the same `Problem`: a stable code to store, the words a
customer reads, and the screen that fixes it. A mapping never breaks silently when a refresh
finds its account archived or gone: it starts answering with a Problem here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Prefetch

from integrations.companies.models import Company

from .models import (
    BankAccount,
    Card,
    CategoryMapping,
    CompanyConfiguration,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    Supplier,
    TaxRate,
    TrackingCategory,
)


class Screen(models.TextChoices):
    """The page a person opens to fix a problem (the delivery app maps these to URLs)."""

    CONNECTION = "connection", "Accounting connection"
    CATEGORIES = "categories", "Expense category mapping"
    CARDS = "cards", "Card mapping"
    DEFAULTS = "defaults", "Default bank account and contacts"


class ProblemCode(models.TextChoices):
    CATEGORY_UNMAPPED = "category_unmapped", "Category not mapped"
    ACCOUNT_ARCHIVED = "account_archived", "Account archived"
    ACCOUNT_MISSING = "account_missing", "Account gone from the ledger"
    ACCOUNT_NOT_VALID = "account_not_valid", "Account not valid for this transaction"
    TAX_RATE_MISSING = "tax_rate_missing", "Tax rate gone from the ledger"
    TAX_RATE_NOT_VALID = "tax_rate_not_valid", "Tax rate not valid for this transaction"
    TRACKING_MISSING = "tracking_missing", "Tracking category gone from the ledger"
    BANK_ACCOUNT_UNMAPPED = "bank_account_unmapped", "No bank account for the card"
    BANK_ACCOUNT_ARCHIVED = "bank_account_archived", "Bank account archived"
    BANK_ACCOUNT_MISSING = "bank_account_missing", "Bank account gone from the ledger"
    SUPPLIER_UNSET = "supplier_unset", "No default supplier"
    SUPPLIER_ARCHIVED = "supplier_archived", "Supplier archived"
    SUPPLIER_MISSING = "supplier_missing", "Supplier gone from the ledger"
    CUSTOMER_UNSET = "customer_unset", "No default customer"
    CUSTOMER_ARCHIVED = "customer_archived", "Customer archived"
    CUSTOMER_MISSING = "customer_missing", "Customer gone from the ledger"


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    message: str
    screen: Screen

    def __str__(self):
        return self.message


# --- Single records -----------------------------------------------------------------------------


def account_problem(
    account: LedgerAccount | None, valid_for_key: str | None = None
) -> Problem | None:
    """Whether `account` can take a transaction of `valid_for_key` (e.g.
    "expense-transactions.Payment"); None means it can. Without a key only its state counts."""
    if account is None:
        return Problem(
            ProblemCode.CATEGORY_UNMAPPED,
            "This expense category is not mapped to a ledger account yet.",
            Screen.CATEGORIES,
        )
    if account.is_missing:
        return Problem(
            ProblemCode.ACCOUNT_MISSING,
            f"The account “{account}” is no longer offered by the ledger (archived or deleted "
            "there). Map the category to another account.",
            Screen.CATEGORIES,
        )
    if account.is_archived:
        return Problem(
            ProblemCode.ACCOUNT_ARCHIVED,
            f"The account “{account}” is archived in the ledger. Map the category to another "
            "account, or restore it in the ledger and refresh.",
            Screen.CATEGORIES,
        )
    if valid_for_key and not account.is_valid_for(valid_for_key):
        return Problem(
            ProblemCode.ACCOUNT_NOT_VALID,
            f"The account “{account}” cannot take this kind of transaction "
            f"({_kind_words(valid_for_key)}). Map the category to an account that can.",
            Screen.CATEGORIES,
        )
    return None


def tax_rate_problem(tax_rate: TaxRate | None, transaction_type: str | None = None):
    """A tax rate is optional; one that is set must still exist and suit the transaction type
    (Payment, Refund, …) when the ledger says which types it suits."""
    if tax_rate is None:
        return None
    if tax_rate.is_missing:
        return Problem(
            ProblemCode.TAX_RATE_MISSING,
            f"The tax rate “{tax_rate.name}” is no longer offered by the ledger. "
            "Choose another tax rate for the category.",
            Screen.CATEGORIES,
        )
    types = tax_rate.valid_transaction_types
    if transaction_type and types and transaction_type not in types:
        return Problem(
            ProblemCode.TAX_RATE_NOT_VALID,
            f"The tax rate “{tax_rate.name}” cannot be used on a {transaction_type.lower()}. "
            "Choose another tax rate for the category.",
            Screen.CATEGORIES,
        )
    return None


def bank_account_problem(
    bank_account: BankAccount | None, *, screen: Screen = Screen.CARDS
) -> Problem | None:
    """Whether card spend can be paid from `bank_account` (a card's, or the default when
    `screen` is Screen.DEFAULTS)."""
    fix = "Map the card to" if screen == Screen.CARDS else "Choose"
    if bank_account is None:
        return Problem(
            ProblemCode.BANK_ACCOUNT_UNMAPPED,
            "The card is not mapped to a bank account, and there is no default bank account."
            if screen == Screen.CARDS
            else "No default bank account is chosen.",
            screen,
        )
    if bank_account.is_missing:
        return Problem(
            ProblemCode.BANK_ACCOUNT_MISSING,
            f"The bank account “{bank_account}” is no longer offered by the ledger. "
            f"{fix} another bank account.",
            screen,
        )
    if bank_account.is_archived:
        return Problem(
            ProblemCode.BANK_ACCOUNT_ARCHIVED,
            f"The bank account “{bank_account}” is archived in the ledger. "
            f"{fix} another bank account.",
            screen,
        )
    return None


def supplier_problem(supplier: Supplier | None) -> Problem | None:
    return _contact_problem(supplier, "supplier")


def customer_problem(customer: Customer | None) -> Problem | None:
    return _contact_problem(customer, "customer")


def _contact_problem(contact, kind: str) -> Problem | None:
    codes = {
        "supplier": (
            ProblemCode.SUPPLIER_UNSET,
            ProblemCode.SUPPLIER_MISSING,
            ProblemCode.SUPPLIER_ARCHIVED,
        ),
        "customer": (
            ProblemCode.CUSTOMER_UNSET,
            ProblemCode.CUSTOMER_MISSING,
            ProblemCode.CUSTOMER_ARCHIVED,
        ),
    }
    unset, missing, archived = codes[kind]
    if contact is None:
        return Problem(unset, f"No default {kind} is chosen.", Screen.DEFAULTS)
    if contact.is_missing:
        return Problem(
            missing,
            f"The default {kind} “{contact}” is no longer in the ledger. Choose another.",
            Screen.DEFAULTS,
        )
    if contact.is_archived:
        return Problem(
            archived,
            f"The default {kind} “{contact}” is archived in the ledger. Choose another.",
            Screen.DEFAULTS,
        )
    return None


# --- Mappings -----------------------------------------------------------------------------------


def category_problem(
    mapping: CategoryMapping | None,
    valid_for_key: str | None = None,
    transaction_type: str | None = None,
) -> Problem | None:
    """The first thing wrong with a category's mapping, or None when spend can land there.

    Prefetch `tracking_categories` (as `mappings_needing_attention` does) to keep a list of
    mappings to a fixed number of queries.
    """
    if mapping is None:
        return account_problem(None)
    problem = account_problem(mapping.account, valid_for_key) or tax_rate_problem(
        mapping.tax_rate, transaction_type
    )
    if problem:
        return problem
    gone = [t for t in mapping.tracking_categories.all() if not t.is_usable]
    if gone:
        names = ", ".join(f"“{t}”" for t in gone)
        return Problem(
            ProblemCode.TRACKING_MISSING,
            f"Tracking {names} no longer exists in the ledger. Choose other tracking for the "
            "category.",
            Screen.CATEGORIES,
        )
    return None


def bank_account_for_card(
    card: Card, configuration: CompanyConfiguration | None
) -> BankAccount | None:
    """The card's own bank account if it has one, else the company's default."""
    mapping = getattr(card, "mapping", None)
    if mapping is not None and mapping.bank_account_id:
        return mapping.bank_account
    return configuration.default_bank_account if configuration else None


def card_problem(card: Card, configuration: CompanyConfiguration | None) -> Problem | None:
    return bank_account_problem(bank_account_for_card(card, configuration))


def configuration_problem(configuration: CompanyConfiguration | None) -> Problem | None:
    """Codat needs all three defaults; the first one missing or unusable is the problem."""
    if configuration is None:
        return Problem(
            ProblemCode.BANK_ACCOUNT_UNMAPPED,
            "No default bank account, supplier and customer are chosen.",
            Screen.DEFAULTS,
        )
    problem = bank_account_problem(configuration.default_bank_account, screen=Screen.DEFAULTS)
    if problem is not None:
        return problem
    return supplier_problem(configuration.default_supplier) or customer_problem(
        configuration.default_customer
    )


def mappings_needing_attention(company: Company) -> list[tuple[object, Problem]]:
    """Every category, card and default of `company` that cannot take spend, with why.

    Four queries whatever the number of categories and cards.
    """
    configuration = (
        CompanyConfiguration.objects.select_related(
            "default_bank_account", "default_supplier", "default_customer"
        )
        .filter(company=company)
        .first()
    )
    found: list[tuple[object, Problem]] = []
    problem = configuration_problem(configuration)
    if problem:
        found.append((configuration or company, problem))
    categories = (
        ExpenseCategory.objects.filter(company=company, is_active=True)
        .select_related("mapping__account", "mapping__tax_rate")
        .prefetch_related(
            Prefetch("mapping__tracking_categories", queryset=TrackingCategory.objects.all())
        )
    )
    for category in categories:
        problem = category_problem(getattr(category, "mapping", None))
        if problem:
            found.append((category, problem))
    cards = Card.objects.filter(company=company, is_active=True).select_related(
        "mapping__bank_account"
    )
    for card in cards:
        problem = card_problem(card, configuration)
        if problem:
            found.append((card, problem))
    return found


def _kind_words(valid_for_key: str) -> str:
    family, _, kind = valid_for_key.partition(".")
    family = family.replace("-transactions", "").replace("-", " ")
    return f"{family} {kind.lower()}".strip()
