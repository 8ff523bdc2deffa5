"""The rules a write of expense transactions passes before it starts a sync, the lookups of
syncs and their transactions, and attachments to synced transactions.

The sync itself is processed later by the engine; everything here answers within the request.
"""

import uuid

from . import engine, rules
from .errors import EXPENSE_SERVICE, ApiError, invalid_field
from .models import SandboxAttachment, SandboxCompany, SandboxSync, SyncTransaction
from .platforms import get_platform, support_error

# The attachment table's column widths.
MAX_FILENAME_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 100

# The platform attachment rules' name for each kind of sync.
ATTACHMENT_KIND = {
    SandboxSync.Kind.EXPENSE: "expense",
    SandboxSync.Kind.EXPENSE_UPDATE: "expense",
    SandboxSync.Kind.REIMBURSABLE: "reimbursable",
    SandboxSync.Kind.REIMBURSABLE_UPDATE: "reimbursable",
    SandboxSync.Kind.TRANSFER: "transfer",
    SandboxSync.Kind.ADJUSTMENT: "adjustment",
}


# --- Transaction ids ------------------------------------------------------------------------


def stored_transaction_id(value: str) -> str:
    """A transaction id as it is stored and compared: the canonical lower-case UUID, so any
    spelling of the same UUID (upper case, braces, no hyphens) finds the same transaction.
    A value that is no UUID is kept (lower-cased); it can only ever match nothing."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value.lower()


def parse_transaction_id(value: str) -> str:
    """A transaction id from a write's path, which must be a UUID."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid_field(
            "transactionId",
            "The transactionId must be a valid UUID.",
            "Guid",
            service=EXPENSE_SERVICE,
        ) from None


# --- Lookups --------------------------------------------------------------------------------


def get_sync(company: SandboxCompany, sync_id) -> SandboxSync:
    not_found = ApiError(404, f"Sync {sync_id} not found", service=EXPENSE_SERVICE)
    try:
        key = uuid.UUID(str(sync_id))
    except ValueError:
        raise not_found from None
    sync = company.syncs.filter(pk=key).first()
    if sync is None:
        raise not_found
    return sync


def get_transaction(sync: SandboxSync, transaction_id: str) -> SyncTransaction:
    txn = sync.transactions.filter(transaction_id=stored_transaction_id(transaction_id)).first()
    if txn is None:
        raise ApiError(404, f"Transaction {transaction_id} not found", service=EXPENSE_SERVICE)
    return txn


def completed_original(company, transaction_id: str, kinds) -> SyncTransaction | None:
    """The completed transaction of one of `kinds` that this id last wrote."""
    return (
        SyncTransaction.objects.filter(
            company=company,
            transaction_id=transaction_id,
            kind__in=kinds,
            status=SyncTransaction.Status.COMPLETED,
        )
        .order_by("-id")
        .first()
    )


# --- Starting syncs -------------------------------------------------------------------------


def create_transactions(
    company: SandboxCompany, kind: str, operation: str, items: list[dict]
) -> SandboxSync:
    """A POST of new transactions (expenses, reimbursables, adjustments): one sync for all."""
    _require_platform_support(company, operation)
    ids = [stored_transaction_id(item["id"]) for item in items]
    _refuse_processed(company, ids)
    return engine.create_sync(company, kind, list(zip(ids, items, strict=True)))


def update_transaction(
    company: SandboxCompany, transaction_id: str, body: dict, *, operation: str, kinds, label: str
) -> SandboxSync:
    """A PUT of one already-synced transaction: it must exist as completed, and starts a sync.

    `kinds` are the sync kinds that count as "already synced": (create kind, update kind); the
    new sync is of the update kind.
    """
    _require_platform_support(company, operation)
    if completed_original(company, transaction_id, kinds) is None:
        raise ApiError(
            404, f"No synced {label} with id {transaction_id} was found.", service=EXPENSE_SERVICE
        )
    _refuse_pending(company, transaction_id)
    return engine.create_sync(company, kinds[-1], [(transaction_id, body)])


def put_transfer(company: SandboxCompany, transaction_id: str, body: dict) -> SandboxSync:
    """PUT creates the transfer, or updates it when this id has already been written."""
    existing = completed_original(company, transaction_id, (SandboxSync.Kind.TRANSFER,))
    if (
        existing is None
        and SyncTransaction.objects.filter(
            company=company, transaction_id=transaction_id, status=SyncTransaction.Status.COMPLETED
        ).exists()
    ):
        raise _previously_processed([transaction_id])
    _require_platform_support(company, "transfer_update" if existing else "transfer_create")
    _refuse_pending(company, transaction_id)
    return engine.create_sync(company, SandboxSync.Kind.TRANSFER, [(transaction_id, body)])


def _require_platform_support(company: SandboxCompany, operation: str) -> None:
    conn = company.accounting_connection()
    if conn is None:
        raise ApiError(
            400,
            f"Company {company.id} has no accounting connection.",
            service=EXPENSE_SERVICE,
        )
    problem = support_error(get_platform(conn.platform_key), operation)
    if problem is not None:
        status, message = problem
        raise ApiError(status, message, service=EXPENSE_SERVICE)


def _refuse_processed(company: SandboxCompany, ids: list[str]) -> None:
    """A completed (or still pending) transaction id is never synced twice; a failed one may be
    sent again. Repeats inside one request are refused the same way."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    taken = set(
        SyncTransaction.objects.filter(
            company=company,
            transaction_id__in=ids,
            status__in=(SyncTransaction.Status.COMPLETED, SyncTransaction.Status.PENDING),
        ).values_list("transaction_id", flat=True)
    )
    clash = [i for i in dict.fromkeys(ids) if i in taken or i in repeated]
    if clash:
        raise _previously_processed(clash)


def _previously_processed(ids: list[str]) -> ApiError:
    return ApiError(
        400,
        f"One or more transactions have previously been processed: {', '.join(ids)}",
        service=EXPENSE_SERVICE,
    )


def _refuse_pending(company: SandboxCompany, transaction_id: str) -> None:
    if SyncTransaction.objects.filter(
        company=company, transaction_id=transaction_id, status=SyncTransaction.Status.PENDING
    ).exists():
        raise ApiError(
            400,
            f"Transaction {transaction_id} is already being processed by another sync.",
            service=EXPENSE_SERVICE,
        )


# --- Attachments ----------------------------------------------------------------------------


def attach(company: SandboxCompany, sync: SandboxSync, txn: SyncTransaction, upload):
    """Store an uploaded file on a completed transaction, if the platform takes it."""
    if txn.status != SyncTransaction.Status.COMPLETED:
        raise ApiError(
            400,
            f"Transaction {txn.transaction_id} has not been synced successfully; attachments "
            "can only be uploaded to completed transactions.",
            service=EXPENSE_SERVICE,
        )
    conn = company.accounting_connection()
    platform = get_platform(conn.platform_key) if conn else None
    if platform is None:
        raise ApiError(400, "The company has no accounting connection.", service=EXPENSE_SERVICE)
    original = (
        completed_original(company, txn.transaction_id, (SandboxSync.Kind.EXPENSE,))
        if sync.kind == SandboxSync.Kind.EXPENSE_UPDATE
        else txn
    )
    expense_type = (original.payload if original else txn.payload).get("type")
    problem = rules.attachment_error(
        platform,
        ATTACHMENT_KIND[sync.kind],
        expense_type,
        upload.name,
        upload.content_type,
        upload.size,
    )
    if problem:
        raise ApiError(400, problem, service=EXPENSE_SERVICE)
    content_type = upload.content_type or "application/octet-stream"
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        # No real media type is this long, and cutting one short would store a wrong type.
        raise invalid_field(
            "file",
            f"The file's content type is longer than {MAX_CONTENT_TYPE_LENGTH} characters.",
            "LengthValidator",
            service=EXPENSE_SERVICE,
        )
    # Attachment ids look like the platform's own: GUIDs in Xero and Dynamics, numbers elsewhere.
    if platform.key in ("gbol", "trji"):
        attachment_id = str(uuid.uuid4())
    else:
        attachment_id = str(uuid.uuid4().int % 10**19)
    return SandboxAttachment.objects.create(
        id=attachment_id,
        company=company,
        transaction=txn,
        filename=_short_filename(upload.name or "attachment"),
        content_type=content_type,
        size=upload.size,
        content=upload.read(),
    )


def _short_filename(name: str) -> str:
    """The name cut to the column's width, keeping its extension (which the platform rules and
    the ledger viewer's download read), as Django's own upload handling does."""
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) >= MAX_FILENAME_LENGTH - 1:
        return name[:MAX_FILENAME_LENGTH]
    return stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
