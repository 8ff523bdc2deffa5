"""A person attaching a receipt to a transaction from the portal.

The file is checked before it is stored, by the same rule the upload stage applies
(`receipts.attachment_problem`: its real type sniffed from the bytes, its size, whether the
ledger takes receipts on this kind of transaction), so a file the ledger would refuse is never
kept. A stored receipt waits as "pending"; it goes to Codat at once when the transaction is
already in the ledger, otherwise when its sync completes (the follow stage hands it over).
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

from integrations.companies.models import AuditEvent
from integrations.transactions.models import Receipt, Transaction

from .. import tasks
from . import platforms
from .platforms import MB, Platform
from .receipts import FileType, attachment_problem, sniff


@dataclass(frozen=True)
class Limits:
    """What the page tells the browser to check before sending (a hint; the server decides)."""

    accepted: bool
    reason: str
    max_bytes: int | None
    extensions: tuple[str, ...]

    @property
    def max_label(self) -> str:
        return f"{self.max_bytes // MB} MB" if self.max_bytes else "no size limit"

    @property
    def accept_attribute(self) -> str:
        # For the file picker's `accept`: ".pdf,.png,...".
        return ",".join(f".{e.lower()}" for e in self.extensions if e.isalnum())


def platform_of(company) -> Platform | None:
    connection = company.accounting_connection()
    return platforms.get_platform(connection.platform_key) if connection else None


def limits_for(platform: Platform | None, txn: Transaction) -> Limits:
    if platform is None:
        return Limits(False, "Connect your accounting software before adding receipts.", None, ())
    # A one-byte PDF passes every check but "does this transaction take receipts at all".
    problem = attachment_problem(platform, txn.kind, txn.expense_type, FileType("PDF", ""), 1)
    if problem and "does not take PDF" not in problem:
        return Limits(False, problem, None, ())
    extensions = tuple(sorted(platform.attachment_extensions or ()))
    return Limits(True, "", platform.attachment_max_bytes, extensions)


@contextmanager
def _path_of(upload):
    """A local path to an uploaded file: Django's temporary file, or a copy of a small one
    held in memory (puremagic reads containers such as DOCX from a path)."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    suffix = PurePath(upload.name or "").suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        yield copy.name


def check_upload(
    platform: Platform | None, txn: Transaction, upload
) -> tuple[str | None, FileType | None]:
    """Why this upload cannot be attached (or None), and its sniffed type."""
    limits = limits_for(platform, txn)
    if not limits.accepted:
        return limits.reason, None
    # Size first: an oversized file is refused without reading it.
    if limits.max_bytes is not None and upload.size > limits.max_bytes:
        return (
            f"The file is {upload.size / MB:.1f} MB; {platform.name} takes up to "
            f"{limits.max_label}.",
            None,
        )
    with _path_of(upload) as path:
        file_type = sniff(path)
    problem = attachment_problem(platform, txn.kind, txn.expense_type, file_type, upload.size)
    return problem, file_type


def attach_receipt(
    txn: Transaction, upload, file_type: FileType | None, *, actor=None, actor_label=""
) -> Receipt:
    """Store a checked upload as a pending receipt and send it on if the transaction is in
    the ledger already. `actor_label` names an author that is no user (the partner API)."""
    name = PurePath(upload.name or "receipt").name[:255]
    receipt = Receipt.objects.create(
        transaction=txn,
        file=upload,
        original_filename=name,
        size=upload.size,
        content_type=(file_type.mime_type if file_type else "") or "application/octet-stream",
    )
    AuditEvent.record(
        actor,
        "receipt.added",
        obj=txn,
        after={"receipt": receipt.pk, "file": name, "size": receipt.size},
        actor_label=actor_label,
    )
    if txn.status == Transaction.Status.COMPLETED:
        tasks.enqueue_receipts(txn.pk)
    return receipt
