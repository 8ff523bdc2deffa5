"""What `make run` promises a person with curl: push spend through the API, watch it sync
through the sandbox, read the ledger record id back through the API."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.syncs.models import Sync
from integrations.syncs.services import follow, preflight, push
from integrations.transactions.models import Transaction
from tests.api.conftest import Api, spend
from tests.integration.helpers import advance_until
from tests.syncs.conftest import (  # noqa: F401 (fixtures)
    _sandbox_settings,
    codat,
    make_client,
    portal_on_sandbox,
    sandbox_url,
)
from tests.syncs.helpers import PIPELINE, linked_portal

pytestmark = [*PIPELINE, pytest.mark.live]


@pytest.fixture(autouse=True)
def worker_share(monkeypatch):
    """The worker's part (pre-flight, then the push) is run by the test, step by step."""
    queued = []
    monkeypatch.setattr(
        "integrations.syncs.tasks.enqueue_preflight", lambda company_id: queued.append(company_id)
    )
    return queued


def test_spend_pushed_through_the_api_reads_back_its_ledger_record(
    codat,  # noqa: F811
    api_key,
    worker_share,
):
    portal = linked_portal(codat)
    company = portal.company
    api = Api(api_key[1])
    body = spend(
        "e2e-1",
        card=portal.card.reference,
        category=portal.category.code,
        currency=portal.linked.currency,
        issueDate=date.today().isoformat(),
        lines=[{"netAmount": "12.50", "taxAmount": "0"}],
    )
    created = api.post(f"/companies/{company.pk}/transactions", {"transactions": [body]})
    assert created.status_code == 201, created.content
    txn_id = created.json()["transactions"][0]["id"]
    assert worker_share == [company.pk]  # the connected company's spend goes at once
    status_url = f"/companies/{company.pk}/transactions/{txn_id}"

    assert preflight.preflight_company(company.pk).queued == 1
    assert api.get(status_url).json()["status"] == "queued"
    push.push_company(company.pk)
    assert api.get(status_url).json()["status"] == "syncing"

    sync = Sync.objects.get()
    advance_until(
        lambda: (
            follow.follow_sync(sync.pk).status_code is not None
            and Transaction.objects.get(pk=txn_id).status == Transaction.Status.COMPLETED
        ),
        "the sync to finish",
    )
    read = api.get(status_url).json()
    [record] = portal.ledger_records(Transaction.objects.get(pk=txn_id))
    assert read["ledgerRecordId"] == record.record_id
    assert read["status"] == "receipt_missing" and read["reason"] is None
