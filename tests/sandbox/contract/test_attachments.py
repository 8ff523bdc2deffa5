"""Receipts: multipart upload to a synced transaction; per-platform type and support rules."""

import uuid

import pytest

from .helpers import CONTRACT_DB, push_expense, raises_codat_error

pytestmark = CONTRACT_DB

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def upload(
    sdk, company_id, sync_id, transaction_id, name="receipt.png", content=PNG, ctype="image/png"
):
    return sdk.attachments.upload(
        request={
            "company_id": company_id,
            "sync_id": sync_id,
            "transaction_id": transaction_id,
            "attachment_upload": {
                "file": {"file_name": name, "content": content, "content_type": ctype}
            },
        }
    )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("upload-expense-attachment")
def test_upload_receipt_to_synced_expense(sdk, linked_company):
    lc = linked_company
    transaction_id, sync_id = push_expense(sdk, lc)
    first = upload(sdk, lc.company_id, sync_id, transaction_id)
    assert first.company_id == lc.company_id
    assert first.transaction_id == transaction_id
    assert first.id
    # Several files per transaction are allowed.
    second = upload(
        sdk,
        lc.company_id,
        sync_id,
        transaction_id,
        "receipt-2.pdf",
        b"%PDF-1.4\n%%EOF\n",
        "application/pdf",
    )
    assert second.id != first.id


@pytest.mark.parametrize("linked_company", ["pqsw"], indirect=True)
@pytest.mark.operations("upload-expense-attachment")
def test_attachments_unsupported_on_qbd_is_400(sdk, linked_company):
    lc = linked_company
    transaction_id, sync_id = push_expense(sdk, lc)
    with raises_codat_error(400):
        upload(sdk, lc.company_id, sync_id, transaction_id)


@pytest.mark.operations("upload-expense-attachment")
def test_disallowed_file_type_is_400_and_unknown_transaction_is_404(sdk, linked_company):
    lc = linked_company
    transaction_id, sync_id = push_expense(sdk, lc)
    with raises_codat_error(400):
        upload(
            sdk,
            lc.company_id,
            sync_id,
            transaction_id,
            "tool.exe",
            b"MZ\x90\x00",
            "application/octet-stream",
        )
    with raises_codat_error(404):
        upload(sdk, lc.company_id, sync_id, str(uuid.uuid4()))
