"""Expense transactions: create (starts a sync), update (PUT, 202), duplicate protection, the
platform support matrix."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_sync_succeeded,
    expense_body,
    link_company,
    push_expense,
    raises_codat_error,
    update_expense_body,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-expense-transaction")
def test_create_expenses_syncs_them(sdk, linked_company):
    lc = linked_company
    refund_account_ok = any(
        "expense-transactions.Refund" in [getattr(v, "value", v) for v in (a.valid_for or [])]
        for a in lc.mapping.accounts
    )
    bodies = [expense_body(lc, reference="CARD-0001")]
    if refund_account_ok:
        from .helpers import expense_line

        bodies.append(expense_body(lc, type="Refund", lines=[expense_line(lc, "5.00", "Refund")]))
    created = sdk.expenses.create(request={"company_id": lc.company_id, "request_body": bodies})
    assert uuid.UUID(created.sync_id)
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))
    page = sdk.transaction_status.list(
        request={"company_id": lc.company_id, "sync_id": created.sync_id}
    )
    assert {r.transaction_id: r.status for r in page.results} == {
        b["id"]: "Completed" for b in bodies
    }


@pytest.mark.operations("create-expense-transaction")
def test_resending_a_completed_transaction_is_400(sdk, linked_company):
    transaction_id, _ = push_expense(sdk, linked_company)
    with raises_codat_error(400, contains=transaction_id):
        sdk.expenses.create(
            request={
                "company_id": linked_company.company_id,
                "request_body": [expense_body(linked_company, transaction_id)],
            }
        )


@pytest.mark.operations("create-expense-transaction", "update-expense-transaction")
def test_unknown_company_is_404(sdk):
    body = {
        "id": str(uuid.uuid4()),
        "type": "Payment",
        "issue_date": "2026-01-15T00:00:00",
        "currency": "USD",
        "lines": [{"net_amount": "1.00", "account_ref": {"id": "1"}}],
    }
    update = {k: v for k, v in body.items() if k != "id"}
    with raises_codat_error(404):
        sdk.expenses.create(request={"company_id": UNKNOWN_ID, "request_body": [body]})
    with raises_codat_error(404):
        sdk.expenses.update(
            request={
                "company_id": UNKNOWN_ID,
                "transaction_id": str(uuid.uuid4()),
                "update_expense_request": update,
            }
        )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("update-expense-transaction")
def test_update_a_synced_expense(sdk, linked_company):
    lc = linked_company
    transaction_id, first_sync = push_expense(sdk, lc)
    updated = sdk.expenses.update(
        request={
            "company_id": lc.company_id,
            "transaction_id": transaction_id,
            "update_expense_request": update_expense_body(lc, "55.00"),
        }
    )
    assert updated.sync_id and updated.sync_id != first_sync
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, updated.sync_id))
    rows = sdk.transaction_status.get(
        request={
            "company_id": lc.company_id,
            "sync_id": updated.sync_id,
            "transaction_id": transaction_id,
        }
    )
    assert rows[0].status == "Completed"


@pytest.mark.operations("create-expense-transaction", "update-expense-transaction")
def test_rejected_requests(sdk, linked_company):
    lc = linked_company
    # 1-50 transactions per call.
    with raises_codat_error(400):
        sdk.expenses.create(request={"company_id": lc.company_id, "request_body": []})
    with raises_codat_error(400):
        sdk.expenses.create(
            request={
                "company_id": lc.company_id,
                "request_body": [expense_body(lc) for _ in range(51)],
            }
        )
    # Schema violations the SDK lets through (it types these fields as plain strings).
    body = expense_body(lc)
    body["currency"] = "NOTACURRENCY"
    body["issue_date"] = "yesterday"
    with raises_codat_error(400):
        sdk.expenses.create(request={"company_id": lc.company_id, "request_body": [body]})
    # An update needs a transaction the company has synced before.
    with raises_codat_error(404):
        sdk.expenses.update(
            request={
                "company_id": linked_company.company_id,
                "transaction_id": str(uuid.uuid4()),
                "update_expense_request": update_expense_body(linked_company),
            }
        )


@pytest.mark.operations("update-expense-transaction")
def test_update_on_a_platform_without_updates_is_422(sdk):
    # Dynamics 365 Business Central is not in the spec's update-support table.
    lc = link_company(sdk, "trji")
    transaction_id, _ = push_expense(sdk, lc)
    with raises_codat_error(422):
        sdk.expenses.update(
            request={
                "company_id": lc.company_id,
                "transaction_id": transaction_id,
                "update_expense_request": update_expense_body(lc),
            }
        )
