"""Push operations: the write history of a company (paged, queryable) and one operation."""

import uuid

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, assert_paging, raises_codat_error, wait_for_push

pytestmark = CONTRACT_DB


def create_supplier(sdk, lc, name=None):
    return sdk.suppliers.create(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            "supplier": {
                "supplier_name": name or f"Contract Supplier {uuid.uuid4().hex[:6]}",
                "status": "Active",
                "default_currency": lc.currency,
            },
        }
    )


@pytest.mark.operations("get-push-operation", "list-push-operations")
def test_push_history_and_malformed_query(sdk, linked_company):
    lc = linked_company
    created = create_supplier(sdk, lc)
    operation = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert operation.push_operation_key == created.push_operation_key
    assert operation.company_id == lc.company_id
    assert operation.data_connection_key == lc.connection_id
    assert operation.data_type == "suppliers"
    assert operation.status == "Success"
    assert operation.completed_on_utc

    second = create_supplier(sdk, lc)
    history = sdk.push_operations.list(
        request={
            "company_id": lc.company_id,
            "page": 1,
            "page_size": 1,
            "order_by": "-requestedOnUtc",
        }
    )
    assert_paging(history, page_number=1, page_size=1)
    assert history.total_results == 2
    assert [op.push_operation_key for op in history.results] == [second.push_operation_key]

    succeeded = sdk.push_operations.list(
        request={"company_id": lc.company_id, "query": "status=Success"}
    )
    assert created.push_operation_key in [op.push_operation_key for op in succeeded.results]
    with raises_codat_error(400):
        sdk.push_operations.list(
            request={"company_id": linked_company.company_id, "query": "status=Success ||"}
        )


@pytest.mark.operations("get-push-operation", "list-push-operations")
def test_unknown_company_or_operation_is_404(sdk, company):
    with raises_codat_error(404):
        sdk.push_operations.get(
            request={"company_id": company.id, "push_operation_key": UNKNOWN_ID}
        )
    with raises_codat_error(404):
        sdk.push_operations.list(request={"company_id": UNKNOWN_ID})
