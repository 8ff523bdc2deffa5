"""The partner API's operations: companies, their categories and cards, transactions, receipts.

Each resolves the company from the path (a malformed or unknown id is 404, like any id that is
not there), validates with the schemas, calls the same services the portal calls, and answers
with the schemas. Lists page with an opaque cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.db.models import Count
from django.utils import timezone
from ninja import Query, Schema, Status

from integrations.companies import partner as companies
from integrations.companies.models import Company
from integrations.ledger import catalog
from integrations.ledger.models import Card, ExpenseCategory
from integrations.syncs.services import attach
from integrations.transactions import intake
from integrations.transactions.models import Receipt, Transaction

from .api import api
from .errors import ERRORS, ApiError, not_found
from .schemas import (
    REFERENCE,
    CamelSchema,
    CardIn,
    CardOut,
    CategoryIn,
    CategoryOut,
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyUpdate,
    ReceiptOut,
    TransactionBatchIn,
    TransactionBatchOut,
    TransactionIn,
    TransactionOut,
    TransactionPage,
    money,
)

MAX_PAGE = 200
Plain = Transaction.PlainStatus


def _actor(request) -> str:
    return request.auth.actor_label


# --- Ids and cursors -----------------------------------------------------------------------------


def _company(company_id: str) -> Company:
    if not company_id.isdigit() or len(company_id) > 18:
        raise not_found("company")
    company = Company.objects.filter(pk=int(company_id)).first()
    if company is None:
        raise not_found("company")
    return company


def _transactions(company: Company):
    return (
        Transaction.objects.filter(company=company)
        .with_receipt_state()
        .select_related("card", "category", "supplier", "from_bank_account", "to_bank_account")
    )


def _transaction(company: Company, transaction_id: str) -> Transaction:
    try:
        pk = uuid.UUID(transaction_id)
    except ValueError:
        raise not_found("transaction") from None
    # Looked up inside the company: another company's transaction id is simply not here.
    txn = _transactions(company).filter(pk=pk).first()
    if txn is None:
        raise not_found("transaction")
    return txn


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != 2:
        raise ApiError(400, "invalid_cursor", "The cursor is not one this API gave out.")
    return values


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = 50


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(
            422,
            "validation_error",
            "Some fields are not valid.",
            [{"field": "limit", "message": f"Between 1 and {MAX_PAGE}.", "index": None}],
        )
    return limit


# --- Companies -----------------------------------------------------------------------------------


def _company_out(company: Company, *, detail: bool = False) -> dict:
    out = {
        "id": company.pk,
        "name": company.name,
        "partner_reference": company.partner_reference,
        "created_at": company.created_at,
        "health": company.health.value,
    }
    if detail:
        connection = company.accounting_connection()
        out["connection"] = connection and {
            "status": connection.status,
            "platform_key": connection.platform_key,
            "platform_name": connection.platform_name,
        }
        rows = Transaction.objects.filter(company=company).with_receipt_state()
        counts = rows.aggregate(
            **{p: Count("pk", filter=Transaction.plain_status_filter(p)) for p in Plain.values}
        )
        out["transaction_counts"] = counts
    return out


@api.post("/companies", response={201: CompanyOut, **ERRORS}, by_alias=True, tags=["companies"])
def create_company(request, payload: CompanyIn):
    """Create a company; its owner is invited to the portal by email."""
    try:
        company = companies.create_for_partner(
            name=payload.name,
            owner_email=payload.owner_email,
            partner_reference=payload.partner_reference,
            actor_label=_actor(request),
        )
    except companies.ReferenceTaken as exc:
        raise _reference_taken(exc) from None
    return Status(201, _company_out(company, detail=True))


def _reference_taken(exc) -> ApiError:
    return ApiError(
        409,
        "reference_taken",
        str(exc),
        [{"field": "partnerReference", "message": str(exc), "index": None}],
    )


@api.get("/companies", response={200: CompanyPage, **ERRORS}, by_alias=True, tags=["companies"])
def list_companies(request, page: Query[PageQuery]):
    """Every company, oldest first."""
    limit = _limit(page.limit)
    rows = Company.objects.with_health().order_by("pk")
    if page.cursor:
        after = _decode(page.cursor)[1]
        if not isinstance(after, int):
            raise ApiError(400, "invalid_cursor", "The cursor is not one this API gave out.")
        rows = rows.filter(pk__gt=after)
    found = list(rows[: limit + 1])
    items = found[:limit]
    cursor = _encode(["c", items[-1].pk]) if len(found) > limit else None
    return {"items": [_company_out(c) for c in items], "next_cursor": cursor}


@api.get(
    "/companies/{company_id}",
    response={200: CompanyOut, **ERRORS},
    by_alias=True,
    tags=["companies"],
)
def get_company(request, company_id: str):
    """One company with its connection state, health and transaction counts by status."""
    return _company_out(_company(company_id), detail=True)


@api.patch(
    "/companies/{company_id}",
    response={200: CompanyOut, **ERRORS},
    by_alias=True,
    tags=["companies"],
)
def update_company(request, company_id: str, payload: CompanyUpdate):
    """Change the name or your reference (only the fields sent)."""
    company = _company(company_id)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        del changes["name"]
    try:
        companies.update_for_partner(company, actor_label=_actor(request), **changes)
    except companies.ReferenceTaken as exc:
        raise _reference_taken(exc) from None
    return _company_out(company, detail=True)


# --- Categories and cards ------------------------------------------------------------------------


def _category_out(c: ExpenseCategory) -> dict:
    return {"reference": c.code, "name": c.name, "active": c.is_active}


def _card_out(c: Card) -> dict:
    return {
        "reference": c.reference,
        "name": c.name,
        "cardholder": c.cardholder,
        "last_four": c.last_four,
        "currency": c.currency,
        "active": c.is_active,
    }


def _check_reference(reference: str, max_length: int) -> str:
    if len(reference) > max_length or not re.match(REFERENCE, reference):
        raise ApiError(
            422,
            "validation_error",
            "Some fields are not valid; nothing was stored.",
            [{"field": "reference", "message": f"1 to {max_length} characters.", "index": None}],
        )
    return reference


@api.get(
    "/companies/{company_id}/categories",
    response={200: list[CategoryOut], **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def list_categories(request, company_id: str):
    return [_category_out(c) for c in _company(company_id).expense_categories.order_by("code")]


@api.put(
    "/companies/{company_id}/categories/{reference}",
    response={200: CategoryOut, 201: CategoryOut, **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def put_category(request, company_id: str, reference: str, payload: CategoryIn):
    """Create or change the expense category with your reference."""
    company = _company(company_id)
    category, created = catalog.upsert_category(
        company,
        _check_reference(reference, 32),
        name=payload.name,
        active=payload.active,
        actor_label=_actor(request),
    )
    return Status(201 if created else 200, _category_out(category))


@api.post(
    "/companies/{company_id}/categories/{reference}/archive",
    response={200: CategoryOut, **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def archive_category(request, company_id: str, reference: str):
    """Take the category out of use (its spend keeps it)."""
    category = _company(company_id).expense_categories.filter(code=reference).first()
    if category is None:
        raise not_found("category")
    return _category_out(catalog.archive(category, actor_label=_actor(request)))


@api.get(
    "/companies/{company_id}/cards",
    response={200: list[CardOut], **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def list_cards(request, company_id: str):
    return [_card_out(c) for c in _company(company_id).cards.order_by("reference")]


@api.put(
    "/companies/{company_id}/cards/{reference}",
    response={200: CardOut, 201: CardOut, **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def put_card(request, company_id: str, reference: str, payload: CardIn):
    """Create or change the card with your reference."""
    company = _company(company_id)
    card, created = catalog.upsert_card(
        company,
        _check_reference(reference, 64),
        name=payload.name,
        cardholder=payload.cardholder,
        last_four=payload.last_four,
        currency=payload.currency,
        active=payload.active,
        actor_label=_actor(request),
    )
    return Status(201 if created else 200, _card_out(card))


@api.post(
    "/companies/{company_id}/cards/{reference}/archive",
    response={200: CardOut, **ERRORS},
    by_alias=True,
    tags=["categories and cards"],
)
def archive_card(request, company_id: str, reference: str):
    """Take the card out of use (its spend keeps it)."""
    card = _company(company_id).cards.filter(reference=reference).first()
    if card is None:
        raise not_found("card")
    return _card_out(catalog.archive(card, actor_label=_actor(request)))


# --- Transactions --------------------------------------------------------------------------------


def _spend(item: TransactionIn) -> intake.Spend:
    line = item.lines[0] if item.lines else None
    transfer = item.transfer
    return intake.Spend(
        reference=item.reference,
        kind=item.kind,
        expense_type=(item.type or "Payment") if item.kind == "expense" else "",
        issue_date=item.issue_date,
        due_date=item.due_date,
        currency=item.currency,
        currency_rate=Decimal(item.currency_rate) if item.currency_rate else None,
        merchant_name=item.merchant_name,
        card=item.card,
        category=item.category,
        supplier_id=item.supplier_id,
        net_amount=Decimal(line.net_amount) if line else Decimal(0),
        tax_amount=Decimal(line.tax_amount) if line else Decimal(0),
        from_bank_account_id=transfer.from_.bank_account_id if transfer else None,
        from_amount=Decimal(transfer.from_.amount) if transfer else None,
        to_bank_account_id=transfer.to.bank_account_id if transfer else None,
        to_amount=Decimal(transfer.to.amount) if transfer else None,
        notes=item.notes,
    )


def transaction_out(t: Transaction) -> dict:
    plain = t.plain_status
    transfer = None
    if t.kind == Transaction.Kind.TRANSFER:
        transfer = {
            "from_": {
                "bank_account_id": t.from_bank_account.codat_id if t.from_bank_account else None,
                "amount": money(t.from_amount),
            },
            "to": {
                "bank_account_id": t.to_bank_account.codat_id if t.to_bank_account else None,
                "amount": money(t.to_amount),
            },
        }
    reason = t.needs_attention_reason or (
        t.handled_reason if t.status == Transaction.Status.HANDLED else ""
    )
    return {
        "id": t.pk,
        "reference": t.partner_reference,
        "kind": t.kind,
        "type": t.expense_type or None,
        "issue_date": t.issue_date,
        "due_date": t.due_date,
        "currency": t.currency,
        "currency_rate": money(t.currency_rate),
        "merchant_name": t.merchant_name,
        "card": t.card.reference if t.card else None,
        "category": t.category.code if t.category else None,
        "supplier_id": t.supplier.codat_id if t.supplier else None,
        "lines": []
        if transfer
        else [{"net_amount": money(t.net_amount), "tax_amount": money(t.tax_amount)}],
        "transfer": transfer,
        "notes": t.notes,
        "status": plain.value,
        "status_label": plain.label,
        "ledger_record_id": t.ledger_record_id or None,
        "reason": reason or None,
        "reason_code": t.attention_code or None,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


def _intake_error(exc: intake.IntakeError) -> ApiError:
    status = 409 if isinstance(exc, intake.ReferenceConflict | intake.NotEditable) else 422
    where = exc.field
    if exc.index is not None:
        where = (
            f"transactions[{exc.index}].{exc.field}" if exc.field else f"transactions[{exc.index}]"
        )
    fields = [{"field": where or "body", "message": exc.message, "index": exc.index}]
    return ApiError(status, exc.code, exc.message, fields)


@api.post(
    "/companies/{company_id}/transactions",
    response={200: TransactionBatchOut, 201: TransactionBatchOut, **ERRORS},
    by_alias=True,
    tags=["transactions"],
)
def create_transactions(request, company_id: str, payload: TransactionBatchIn):
    """Create up to 500 transactions at once, all or none.

    Idempotent on `reference`: the same reference and body again answers with the stored
    transaction (200 when nothing was new); another body under a known reference is 409.
    """
    company = _company(company_id)
    try:
        outcomes = intake.create_batch(
            company, [_spend(t) for t in payload.transactions], actor_label=_actor(request)
        )
    except intake.IntakeError as exc:
        raise _intake_error(exc) from None
    by_pk = {
        t.pk: t for t in _transactions(company).filter(pk__in=[o.transaction.pk for o in outcomes])
    }
    created = len({o.transaction.pk for o in outcomes if o.created})
    body = {
        "transactions": [transaction_out(by_pk[o.transaction.pk]) for o in outcomes],
        "created": created,
    }
    return Status(201 if created else 200, body)


class TransactionFilters(CamelSchema):
    status: Plain | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    limit: int = 50


@api.get(
    "/companies/{company_id}/transactions",
    response={200: TransactionPage, **ERRORS},
    by_alias=True,
    tags=["transactions"],
)
def list_transactions(request, company_id: str, filters: Query[TransactionFilters]):
    """The company's transactions, oldest first, filtered by status, issue dates or last change."""
    company = _company(company_id)
    limit = _limit(filters.limit)
    rows = _transactions(company).order_by("created_at", "pk")
    if filters.status:
        rows = rows.filter(Transaction.plain_status_filter(filters.status))
    if filters.issued_from:
        rows = rows.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to:
        rows = rows.filter(issue_date__lte=filters.issued_to)
    if since := filters.updated_since:
        # A time without an offset is read as UTC (the answers' own times carry one).
        if timezone.is_naive(since):
            since = timezone.make_aware(since, UTC)
        rows = rows.filter(updated_at__gte=since)
    if filters.cursor:
        created, pk = _decode(filters.cursor)
        try:
            created, pk = datetime.fromisoformat(created), uuid.UUID(pk)
            if timezone.is_naive(created):
                raise ValueError("a cursor's time has an offset")
        except (TypeError, ValueError, AttributeError):
            raise ApiError(
                400, "invalid_cursor", "The cursor is not one this API gave out."
            ) from None
        rows = rows.filter(created_at__gte=created).exclude(created_at=created, pk__lte=pk)
    found = list(rows[: limit + 1])
    items = found[:limit]
    cursor = None
    if len(found) > limit:
        cursor = _encode([items[-1].created_at.isoformat(), str(items[-1].pk)])
    return {"items": [transaction_out(t) for t in items], "next_cursor": cursor}


@api.get(
    "/companies/{company_id}/transactions/{transaction_id}",
    response={200: TransactionOut, **ERRORS},
    by_alias=True,
    tags=["transactions"],
)
def get_transaction(request, company_id: str, transaction_id: str):
    """One transaction: its status in the portal's words, the ledger record id once synced,
    and the reason when it needs attention or failed."""
    return transaction_out(_transaction(_company(company_id), transaction_id))


@api.put(
    "/companies/{company_id}/transactions/{transaction_id}",
    response={200: TransactionOut, **ERRORS},
    by_alias=True,
    tags=["transactions"],
)
def update_transaction(request, company_id: str, transaction_id: str, payload: TransactionIn):
    """Replace a transaction's details (same reference and kind). Before it is synced the
    change is saved and synced; in the ledger it goes as an update where the platform takes
    one; otherwise 409 says why."""
    company = _company(company_id)
    txn = _transaction(company, transaction_id)
    if txn.partner_reference and payload.reference != txn.partner_reference:
        raise ApiError(
            422,
            "validation_error",
            "The reference of a transaction cannot change.",
            [{"field": "reference", "message": "Must be the stored reference.", "index": None}],
        )
    spend = _spend(payload)
    if spend.body_hash != txn.partner_body_hash:
        try:
            intake.update(txn, spend, actor_label=_actor(request))
        except intake.IntakeError as exc:
            raise _intake_error(exc) from None
    return transaction_out(_transaction(company, transaction_id))


# --- Receipts ------------------------------------------------------------------------------------


def _receipt_out(r: Receipt) -> dict:
    return {
        "id": r.pk,
        "filename": r.original_filename,
        "size": r.size,
        "content_type": r.content_type,
        "upload_state": r.upload_status,
        "error": r.error or None,
        "created_at": r.created_at,
        "uploaded_at": r.uploaded_at,
    }


@api.get(
    "/companies/{company_id}/transactions/{transaction_id}/receipts",
    response={200: list[ReceiptOut], **ERRORS},
    by_alias=True,
    tags=["receipts"],
)
def list_receipts(request, company_id: str, transaction_id: str):
    """The transaction's receipts with their upload state."""
    txn = _transaction(_company(company_id), transaction_id)
    return [_receipt_out(r) for r in txn.receipts.order_by("created_at", "pk")]


class _CappedUpload(FileUploadHandler):
    """Stops reading the upload as soon as it passes the platform's limit, so an oversized
    file is refused on arrival instead of being written to disk whole."""

    def __init__(self, limit: int, request=None):
        super().__init__(request)
        self.limit, self.received, self.exceeded = limit, 0, False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


# Multipart framing around the file (boundaries, part headers) on top of the file's own bytes.
MULTIPART_OVERHEAD = 64 * 1024

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@api.post(
    "/companies/{company_id}/transactions/{transaction_id}/receipts",
    response={201: ReceiptOut, **ERRORS},
    by_alias=True,
    tags=["receipts"],
    openapi_extra=UPLOAD_BODY,
)
def upload_receipt(request, company_id: str, transaction_id: str):
    """Attach a receipt (multipart, part `file`). Its size and real type are checked against
    the accounting software's limits as it arrives; it goes to the ledger once the
    transaction is there."""
    company = _company(company_id)
    txn = _transaction(company, transaction_id)
    platform = attach.platform_of(company)
    limits = attach.limits_for(platform, txn)
    if not limits.accepted:
        raise ApiError(422, "receipts_not_accepted", limits.reason)
    capped = None
    if limits.max_bytes is not None:
        too_big = ApiError(
            413,
            "file_too_large",
            f"{platform.name} takes receipts up to {limits.max_label}.",
            [{"field": "file", "message": f"Up to {limits.max_label}.", "index": None}],
        )
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limits.max_bytes + MULTIPART_OVERHEAD:
            raise too_big  # refused before a byte of the body is read
        capped = _CappedUpload(limits.max_bytes, request)
        request.upload_handlers = [capped, TemporaryFileUploadHandler(request)]
    upload = request.FILES.get("file")
    if capped is not None and capped.exceeded:
        raise too_big
    if upload is None:
        raise ApiError(
            422,
            "validation_error",
            "Send the receipt as the multipart part `file`.",
            [{"field": "file", "message": "Required.", "index": None}],
        )
    problem, file_type = attach.check_upload(platform, txn, upload)
    if problem is not None:
        raise ApiError(
            422, "file_refused", problem, [{"field": "file", "message": problem, "index": None}]
        )
    receipt = attach.attach_receipt(txn, upload, file_type, actor_label=_actor(request))
    return Status(201, _receipt_out(receipt))
