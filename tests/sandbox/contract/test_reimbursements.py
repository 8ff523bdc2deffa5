"""Reimbursable expenses: bills against the employee-as-supplier; create and update."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_sync_succeeded,
    link_company,
    raises_codat_error,
    reimbursable_body,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


@pytest.mark.operations(
    "create-reimbursable-expense-transaction", "update-reimbursable-expense-transaction"
)
def test_create_and_update_reimbursable_on_qbo(sdk, linked_company):
    lc = linked_company
    body = reimbursable_body(lc)
    created = sdk.reimbursements.create(
        request={"company_id": lc.company_id, "request_body": [body]}
    )
    assert uuid.UUID(created.sync_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))

    update = reimbursable_body(lc, with_id=False)
    update["lines"][0]["net_amount"] = "21.00"
    updated = sdk.reimbursements.update(
        request={
            "company_id": lc.company_id,
            "transaction_id": body["id"],
            "update_reimbursable_expense_transaction_request": update,
        }
    )
    assert updated.sync_id != created.sync_id
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, updated.sync_id))


@pytest.mark.parametrize("linked_company", ["gbol"], indirect=True)
@pytest.mark.operations("create-reimbursable-expense-transaction")
def test_reimbursable_on_xero_is_400(sdk, linked_company):
    lc = linked_company
    accounts = [a for a in lc.mapping.accounts if not a.is_bank_account]
    body = {
        "id": str(uuid.uuid4()),
        "contact_ref": {"id": lc.supplier.id},
        "issue_date": "2026-01-15T00:00:00",
        "due_date": "2026-02-15T00:00:00",
        "currency": lc.currency,
        "lines": [{"net_amount": "10.00", "account_ref": {"id": accounts[0].id}}],
    }
    with raises_codat_error(400):
        sdk.reimbursements.create(request={"company_id": lc.company_id, "request_body": [body]})


@pytest.mark.operations(
    "create-reimbursable-expense-transaction", "update-reimbursable-expense-transaction"
)
def test_reimbursable_update_unsupported_on_qbd_is_400(sdk):
    # QuickBooks Desktop takes reimbursable creates but not updates (spec support table).
    lc = link_company(sdk, "pqsw")
    body = reimbursable_body(lc)
    created = sdk.reimbursements.create(
        request={"company_id": lc.company_id, "request_body": [body]}
    )
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))
    with raises_codat_error(400):
        sdk.reimbursements.update(
            request={
                "company_id": lc.company_id,
                "transaction_id": body["id"],
                "update_reimbursable_expense_transaction_request": reimbursable_body(
                    lc, with_id=False
                ),
            }
        )


@pytest.mark.operations("create-reimbursable-expense-transaction")
def test_resent_reimbursable_is_400(sdk, linked_company):
    lc = linked_company
    body = reimbursable_body(lc)
    created = sdk.reimbursements.create(
        request={"company_id": lc.company_id, "request_body": [body]}
    )
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))
    with raises_codat_error(400, contains=body["id"]):
        sdk.reimbursements.create(request={"company_id": lc.company_id, "request_body": [body]})


@pytest.mark.operations(
    "create-reimbursable-expense-transaction", "update-reimbursable-expense-transaction"
)
def test_reimbursable_unknown_company_is_404(sdk, linked_company):
    with raises_codat_error(404):
        sdk.reimbursements.create(
            request={"company_id": UNKNOWN_ID, "request_body": [reimbursable_body(linked_company)]}
        )
    with raises_codat_error(404):
        sdk.reimbursements.update(
            request={
                "company_id": UNKNOWN_ID,
                "transaction_id": str(uuid.uuid4()),
                "update_reimbursable_expense_transaction_request": reimbursable_body(
                    linked_company, with_id=False
                ),
            }
        )
