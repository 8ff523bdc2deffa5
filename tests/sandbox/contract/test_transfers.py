"""Transfers: PUT creates or updates one transfer (id in the path) and starts a sync."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_sync_succeeded,
    raises_codat_error,
    transfer_body,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


def put_transfer(sdk, lc, transaction_id, amount="100.00"):
    return sdk.transfers.create(
        request={
            "company_id": lc.company_id,
            "transaction_id": transaction_id,
            "transfer_transaction_request": transfer_body(lc, amount),
        }
    )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-transfer-transaction")
def test_create_transfer(sdk, linked_company):
    lc = linked_company
    transaction_id = str(uuid.uuid4())
    created = put_transfer(sdk, lc, transaction_id)
    assert uuid.UUID(created.sync_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))
    rows = sdk.transaction_status.get(
        request={
            "company_id": lc.company_id,
            "sync_id": created.sync_id,
            "transaction_id": transaction_id,
        }
    )
    assert rows[0].status == "Completed"


@pytest.mark.operations("create-transfer-transaction")
def test_put_again_updates_the_transfer_on_qbo(sdk, linked_company):
    lc = linked_company
    transaction_id = str(uuid.uuid4())
    first = put_transfer(sdk, lc, transaction_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, first.sync_id))
    second = put_transfer(sdk, lc, transaction_id, "120.00")
    assert second.sync_id != first.sync_id
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, second.sync_id))
    body = transfer_body(lc)
    body["date_"] = "not-a-date"
    with raises_codat_error(400):
        sdk.transfers.create(
            request={
                "company_id": lc.company_id,
                "transaction_id": str(uuid.uuid4()),
                "transfer_transaction_request": body,
            }
        )


@pytest.mark.parametrize("linked_company", ["gbol"], indirect=True)
@pytest.mark.operations("create-transfer-transaction")
def test_transfer_update_unsupported_on_xero_is_400(sdk, linked_company):
    lc = linked_company
    transaction_id = str(uuid.uuid4())
    first = put_transfer(sdk, lc, transaction_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, first.sync_id))
    with raises_codat_error(400):
        put_transfer(sdk, lc, transaction_id, "120.00")


@pytest.mark.operations("create-transfer-transaction")
def test_transfer_for_unknown_company_is_404(sdk):
    body = {
        "date_": "2026-01-15T00:00:00",
        "from_": {"account_ref": {"id": "1"}, "amount": "5.00"},
        "to": {"account_ref": {"id": "2"}, "amount": "5.00"},
    }
    with raises_codat_error(404):
        sdk.transfers.create(
            request={
                "company_id": UNKNOWN_ID,
                "transaction_id": str(uuid.uuid4()),
                "transfer_transaction_request": body,
            }
        )
