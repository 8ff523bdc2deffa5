import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.companies.models import AuditEvent
from integrations.syncs.services import platforms
from integrations.transactions.models import Receipt, Transaction
from tests.api.conftest import spend
from tests.models.factories import make_company, make_connection

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def small_limit(monkeypatch):
    """QuickBooks Online with a 1 KB attachment limit, so "too large" needs no big file."""
    qbo = platforms.PLATFORMS["qhyg"]
    monkeypatch.setitem(
        platforms.PLATFORMS, "qhyg", dataclasses.replace(qbo, attachment_max_bytes=1024)
    )


@pytest.fixture
def txn(api, company):
    make_connection(company)  # QuickBooks Online
    body = api.post(f"/companies/{company.pk}/transactions", {"transactions": [spend()]}).json()
    return Transaction.objects.get(pk=body["transactions"][0]["id"])


def receipts_url(txn):
    return f"/companies/{txn.company_id}/transactions/{txn.pk}/receipts"


def pdf(name="lunch.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def test_upload_then_list_with_upload_state(api, txn):
    response = api.upload(receipts_url(txn), pdf())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == "lunch.pdf" and body["uploadState"] == "pending"
    assert body["size"] == len(PDF) and body["contentType"] == "application/pdf"
    listed = api.get(receipts_url(txn)).json()
    assert [r["id"] for r in listed] == [body["id"]]
    event = AuditEvent.objects.get(action="receipt.added")
    assert event.actor_label == "api:card-processor"


def test_a_file_over_the_limit_is_refused_on_arrival(api, txn, small_limit):
    response = api.upload(receipts_url(txn), pdf(content=PDF + b"0" * 2048))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["fields"][0]["field"] == "file"
    assert not Receipt.objects.exists()


def test_a_declared_length_over_the_limit_is_refused_unread(api, txn, small_limit):
    big = PDF + b"0" * (200 * 1024)
    response = api.upload(receipts_url(txn), pdf(content=big))
    assert response.status_code == 413
    assert not Receipt.objects.exists()


def test_a_file_of_the_wrong_type_is_422(api, txn):
    fake = SimpleUploadedFile("lunch.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")
    response = api.upload(receipts_url(txn), fake)
    assert response.status_code == 422
    assert response.json()["code"] == "file_refused"
    assert not Receipt.objects.exists()


def test_missing_part_and_transactions_without_receipts(api, txn, company):
    response = api.client.post(f"/api/v1{receipts_url(txn)}", {}, headers=api.headers)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "file"
    Transaction.objects.filter(pk=txn.pk).update(kind="transfer", expense_type="")
    response = api.upload(receipts_url(txn), pdf())
    assert response.status_code == 422 and response.json()["code"] == "receipts_not_accepted"


def test_no_connection_means_no_receipts_yet(api):
    company = make_company()
    body = api.post(
        f"/companies/{company.pk}/transactions", {"transactions": [spend(card=None, category=None)]}
    ).json()
    txn = Transaction.objects.get(pk=body["transactions"][0]["id"])
    response = api.upload(receipts_url(txn), pdf())
    assert response.status_code == 422 and response.json()["code"] == "receipts_not_accepted"


def test_another_companys_transaction_takes_no_receipt(api, txn):
    other = make_company()
    response = api.upload(f"/companies/{other.pk}/transactions/{txn.pk}/receipts", pdf())
    assert response.status_code == 404
    assert not Receipt.objects.exists()
