"""Receipts: the real type from the bytes, the platform's limits checked before sending."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from codat_sandbox.models import SandboxAttachment
from integrations.codat.errors import (
    CodatConflictError,
    CodatRateLimitedError,
    CodatTransientError,
)
from integrations.syncs.services import follow, platforms, preflight, push, receipts
from integrations.syncs.services.receipts import FileType, attachment_problem, sniff
from integrations.transactions.models import Receipt
from tests.integration.helpers import tiny_png
from tests.models.factories import make_receipt, make_transaction

from .helpers import linked_portal

PDF = FileType("PDF", "application/pdf")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("receipt.txt", "not a receipt")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (tiny_png(), "PNG"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "PDF"),
        # A plain archive is a ZIP, not the Office document its first bytes could also start.
        (_zip(), "ZIP"),
        (b"", None),
    ],
)
def test_sniffing_reads_the_bytes_not_the_name(tmp_path, content, expected):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    found = sniff(path)
    assert (found.extension if found else None) == expected


@pytest.mark.parametrize(
    ("platform", "kind", "expense_type", "file_type", "size", "words"),
    [
        ("qhyg", "expense", "Payment", PDF, 1000, None),
        ("rwuv", "expense", "Payment", PDF, 6 * platforms.MB, "takes up to 5 MB"),
        ("qhyg", "expense", "Payment", FileType("ZIP", "application/zip"), 10, "not take ZIP"),
        ("qhyg", "expense", "Payment", None, 10, "could not be recognised"),
        ("qhyg", "expense", "Reward", PDF, 10, "this kind of transaction"),
        ("qhyg", "transfer", "", PDF, 10, "no receipts on transfers"),
        ("pqsw", "expense", "Payment", PDF, 10, "this kind of transaction"),
        ("trji", "expense", "Payment", FileType("ZIP", "application/zip"), 10, None),
        ("qhyg", "expense", "Payment", PDF, 0, "empty"),
    ],
)
def test_platform_limits(platform, kind, expense_type, file_type, size, words):
    problem = attachment_problem(
        platforms.get_platform(platform), kind, expense_type, file_type, size
    )
    assert problem is None if words is None else words in problem


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("portal_on_sandbox")
def test_a_refused_type_is_rejected_without_a_request_and_the_good_one_uploads(codat):
    portal = linked_portal(codat)
    txn = portal.expense()
    disguised = make_receipt(
        txn,
        file=SimpleUploadedFile("receipt.pdf", _zip(), "application/pdf"),
        original_filename="receipt.pdf",
        size=len(_zip()),
    )
    good = make_receipt(
        txn,
        file=SimpleUploadedFile("photo", tiny_png(), "application/octet-stream"),
        original_filename="photo",
        size=len(tiny_png()),
    )
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    follow.poll_due()

    result = receipts.upload_due()

    assert (result.uploaded, result.rejected) == (1, 1)
    disguised.refresh_from_db()
    good.refresh_from_db()
    assert disguised.upload_status == Receipt.UploadStatus.REJECTED
    assert "does not take ZIP files" in disguised.error
    assert good.upload_status == Receipt.UploadStatus.UPLOADED
    [stored] = SandboxAttachment.objects.all()
    assert stored.filename == "photo.png" and stored.content_type == "image/png"
    assert receipts.upload_due().uploaded == 0  # nothing uploads twice


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("portal_on_sandbox")
def test_a_failed_upload_keeps_its_state_apart_and_retries(codat):
    portal = linked_portal(codat)
    txn = portal.expense()
    receipt = make_receipt(
        txn,
        file=SimpleUploadedFile("r.png", tiny_png(), "image/png"),
        original_filename="r.png",
        size=len(tiny_png()),
    )
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    follow.poll_due()
    portal.faults(error_rate=100)

    assert receipts.upload_for_transaction(txn.pk).retry_after is not None
    receipt.refresh_from_db()
    txn.refresh_from_db()
    assert (receipt.upload_status, receipt.attempts) == ("pending", 1)
    assert txn.status == "completed"
    portal.clear_faults()
    Receipt.objects.update(next_attempt_at=None)
    assert receipts.upload_due().uploaded == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("portal_on_sandbox")
def test_a_receipt_over_the_platforms_size_limit_is_rejected_without_a_request(codat):
    portal = linked_portal(codat)
    txn = portal.expense()
    receipt = make_receipt(
        txn,
        file=SimpleUploadedFile("scan.png", tiny_png(), "image/png"),
        original_filename="scan.png",
        size=len(tiny_png()),
    )
    # 101 MB on disk without writing it: a sparse file past QuickBooks Online's 100 MB.
    with open(receipt.file.path, "r+b") as handle:
        handle.truncate(101 * platforms.MB)
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    follow.poll_due()

    assert receipts.upload_due().rejected == 1
    receipt.refresh_from_db()
    assert receipt.upload_status == Receipt.UploadStatus.REJECTED
    assert receipt.error == "The file is 101.0 MB; QuickBooks Online takes up to 100 MB."
    assert not SandboxAttachment.objects.exists()


@pytest.mark.django_db
def test_the_poller_takes_over_an_upload_whose_worker_died(settings, monkeypatch):
    """A worker killed mid-upload leaves its receipt claimed as uploading; once the lease has
    run out the poller's pass over receipts picks it up (found by the crash test)."""
    settings.SYNC_CLAIM_LEASE_SECONDS = 60
    now = timezone.now()
    abandoned = make_receipt(
        make_transaction(status="completed"),
        upload_status="uploading",
        claimed_at=now - timedelta(seconds=61),
    )
    make_receipt(  # still held by a live worker
        make_transaction(status="completed"),
        upload_status="uploading",
        claimed_at=now - timedelta(seconds=30),
    )
    uploaded = []
    monkeypatch.setattr(
        receipts,
        "upload_for_transaction",
        lambda pk: uploaded.append(pk) or receipts.ReceiptResult(),
    )

    receipts.upload_due()

    assert uploaded == [abandoned.transaction_id]


@pytest.mark.django_db
def test_quota_and_in_flight_answers_do_not_use_up_a_receipts_attempts():
    """Found by the chaos run: quota bursts (429) and a key still in flight (409) used up the
    attempts of receipts that had never failed, and they were given up."""
    receipt = make_receipt(make_transaction(status="completed"), upload_status="uploading")
    where = {"method": "POST", "path": "/attachments"}
    not_now = [CodatRateLimitedError("quota", retry_after=1, status_code=429, **where)] * 12
    not_now += [CodatConflictError("in flight", status_code=409, **where)] * 3
    for error in not_now:
        receipts._retry_later(receipt, error, receipts.ReceiptResult())
    receipt.refresh_from_db()
    assert (receipt.upload_status, receipt.attempts) == (Receipt.UploadStatus.PENDING, 0)
    down = CodatTransientError("down", status_code=503, **where)
    for _ in range(receipts.MAX_ATTEMPTS - 1):
        receipts._retry_later(receipt, down, receipts.ReceiptResult())
    assert receipt.upload_status == Receipt.UploadStatus.PENDING
    receipts._retry_later(receipt, down, receipts.ReceiptResult())
    receipt.refresh_from_db()
    assert receipt.upload_status == Receipt.UploadStatus.FAILED  # bounded, and visible


@pytest.mark.django_db
def test_after_a_timeout_an_upload_keeps_its_key_whatever_the_retries_are_answered():
    """Found by the chaos run: an upload timed out (and went through), its retry under the same
    key got a 5xx, the next try went under a new key, and the file was attached twice."""
    where = {"method": "POST", "path": "/attachments"}
    clean = make_receipt(make_transaction(status="completed"), upload_status="uploading")
    first_key = clean.idempotency_key
    receipts._retry_later(
        clean, CodatTransientError("503", status_code=503, **where), receipts.ReceiptResult()
    )
    assert clean.idempotency_key != first_key  # nothing in doubt: a fresh key is safe

    doubtful = make_receipt(make_transaction(status="completed"), upload_status="uploading")
    key = doubtful.idempotency_key
    receipts._retry_later(
        doubtful, CodatTransientError("timed out", **where), receipts.ReceiptResult()
    )
    for status in (503, 500):
        receipts._retry_later(
            doubtful,
            CodatTransientError(str(status), status_code=status, **where),
            receipts.ReceiptResult(),
        )
    doubtful.refresh_from_db()
    assert (doubtful.idempotency_key, doubtful.key_in_doubt) == (key, True)
