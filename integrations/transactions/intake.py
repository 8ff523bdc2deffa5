"""Spend arriving from the partner's systems: batches in, idempotent on the partner's reference.

A batch is stored whole or not at all. Each item carries the partner's reference (unique per
company) and a hash of its body: sending the same reference and body again answers with the
transaction already stored (a retry after a lost response); a different body under a known
reference is a conflict, never a silent overwrite. Two requests racing with the same reference
meet at the unique constraint; the loser rolls back and is answered as a replay or a conflict.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError
from django.db import transaction as db
from django.utils import timezone

from integrations.companies.models import AuditEvent, Company
from integrations.ledger.models import BankAccount, Card, ExpenseCategory, Supplier

from .models import Transaction

MAX_BATCH = 500
Kind = Transaction.Kind


@dataclass
class Spend:
    """One transaction as the partner describes it (references, not our ids)."""

    reference: str
    kind: str
    issue_date: date
    currency: str
    expense_type: str = ""
    due_date: date | None = None
    currency_rate: Decimal | None = None
    merchant_name: str = ""
    card: str | None = None  # the card's partner reference
    category: str | None = None  # the category's code
    supplier_id: str | None = None  # the ledger's supplier id (employee on a claim)
    net_amount: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    from_bank_account_id: str | None = None
    from_amount: Decimal | None = None
    to_bank_account_id: str | None = None
    to_amount: Decimal | None = None
    notes: str = ""

    @property
    def body_hash(self) -> str:
        """The same for two spends that mean the same ("12.5" and "12.50" alike)."""
        values = {
            name: f"{value.normalize():f}" if isinstance(value, Decimal) else value
            for name, value in asdict(self).items()
        }
        text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class IntakeError(Exception):
    """An item the batch cannot take; `index` and `field` say which and where."""

    code = "invalid"

    def __init__(self, message: str, *, index: int | None = None, field: str = ""):
        super().__init__(message)
        self.message, self.index, self.field = message, index, field


class ReferenceConflict(IntakeError):
    code = "reference_conflict"


class NotEditable(IntakeError):
    code = "not_editable"


@dataclass
class Outcome:
    transaction: Transaction
    created: bool


def create_batch(company: Company, spends: list[Spend], *, actor_label: str = "") -> list[Outcome]:
    """Store the batch (all or nothing) and answer one outcome per item, in order."""
    if len(spends) > MAX_BATCH:
        raise IntakeError(f"At most {MAX_BATCH} transactions per batch.", field="transactions")
    try:
        return _create_batch(company, spends, actor_label=actor_label)
    except IntegrityError:
        # A concurrent request stored one of these references first. It has committed, so
        # running again sees it and answers replay or conflict like any repeat.
        return _create_batch(company, spends, actor_label=actor_label)


def _create_batch(company, spends, *, actor_label) -> list[Outcome]:
    refs = _Refs(company, spends)
    seen: dict[str, tuple[int, str]] = {}
    existing = stored_by_reference(company, {s.reference for s in spends})
    outcomes: list[Outcome | None] = []
    new: list[Transaction] = []
    for index, spend in enumerate(spends):
        digest = spend.body_hash
        if spend.reference in seen:
            first, first_digest = seen[spend.reference]
            if first_digest != digest:
                raise ReferenceConflict(
                    f"The reference {spend.reference!r} is also item {first}, with another body.",
                    index=index,
                    field="reference",
                )
            outcomes.append(outcomes[first])
            continue
        seen[spend.reference] = (index, digest)
        stored = existing.get(spend.reference)
        if stored is not None:
            if stored.partner_body_hash != digest:
                raise ReferenceConflict(
                    f"A transaction with the reference {spend.reference!r} exists with another "
                    "body; change it with an update, or use a new reference.",
                    index=index,
                    field="reference",
                )
            outcomes.append(Outcome(stored, False))
            continue
        txn = Transaction(company=company, status=Transaction.Status.READY)
        _apply(txn, spend, refs, index)
        txn.partner_reference = spend.reference
        txn.partner_body_hash = digest
        new.append(txn)
        outcomes.append(Outcome(txn, True))
    with db.atomic():
        Transaction.objects.bulk_create(new)
        if new:
            AuditEvent.record(
                None,
                "transactions.intake",
                obj=company,
                actor_label=actor_label,
                label=f"{len(new)} transactions",
                after={"created": len(new), "references": [t.partner_reference for t in new][:50]},
            )
            _start_sync(company)
    return outcomes


def stored_by_reference(company: Company, references: set[str]) -> dict[str, Transaction]:
    return {
        t.partner_reference: t
        for t in Transaction.objects.filter(company=company, partner_reference__in=references)
    }


def _start_sync(company: Company) -> None:
    # New spend goes the way the portal's spend goes: pre-flight, then the push, in the worker.
    from integrations.syncs import tasks
    from integrations.syncs.services.push import can_push

    if can_push(company):
        tasks.enqueue_preflight(company.pk)


class _Refs:
    """The partner's references in a batch resolved to rows, in one query per kind."""

    def __init__(self, company: Company, spends: list[Spend]):
        def wanted(attr):
            return {getattr(s, attr) for s in spends if getattr(s, attr)}

        self.cards = {
            c.reference: c
            for c in Card.objects.filter(company=company, reference__in=wanted("card"))
        }
        self.categories = {
            c.code: c
            for c in ExpenseCategory.objects.filter(company=company, code__in=wanted("category"))
        }
        self.suppliers = {
            s.codat_id: s
            for s in Supplier.objects.filter(company=company, codat_id__in=wanted("supplier_id"))
        }
        banks = wanted("from_bank_account_id") | wanted("to_bank_account_id")
        self.banks = {
            b.codat_id: b for b in BankAccount.objects.filter(company=company, codat_id__in=banks)
        }

    def get(self, table: str, key, index: int | None, field_name: str, noun: str):
        if not key:
            return None
        found = getattr(self, table).get(key)
        if found is None:
            raise IntakeError(f"No {noun} {key!r} in this company.", index=index, field=field_name)
        if getattr(found, "is_active", True) is False:
            raise IntakeError(f"The {noun} {key!r} is archived.", index=index, field=field_name)
        return found


def _apply(txn: Transaction, spend: Spend, refs: _Refs, index: int | None) -> None:
    """Copy a spend's fields onto the row, resolving its references (IntakeError if unknown)."""
    transfer = spend.kind == Kind.TRANSFER
    txn.kind = spend.kind
    txn.expense_type = (spend.expense_type or "Payment") if spend.kind == Kind.EXPENSE else ""
    txn.issue_date = spend.issue_date
    txn.due_date = spend.due_date
    if spend.due_date and spend.due_date < spend.issue_date:
        raise IntakeError("The due date is before the issue date.", index=index, field="dueDate")
    txn.currency = spend.currency
    txn.currency_rate = spend.currency_rate
    txn.merchant_name = spend.merchant_name
    txn.notes = spend.notes
    txn.card = refs.get("cards", spend.card, index, "card", "card")
    txn.category = refs.get("categories", spend.category, index, "category", "category")
    txn.supplier = refs.get("suppliers", spend.supplier_id, index, "supplierId", "supplier")
    txn.net_amount = Decimal(0) if transfer else spend.net_amount
    txn.tax_amount = Decimal(0) if transfer else spend.tax_amount
    if transfer:
        txn.from_bank_account = refs.get(
            "banks",
            spend.from_bank_account_id,
            index,
            "transfer.from.bankAccountId",
            "bank account",
        )
        txn.to_bank_account = refs.get(
            "banks", spend.to_bank_account_id, index, "transfer.to.bankAccountId", "bank account"
        )
        txn.from_amount, txn.to_amount = spend.from_amount, spend.to_amount
    else:
        txn.from_bank_account = txn.to_bank_account = None
        txn.from_amount = txn.to_amount = None


# --- Changing one transaction --------------------------------------------------------------------


def update(txn: Transaction, spend: Spend, *, actor_label: str = "") -> Transaction:
    """Replace a transaction's details with `spend` (its reference and kind stay).

    Before it is synced the change is simply saved and the row is ready again. In the ledger
    already, it goes as Codat's update where the platform takes one (edits.submit_edit); on the
    way to Codat (queued, sending, syncing) or settled by hand it cannot change.
    """
    from integrations.syncs.services import edits, platforms

    if spend.kind != txn.kind:
        raise NotEditable("The kind of a transaction cannot change.", field="kind")
    in_ledger = bool(txn.ledger_record_id)
    if txn.status in Transaction.IN_FLIGHT_STATUSES:
        raise NotEditable(
            "The transaction is on its way to the ledger; change it once the sync has finished."
        )
    if txn.status == Transaction.Status.HANDLED:
        raise NotEditable("The transaction was handled outside the portal.")
    if in_ledger:
        kind_ok = platforms.update_operation(spend.kind, spend.expense_type or "Payment")
        connection = txn.company.accounting_connection()
        platform = platforms.get_platform(connection.platform_key) if connection else None
        if kind_ok is None or platform is None or kind_ok not in platform.supports:
            raise NotEditable(
                "The accounting software does not take changes to this transaction through "
                "Codat; change it in the accounting software itself."
            )
    before = AuditEvent.snapshot(txn, EDIT_FIELDS)
    _apply(txn, spend, _Refs(txn.company, [spend]), None)
    txn.partner_body_hash = spend.body_hash
    with db.atomic():
        if in_ledger:
            txn.save()
            edits.submit_edit(txn.pk)
        else:
            txn.status = Transaction.Status.READY
            txn.status_changed_at = timezone.now()
            for name, value in Transaction.attention().items():
                setattr(txn, name, value)
            txn.save()
        AuditEvent.record(
            None,
            "transaction.change",
            obj=txn,
            actor_label=actor_label,
            before=before,
            after=AuditEvent.snapshot(txn, EDIT_FIELDS),
        )
        _start_sync(txn.company)
    txn.refresh_from_db()
    return txn


EDIT_FIELDS = [
    "expense_type",
    "issue_date",
    "due_date",
    "currency",
    "currency_rate",
    "merchant_name",
    "card",
    "category",
    "supplier",
    "net_amount",
    "tax_amount",
    "from_bank_account",
    "from_amount",
    "to_bank_account",
    "to_amount",
    "notes",
]
