"""Adjustments: journal-style write-offs, supported on QuickBooks Desktop only (per the spec)."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    adjustment_body,
    assert_sync_succeeded,
    raises_codat_error,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


@pytest.mark.parametrize("linked_company", ["pqsw"], indirect=True)
@pytest.mark.operations("create-adjustment-transaction")
def test_create_adjustment_on_qbd(sdk, linked_company):
    lc = linked_company
    body = adjustment_body(lc)
    created = sdk.adjustments.create(request={"company_id": lc.company_id, "request_body": [body]})
    assert uuid.UUID(created.sync_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))
    rows = sdk.transaction_status.get(
        request={
            "company_id": lc.company_id,
            "sync_id": created.sync_id,
            "transaction_id": body["id"],
        }
    )
    assert rows[0].status == "Completed"
    with raises_codat_error(400):
        sdk.adjustments.create(
            request={"company_id": linked_company.company_id, "request_body": []}
        )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-adjustment-transaction")
def test_adjustment_on_platform_without_support_is_400(sdk, linked_company):
    lc = linked_company
    accounts = [a for a in lc.mapping.accounts if not a.is_bank_account][:2]
    body = {
        "id": str(uuid.uuid4()),
        "date_": "2026-01-15T00:00:00",
        "currency": lc.currency,
        "lines": [
            {"amount": "10.00", "account_ref": {"id": accounts[0].id}},
            {"amount": "-10.00", "account_ref": {"id": accounts[1].id}},
        ],
    }
    with raises_codat_error(400):
        sdk.adjustments.create(request={"company_id": lc.company_id, "request_body": [body]})


@pytest.mark.operations("create-adjustment-transaction")
def test_adjustment_for_unknown_company_is_404(sdk):
    body = {
        "id": str(uuid.uuid4()),
        "date_": "2026-01-15T00:00:00",
        "currency": "USD",
        "lines": [{"amount": "1", "account_ref": {"id": "1"}}],
    }
    with raises_codat_error(404):
        sdk.adjustments.create(request={"company_id": UNKNOWN_ID, "request_body": [body]})
