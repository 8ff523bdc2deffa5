"""The day-to-day pages end to end against the sandbox over real HTTP: a person presses
"Sync now", the worker's tasks push and follow the sync, the list shows the record id, and a
receipt uploaded on the transaction's page reaches the ledger."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from codat_sandbox.models import SandboxAttachment
from expenses_portal.celery import app as celery_app
from integrations.companies.models import Membership
from integrations.syncs.services import follow
from integrations.transactions.models import Receipt, Transaction
from tests.integration.conftest import (  # noqa: F401 (fixtures)
    _sandbox_settings,
    codat,
    make_client,
    sandbox_url,
)
from tests.integration.helpers import tiny_png
from tests.models import factories
from tests.syncs.conftest import _media_in_tmp, portal_on_sandbox  # noqa: F401 (fixtures)
from tests.syncs.helpers import linked_portal

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_worker():
    """The worker's tasks run in the request that queues them (after its commit)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.mark.usefixtures("portal_on_sandbox", "eager_worker")
def test_sync_now_then_a_receipt_lands_in_the_ledger(client, codat):  # noqa: F811
    portal = linked_portal(codat)
    company = portal.company
    txn = portal.expense(merchant_name="Great Western Railway")
    user = factories.make_user()
    factories.make_membership(user, company, Membership.Role.ACCOUNTANT)
    client.force_login(user)
    list_url = reverse("portal:transactions", args=[company.pk])

    response = client.post(
        reverse("portal:transactions-sync", args=[company.pk]),
        {"action": "selected", "ids": [txn.pk]},
        follow=True,
    )
    assert b"1 transaction sent to the ledger" in response.content
    follow.poll_due()  # the poller's pass (the sandbox finishes a sync when it is read)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED and txn.ledger_record_id

    content = client.get(list_url).content.decode()
    assert "Receipt missing" in content
    assert f'title="{txn.ledger_record_id}"' in content
    detail = client.get(reverse("portal:transaction", args=[company.pk, txn.pk])).content
    assert b"Success" in detail and txn.ledger_record_id.encode() in detail

    response = client.post(
        reverse("portal:transaction-receipts", args=[company.pk, txn.pk]),
        {"file": SimpleUploadedFile("ticket.png", tiny_png(), "image/png")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    receipt = Receipt.objects.get(transaction=txn)
    assert receipt.upload_status == Receipt.UploadStatus.UPLOADED
    [stored] = SandboxAttachment.objects.all()
    assert stored.filename == "ticket.png"
    box = client.get(
        reverse("portal:transaction-receipts", args=[company.pk, txn.pk]),
        headers={"HX-Request": "true"},
    )
    assert box.status_code == 286 and b"Uploaded" in box.content
    assert "In the ledger" in client.get(list_url).content.decode()
