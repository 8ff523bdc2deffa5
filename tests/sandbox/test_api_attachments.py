"""Receipt uploads: multipart part `file`, completed transactions only, platform limits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codat_sandbox import engine
from codat_sandbox.models import SandboxAttachment

from .conftest import AUTH, PREFIX, expense, link_company, new_id

pytestmark = pytest.mark.django_db


def _synced(api, platform="qhyg", **overrides):
    linked = link_company(api, platform)
    cid = linked["company"]["id"]
    txn = expense(api, linked, **overrides)
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    return cid, sync_id, txn


def _upload(
    client,
    cid,
    sync_id,
    txn_id,
    name="receipt.pdf",
    content=b"%PDF-1.4 x",
    content_type="application/pdf",
):
    return client.post(
        f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn_id}/attachments",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        HTTP_AUTHORIZATION=AUTH,
    )


def test_it_uploads_a_receipt_to_a_completed_transaction(api, client):
    cid, sync_id, txn = _synced(api)
    engine.advance()
    response = _upload(client, cid, sync_id, txn["id"])
    assert response.status_code == 200
    body = response.json()
    assert body["companyId"] == cid and body["transactionId"] == txn["id"] and body["id"]
    stored = SandboxAttachment.objects.get(pk=body["id"])
    assert bytes(stored.content) == b"%PDF-1.4 x" and stored.filename == "receipt.pdf"


def test_it_refuses_pending_and_unknown_transactions(api, client, settings):
    settings.CODAT_SANDBOX_SYNC_DELAY = 3600
    cid, sync_id, txn = _synced(api)
    assert _upload(client, cid, sync_id, txn["id"]).status_code == 400
    assert _upload(client, cid, sync_id, new_id()).status_code == 404
    assert _upload(client, cid, new_id(), txn["id"]).status_code == 404


def test_it_checks_the_platform_file_type_and_size(api, client):
    cid, sync_id, txn = _synced(api, "rwuv")
    engine.advance()
    wrong_type = _upload(
        client, cid, sync_id, txn["id"], name="notes.docx", content_type="application/msword"
    )
    assert wrong_type.status_code == 400 and "Zoho Books" in wrong_type.json()["error"]
    too_big = _upload(client, cid, sync_id, txn["id"], content=b"x" * (5 * 1024 * 1024 + 1))
    assert too_big.status_code == 400


def test_quickbooks_desktop_takes_no_attachments(api, client):
    cid, sync_id, txn = _synced(api, "pqsw")
    engine.advance()
    response = _upload(client, cid, sync_id, txn["id"])
    assert response.status_code == 400


def test_the_file_part_is_required(api, client):
    cid, sync_id, txn = _synced(api)
    engine.advance()
    response = client.post(
        f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}/attachments",
        {"other": SimpleUploadedFile("a.pdf", b"x")},
        HTTP_AUTHORIZATION=AUTH,
    )
    assert response.status_code == 400
