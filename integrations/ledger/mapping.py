"""Choosing where spend lands: what the mapping pages offer, suggest and save.

Three kinds of function live here:
- pure ones over plain data (which accounts and tax rates a transaction type may use, which
  account to suggest for a category), unit-tested without a database;
- the savers, one per thing a person maps (a category, several categories at once, the cards,
  the company's defaults). Each records who changed what in the audit trail and, when it
  changed anything, re-checks the transactions parked for a mapping problem so a fix shows at
  once;
- the company defaults, which Codat also holds: they are set there first, and saved here only
  once Codat has accepted them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

from integrations.codat.errors import CodatError
from integrations.codat.factory import codat_client
from integrations.companies.models import AuditEvent, Company

from .models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    Supplier,
    TaxRate,
    TrackingCategory,
)

# Categories are mapped once for all their spend; card payments are by far most of it, so the
# category choosers offer what Codat accepts for a card payment. Pre-flight still checks each
# refund or reward against its own type and says so if the account cannot take it.
CARD_SPEND = "expense-transactions.Payment"
TRANSACTION_TYPES = {
    "expense-transactions.Payment": "Payment",
    "expense-transactions.Refund": "Refund",
    "expense-transactions.Reward": "Reward",
    "expense-transactions.Chargeback": "Chargeback",
}


class MappingError(Exception):
    """Why a mapping could not be saved, in words for the person who tried."""


# --- What may be chosen (pure) -------------------------------------------------------------------


def accounts_for(accounts: Iterable[LedgerAccount], valid_for_key: str = CARD_SPEND) -> list:
    """The accounts a category may be mapped to for `valid_for_key` spend: usable in the ledger
    (not archived, still offered), not a bank account, and valid for that transaction type."""
    return [
        a
        for a in accounts
        if a.is_usable and not a.is_bank_account and a.is_valid_for(valid_for_key)
    ]


def tax_rates_for(rates: Iterable[TaxRate], valid_for_key: str = CARD_SPEND) -> list:
    """Tax rates still in the ledger whose valid types (when the ledger says) include the
    transaction type of `valid_for_key`."""
    kind = TRANSACTION_TYPES.get(valid_for_key)
    return [
        r
        for r in rates
        if r.is_usable
        and (not kind or not r.valid_transaction_types or kind in r.valid_transaction_types)
    ]


def tracking_for(categories: Iterable[TrackingCategory]) -> list:
    """Tracking values a line can carry: the leaves of the tree (a parent is only a heading)."""
    return [t for t in categories if t.is_usable and not t.has_children]


# --- Suggestions (pure) --------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about where spend belongs.
_STOP = frozenset(
    [
        "and",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "a",
        "an",
        "other",
        "others",
        "misc",
        "miscellaneous",
        "general",
        "expense",
        "expenses",
        "cost",
        "costs",
        "fees",
        "fee",
        "spend",
    ]
)
# A few words partner categories and charts of accounts spell differently for the same thing.
_SAME = {
    "taxi": "travel",
    "taxis": "travel",
    "flight": "travel",
    "flights": "travel",
    "airfare": "travel",
    "train": "travel",
    "rail": "travel",
    "hotel": "accommodation",
    "hotels": "accommodation",
    "lodging": "accommodation",
    "meals": "meal",
    "food": "meal",
    "restaurant": "meal",
    "restaurants": "meal",
    "dining": "meal",
    "entertaining": "entertainment",
    "software": "subscription",
    "saas": "subscription",
    "subscriptions": "subscription",
    "telephone": "phone",
    "mobile": "phone",
    "telecom": "phone",
    "internet": "phone",
    "advertising": "marketing",
    "ads": "marketing",
    "stationery": "office",
    "supplies": "office",
    "postage": "office",
    "fuel": "motor",
    "petrol": "motor",
    "mileage": "motor",
    "vehicle": "motor",
    "parking": "motor",
    "training": "education",
    "courses": "education",
    "conferences": "education",
    "legal": "professional",
    "accounting": "professional",
    "consulting": "professional",
}


def words(text: str) -> frozenset[str]:
    """The meaningful words of a name, folded to one spelling per idea."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or word.isdigit():
            continue
        word = _SAME.get(word, word)
        if len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        out.add(word)
    return frozenset(out)


@dataclass(frozen=True)
class Suggestion:
    account_id: int
    reason: str


def suggest_account(
    category_name: str,
    accounts: Sequence[LedgerAccount],
    mapped: Iterable[tuple[str, int]] = (),
) -> Suggestion | None:
    """The account most likely right for a category, or None when nothing stands out.

    `accounts` are the ones that may be chosen; `mapped` is (category name, account id) of
    categories this company already mapped. How similar categories were mapped wins over a
    match of names, because it is what this bookkeeper decided before.
    """
    wanted = words(category_name)
    if not wanted:
        return None
    allowed = {a.pk: a for a in accounts}
    votes: Counter = Counter()
    for name, account_id in mapped:
        if account_id in allowed and name.strip().lower() != category_name.strip().lower():
            votes[account_id] += len(wanted & words(name))
    votes = +votes  # only positive counts
    if votes:
        (account_id, _), *_ = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        return Suggestion(account_id, "how similar categories are mapped")
    best, best_score = None, 0.0
    for account in accounts:
        have = words(account.name)
        if not have:
            continue
        common = wanted & have
        if not common:
            continue
        score = len(common) / len(wanted | have)
        if score > best_score:
            best, best_score = account, score
    if best is None:
        return None
    return Suggestion(best.pk, "name match")


# --- Saving --------------------------------------------------------------------------------------

_CATEGORY_FIELDS = ("account", "tax_rate", "tracking_categories")


def save_category_mapping(
    category: ExpenseCategory,
    *,
    account: LedgerAccount | None,
    tax_rate: TaxRate | None,
    tracking: Iterable[TrackingCategory] = (),
    actor=None,
) -> CategoryMapping:
    """Map one category; the caller has checked every record belongs to its company."""
    with transaction.atomic():
        mapping, _ = CategoryMapping.objects.get_or_create(category=category)
        before = AuditEvent.snapshot(mapping, _CATEGORY_FIELDS)
        mapping.account = account
        mapping.tax_rate = tax_rate
        mapping.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        mapping.full_clean(exclude=["category"])
        mapping.save()
        mapping.tracking_categories.set(list(tracking))
        after = AuditEvent.snapshot(mapping, _CATEGORY_FIELDS)
        if before != after:
            AuditEvent.record(
                actor,
                "mapping.category",
                obj=mapping,
                company=category.company,
                label=category.name,
                before=before,
                after=after,
            )
            recheck_parked(category.company)
    return mapping


def apply_to_categories(
    company: Company,
    categories: Iterable[ExpenseCategory],
    *,
    account: LedgerAccount | None = None,
    tax_rate: TaxRate | None = None,
    actor=None,
) -> int:
    """Set the account and/or tax rate of several categories at once (what is None is left as
    it is). One audit event per category changed; one re-check at the end. Returns how many
    categories changed."""
    changed = 0
    with transaction.atomic():
        for category in categories:
            mapping, _ = CategoryMapping.objects.get_or_create(category=category)
            before = AuditEvent.snapshot(mapping, ("account", "tax_rate"))
            if account is not None:
                mapping.account = account
            if tax_rate is not None:
                mapping.tax_rate = tax_rate
            after = AuditEvent.snapshot(mapping, ("account", "tax_rate"))
            if before == after:
                continue
            mapping.updated_by = actor if getattr(actor, "is_authenticated", False) else None
            mapping.save()
            AuditEvent.record(
                actor,
                "mapping.category",
                obj=mapping,
                company=company,
                label=category.name,
                before=before,
                after=after,
            )
            changed += 1
        if changed:
            recheck_parked(company)
    return changed


def save_card_mappings(
    company: Company, wanted: dict[Card, BankAccount | None], *, actor=None
) -> int:
    """Point each card at its bank account (None: the company's default). Returns how many
    cards changed."""
    changed = 0
    with transaction.atomic():
        current = {m.card_id: m for m in CardMapping.objects.filter(card__company=company)}
        for card, bank_account in wanted.items():
            mapping = current.get(card.pk) or CardMapping(card=card)
            if mapping.pk and mapping.bank_account_id == (
                bank_account.pk if bank_account else None
            ):
                continue
            if not mapping.pk and bank_account is None:
                continue
            before = AuditEvent.snapshot(mapping, ("bank_account",))
            mapping.bank_account = bank_account
            mapping.updated_by = actor if getattr(actor, "is_authenticated", False) else None
            mapping.save()
            AuditEvent.record(
                actor,
                "mapping.card",
                obj=mapping,
                company=company,
                label=str(card),
                before=before,
                after=AuditEvent.snapshot(mapping, ("bank_account",)),
            )
            changed += 1
        if changed:
            recheck_parked(company)
    return changed


_DEFAULT_FIELDS = ("default_bank_account", "default_supplier", "default_customer")


def save_defaults(
    company: Company,
    *,
    bank_account: BankAccount | None,
    supplier: Supplier | None,
    customer: Customer | None,
    actor=None,
) -> CompanyConfiguration:
    """The company's default bank account, supplier and customer.

    Codat applies them to every transaction that names none, so with all three chosen they are
    set at Codat first (its set-configuration call takes the three together) and stored here
    only once Codat accepted them: the portal never shows defaults Codat does not have.
    Raises MappingError with Codat's reason when it refuses.
    """
    configuration, _ = CompanyConfiguration.objects.get_or_create(company=company)
    before = AuditEvent.snapshot(configuration, _DEFAULT_FIELDS)
    configuration.default_bank_account = bank_account
    configuration.default_supplier = supplier
    configuration.default_customer = customer
    after = AuditEvent.snapshot(configuration, _DEFAULT_FIELDS)
    if before == after:
        return configuration
    if configuration.is_complete and company.codat_company_id:
        try:
            with codat_client(interactive=True) as client:
                client.set_company_configuration(
                    str(company.codat_company_id),
                    {
                        "bankAccount": {"id": bank_account.codat_id},
                        "supplier": {"id": supplier.codat_id},
                        "customer": {"id": customer.codat_id},
                    },
                )
        except CodatError as exc:
            raise MappingError(
                "Codat did not accept these defaults, so nothing was changed: "
                f"{exc.message or exc.error or 'no reason given'}"
            ) from exc
    with transaction.atomic():
        configuration.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        configuration.save()
        AuditEvent.record(
            actor,
            "mapping.defaults",
            obj=configuration,
            company=company,
            label="Default bank account and contacts",
            before=before,
            after=after,
        )
        recheck_parked(company)
    return configuration


def recheck_parked(company: Company):
    """Run pre-flight again over the company's parked transactions, here in the request (it
    reads only our own cache), so the page the person is on already shows the fix working."""
    from integrations.syncs.services.preflight import recheck_parked as recheck

    return recheck(company.pk)
