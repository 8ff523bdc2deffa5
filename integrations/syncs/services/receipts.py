"""Stage 6: upload each receipt once its transaction is in the ledger.

The file's real type is sniffed from its bytes (puremagic), never taken from its name, and
checked against the platform's limits before anything is sent; a file the ledger would refuse
is marked rejected with the reason, without a request. Receipt state is kept apart from the
transaction's: a receipt that fails does not make its transaction fail.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

import puremagic
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from integrations.codat.errors import (
    CodatConflictError,
    CodatError,
    CodatRateLimitedError,
    CodatTransientError,
    CodatValidationError,
)
from integrations.codat.factory import codat_client
from integrations.syncs.models import Sync, SyncTransaction
from integrations.transactions.models import Receipt, Transaction

from . import claims, health, platforms, push
from .platforms import MB, Platform

logger = logging.getLogger(__name__)

Status = Receipt.UploadStatus
# Failed uploads (5xx, timeouts) before a receipt is given up, visibly. Enough that a run of
# transient errors does not lose a receipt; "not now" (429, a 409 for a key still in flight) is
# no failed upload and does not count.
MAX_ATTEMPTS = 10
NOT_NOW = (CodatRateLimitedError, CodatConflictError)


@dataclass(frozen=True)
class FileType:
    extension: str  # upper case, no dot: "PDF"
    mime_type: str


def sniff(path) -> FileType | None:
    """The type of the file at `path` from its bytes, or None when nothing recognises it.

    A path rather than the first bytes: for containers (ZIP, OLE) puremagic looks inside the
    whole file, which is what tells an Office document from any other ZIP archive.
    """
    try:
        matches = puremagic.magic_file(path)
    except (puremagic.PureError, ValueError):
        return None
    if not matches:
        return None
    best = matches[0]
    return FileType(best.extension.lstrip(".").upper(), best.mime_type or "")


@contextmanager
def _local_path(field_file):
    """A local path to the stored file, copying it in chunks when the storage is remote."""
    try:
        path = field_file.path
    except NotImplementedError:  # a storage with no local files
        path = None
    if path is not None:
        yield path
        return
    suffix = PurePath(field_file.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with field_file.open("rb") as source:
            for chunk in source.chunks():
                copy.write(chunk)
        copy.flush()
        yield copy.name


def attachment_problem(
    platform: Platform | None,
    kind: str,
    expense_type: str,
    file_type: FileType | None,
    size: int,
) -> str | None:
    """Why the ledger would refuse this file on this transaction, or None. Pure."""
    if platform is None:
        return "The accounting software is not known, so receipts cannot be checked."
    if kind in (Transaction.Kind.TRANSFER, Transaction.Kind.ADJUSTMENT):
        return f"{platform.name} takes no receipts on {Transaction.Kind(kind).label.lower()}s."
    slot = f"expense.{expense_type}" if kind == Transaction.Kind.EXPENSE else "reimbursable"
    if platforms.ATTACHMENTS not in platform.supports or slot not in platform.attachment_kinds:
        return f"{platform.name} does not take receipts on this kind of transaction."
    if size <= 0:
        return "The file is empty."
    limit = platform.attachment_max_bytes
    if limit is not None and size > limit:
        return f"The file is {size / MB:.1f} MB; {platform.name} takes up to {limit // MB} MB."
    allowed = platform.attachment_extensions
    if allowed is not None:
        if file_type is None:
            return "The file's type could not be recognised."
        subtype = file_type.mime_type.rpartition("/")[2].upper()
        if file_type.extension not in allowed and subtype not in allowed:
            return (
                f"{platform.name} does not take {file_type.extension} files. "
                f"Allowed: {', '.join(sorted(allowed))}."
            )
    return None


@dataclass
class ReceiptResult:
    uploaded: int = 0
    rejected: int = 0
    failed: int = 0
    retry_after: float | None = None


def _due():
    now = timezone.now()
    waiting = Q(upload_status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    # An upload whose worker died holds its claim past the lease; it is taken over.
    abandoned = Q(upload_status=Status.UPLOADING, claimed_at__lt=now - push.claim_lease())
    return Receipt.objects.filter(waiting | abandoned)


def _completed_item(txn: Transaction) -> SyncTransaction | None:
    return (
        SyncTransaction.objects.filter(
            transaction=txn,
            status=SyncTransaction.Status.COMPLETED,
            sync__codat_sync_id__isnull=False,
        )
        .select_related("sync")
        .order_by("-sync__pk")
        .first()
    )


def upload_for_transaction(transaction_id) -> ReceiptResult:
    """Upload the transaction's due receipts, each claimed first so it goes once."""
    result = ReceiptResult()
    txn = Transaction.objects.select_related("company").get(pk=transaction_id)
    item = _completed_item(txn) if txn.status == Transaction.Status.COMPLETED else None
    if item is None:
        return result  # not in the ledger yet; the follow stage calls again when it is
    connection = txn.company.accounting_connection()
    platform = platforms.get_platform(connection.platform_key) if connection else None
    ids = claims.claim(
        _due().filter(transaction=txn),
        100,
        upload_status=Status.UPLOADING,
        claimed_at=timezone.now(),
    )
    if not ids:
        return result
    with codat_client() as client:
        for receipt in Receipt.objects.filter(pk__in=ids).order_by("created_at", "pk"):
            _upload(client, txn, item.sync, platform, receipt, result)
    return result


def _upload(client, txn, sync: Sync, platform, receipt: Receipt, result: ReceiptResult) -> None:
    with _local_path(receipt.file) as path:
        file_type = sniff(path)
    problem = attachment_problem(platform, txn.kind, txn.expense_type, file_type, receipt.file.size)
    if problem is not None:
        _save(receipt, Status.REJECTED, error=problem)
        result.rejected += 1
        return
    with receipt.file.open("rb") as handle:
        stem = PurePath(receipt.original_filename).stem or "receipt"
        extension = f".{file_type.extension.lower()}" if file_type else ""
        try:
            # httpx reads the open file in chunks as it sends: the receipt is never held whole.
            answer = client.upload_attachment(
                str(txn.company.codat_company_id),
                str(sync.codat_sync_id),
                str(txn.pk),
                handle,
                filename=f"{stem}{extension}",
                content_type=file_type.mime_type if file_type else "application/octet-stream",
                idempotency_key=str(receipt.idempotency_key),
            )
        except CodatValidationError as exc:
            _save(receipt, Status.REJECTED, error=exc.error or str(exc))
            result.rejected += 1
            return
        except CodatError as exc:
            _retry_later(receipt, exc, result)
            return
    receipt.codat_attachment_id = str(answer.get("id") or "")
    receipt.uploaded_at = timezone.now()
    _save(receipt, Status.UPLOADED, error="")
    result.uploaded += 1


def _retry_later(receipt: Receipt, exc: CodatError, result: ReceiptResult) -> None:
    attempts = receipt.attempts + (not isinstance(exc, NOT_NOW))
    if not exc.retryable or attempts >= MAX_ATTEMPTS:
        receipt.attempts = attempts
        _save(receipt, Status.FAILED, error=str(exc))
        result.failed += 1
        return
    if isinstance(exc, CodatTransientError) and exc.status_code is None:
        # A timeout: the upload may have gone through, so only this key may carry it again
        # (Codat then replays the finished upload instead of attaching the file twice).
        receipt.key_in_doubt = True
    elif isinstance(exc, CodatTransientError) and not receipt.key_in_doubt:
        # Codat answered with an error it would replay for this key: the next try needs a new
        # one, which is safe while no earlier request under this key has an unknown outcome.
        receipt.idempotency_key = uuid.uuid4()
    delay = exc.retry_after
    if delay is None:
        delay = min(settings.SYNC_RETRY_BASE_SECONDS * 2**attempts, settings.SYNC_RETRY_MAX_SECONDS)
    receipt.attempts = attempts
    receipt.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    _save(receipt, Status.PENDING, error=str(exc))
    result.retry_after = delay if result.retry_after is None else min(result.retry_after, delay)


def _save(receipt: Receipt, status: str, *, error: str) -> None:
    receipt.upload_status = status
    receipt.error = error
    receipt.claimed_at = None
    receipt.save(
        update_fields=[
            "upload_status",
            "error",
            "claimed_at",
            "attempts",
            "idempotency_key",
            "key_in_doubt",
            "next_attempt_at",
            "codat_attachment_id",
            "uploaded_at",
        ]
    )
    if status in Receipt.LOST_STATUSES:
        # Sync health counts the company's receipts the ledger will not take.
        health.refresh_soon(receipt.transaction.company_id)


def transactions_with_pending_receipts(sync: Sync) -> list:
    return list(
        Transaction.objects.filter(
            sync_items__sync=sync,
            status=Transaction.Status.COMPLETED,
            receipts__upload_status=Status.PENDING,
        )
        .distinct()
        .values_list("pk", flat=True)
    )


def sweep_receipts(now=None) -> int:
    """Hand back uploads whose worker died (claimed past the lease), counting each as an
    attempt, and give up on those out of attempts with the reason on the row. Returns how many
    were touched."""
    now = now or timezone.now()
    abandoned = Receipt.objects.filter(
        upload_status=Status.UPLOADING, claimed_at__lt=now - push.claim_lease()
    )
    given_up = abandoned.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        upload_status=Status.FAILED,
        attempts=F("attempts") + 1,
        claimed_at=None,
        error=f"Gave up after {MAX_ATTEMPTS} attempts: the upload never finished.",
    )
    released = abandoned.update(
        upload_status=Status.PENDING,
        attempts=F("attempts") + 1,
        claimed_at=None,
        next_attempt_at=None,
    )
    return given_up + released


def transactions_due(limit: int = 100) -> list:
    """Completed transactions with a receipt due: waiting, or abandoned by a worker that died
    mid-upload (its claim outlived the lease)."""
    return list(
        Transaction.objects.filter(status=Transaction.Status.COMPLETED, receipts__in=_due())
        .distinct()
        .values_list("pk", flat=True)[:limit]
    )


def upload_due(limit: int = 100) -> ReceiptResult:
    """Upload, one after the other, every receipt due (see `transactions_due`)."""
    total = ReceiptResult()
    for pk in transactions_due(limit):
        result = upload_for_transaction(pk)
        total.uploaded += result.uploaded
        total.rejected += result.rejected
        total.failed += result.failed
    return total
