"""Manage data (pull side): data status, refresh all / one data type, pull-operation history."""

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, assert_paging, raises_codat_error

pytestmark = CONTRACT_DB

EXPENSES_DATA_TYPES = (
    "chart_of_accounts",
    "bank_accounts",
    "company",
    "customers",
    "suppliers",
    "tax_rates",
    "tracking_categories",
)


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("get-data-status")
def test_data_status_after_linking(sdk, linked_company):
    statuses = sdk.manage_data.get(request={"company_id": linked_company.company_id})
    for name in EXPENSES_DATA_TYPES:
        status = getattr(statuses, name)
        assert status is not None, f"no data status for {name}"
        assert status.current_status
        assert status.last_successful_sync, f"{name} was fetched on link"


@pytest.mark.operations(
    "refresh-data-type", "get-pull-operation", "list-pull-operations", "refresh-all-data-types"
)
def test_refresh_and_pull_history(sdk, linked_company):
    lc = linked_company
    queued = sdk.manage_data.refresh_data_type(
        request={
            "company_id": lc.company_id,
            "data_type": "suppliers",
            "connection_id": lc.connection_id,
        }
    )
    assert queued.company_id == lc.company_id
    assert queued.connection_id == lc.connection_id
    assert queued.data_type == "suppliers"

    fetched = sdk.manage_data.get_pull_operation(
        request={"company_id": lc.company_id, "dataset_id": queued.id}
    )
    assert fetched.id == queued.id

    assert sdk.manage_data.refresh_all_data_types(request={"company_id": lc.company_id}) is None

    history = sdk.manage_data.list_pull_operations(
        request={"company_id": lc.company_id, "page": 1, "page_size": 100}
    )
    assert_paging(history, page_number=1, page_size=100)
    assert queued.id in [op.id for op in history.results]
    only_suppliers = sdk.manage_data.list_pull_operations(
        request={"company_id": lc.company_id, "query": "dataType=suppliers"}
    )
    assert only_suppliers.results
    assert {op.data_type for op in only_suppliers.results} == {"suppliers"}
    with raises_codat_error(400):
        sdk.manage_data.list_pull_operations(
            request={"company_id": linked_company.company_id, "query": "dataType=suppliers}"}
        )


@pytest.mark.operations("refresh-all-data-types", "refresh-data-type")
def test_refresh_without_an_accounting_connection_is_400(sdk, company):
    # Both operations document 400 for a request that cannot be processed; the company exists.
    with raises_codat_error(400):
        sdk.manage_data.refresh_all_data_types(request={"company_id": company.id})
    with raises_codat_error(400):
        sdk.manage_data.refresh_data_type(
            request={"company_id": company.id, "data_type": "suppliers"}
        )


@pytest.mark.operations(
    "get-data-status",
    "get-pull-operation",
    "list-pull-operations",
    "refresh-all-data-types",
    "refresh-data-type",
)
def test_unknown_company_or_dataset_is_404(sdk, company):
    with raises_codat_error(404):
        sdk.manage_data.get(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.manage_data.get_pull_operation(
            request={"company_id": company.id, "dataset_id": UNKNOWN_ID}
        )
    with raises_codat_error(404):
        sdk.manage_data.list_pull_operations(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.manage_data.refresh_all_data_types(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.manage_data.refresh_data_type(
            request={"company_id": UNKNOWN_ID, "data_type": "suppliers"}
        )
