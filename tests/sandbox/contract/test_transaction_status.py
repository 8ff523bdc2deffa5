"""Per-transaction status inside a sync: list (paged) and get (a one-item JSON array)."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_paging,
    expense_body,
    push_expense,
    raises_codat_error,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


@pytest.mark.operations("list-sync-transactions", "get-sync-transaction")
def test_completed_transaction_status(sdk, linked_company):
    lc = linked_company
    transaction_id, sync_id = push_expense(sdk, lc)

    page = sdk.transaction_status.list(
        request={"company_id": lc.company_id, "sync_id": sync_id, "page": 1, "page_size": 10}
    )
    assert_paging(page, page_number=1, page_size=10)
    assert page.total_results == 1
    (row,) = page.results
    assert row.transaction_id == transaction_id
    assert row.status == "Completed"
    assert row.message, "a completed transaction carries the id of the ledger record it created"

    one = sdk.transaction_status.get(
        request={"company_id": lc.company_id, "sync_id": sync_id, "transaction_id": transaction_id}
    )
    assert isinstance(one, list) and len(one) == 1
    assert one[0].transaction_id == transaction_id
    assert one[0].status == "Completed"


@pytest.mark.operations("list-sync-transactions")
def test_mixed_batch_reports_each_transaction(sdk, linked_company):
    lc = linked_company
    good = expense_body(lc)
    bad = expense_body(lc)
    bad["lines"][0]["account_ref"] = {"id": "no-such-account"}
    created = sdk.expenses.create(
        request={"company_id": lc.company_id, "request_body": [good, bad]}
    )
    final = wait_for_sync(sdk, lc.company_id, created.sync_id)
    # A sync with any failure counts as failed.
    assert final.sync_status_code not in (2000, 2040)
    page = sdk.transaction_status.list(
        request={"company_id": lc.company_id, "sync_id": created.sync_id}
    )
    statuses = {row.transaction_id: row.status for row in page.results}
    assert statuses == {good["id"]: "Completed", bad["id"]: "ValidationError"}
    message = next(row.message for row in page.results if row.transaction_id == bad["id"])
    assert message


@pytest.mark.operations("list-sync-transactions")
def test_list_sync_transactions_paging(sdk, linked_company):
    lc = linked_company
    bodies = [expense_body(lc) for _ in range(3)]
    created = sdk.expenses.create(request={"company_id": lc.company_id, "request_body": bodies})
    wait_for_sync(sdk, lc.company_id, created.sync_id)
    first = sdk.transaction_status.list(
        request={"company_id": lc.company_id, "sync_id": created.sync_id, "page": 1, "page_size": 2}
    )
    second = sdk.transaction_status.list(
        request={"company_id": lc.company_id, "sync_id": created.sync_id, "page": 2, "page_size": 2}
    )
    assert first.total_results == 3 and len(first.results) == 2 and len(second.results) == 1
    got = [r.transaction_id for r in first.results + second.results]
    assert sorted(got) == sorted(b["id"] for b in bodies)


@pytest.mark.operations("list-sync-transactions", "get-sync-transaction")
def test_bad_paging_is_400_and_unknown_ids_are_404(sdk, linked_company):
    lc = linked_company
    _, sync_id = push_expense(sdk, lc)
    with raises_codat_error(400):
        sdk.transaction_status.list(
            request={"company_id": lc.company_id, "sync_id": sync_id, "page_size": 0}
        )
    with raises_codat_error(404):
        sdk.transaction_status.list(request={"company_id": lc.company_id, "sync_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.transaction_status.get(
            request={
                "company_id": lc.company_id,
                "sync_id": sync_id,
                "transaction_id": str(uuid.uuid4()),
            }
        )
