"""Suppliers: list (paged, queryable), get, create (push) and update
(push; QBO, Xero and FreeAgent only)."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_paging,
    assert_push_rejected,
    link_company,
    pending_connection,
    push_failure_text,
    raises_codat_error,
    wait_for_push,
)

pytestmark = CONTRACT_DB


def new_supplier(currency, name=None):
    return {
        "supplier_name": name or f"Contract Supplier {uuid.uuid4().hex[:6]}",
        "contact_name": "Jo Bloggs",
        "email_address": "jo@example.com",
        "status": "Active",
        "default_currency": currency,
        "addresses": [
            {"type": "Billing", "line1": "1 High Street", "city": "London", "country": "GB"}
        ],
    }


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("list-suppliers", "get-supplier")
def test_list_and_get(sdk, linked_company):
    lc = linked_company
    page = sdk.suppliers.list(request={"company_id": lc.company_id, "page": 1, "page_size": 2})
    assert_paging(page, page_number=1, page_size=2)
    assert page.results and len(page.results) <= 2
    first = page.results[0]
    assert first.id and first.status
    one = sdk.suppliers.get(request={"company_id": lc.company_id, "supplier_id": first.id})
    assert one.id == first.id
    assert one.supplier_name == first.supplier_name

    filtered = sdk.suppliers.list(
        request={"company_id": lc.company_id, "query": f"supplierName={first.supplier_name}"}
    )
    assert first.id in [r.id for r in filtered.results]
    ordered = sdk.suppliers.list(request={"company_id": lc.company_id, "order_by": "supplierName"})
    names = [(r.supplier_name or "").lower() for r in ordered.results]
    assert names == sorted(names)


@pytest.mark.operations("list-suppliers", "get-supplier")
def test_before_any_ledger_data_is_409(sdk, company):
    with raises_codat_error(409):
        sdk.suppliers.list(request={"company_id": company.id})
    with raises_codat_error(409):
        sdk.suppliers.get(request={"company_id": company.id, "supplier_id": "1"})


@pytest.mark.operations("list-suppliers", "get-supplier")
def test_malformed_query_is_400_unknown_ids_are_404(sdk, linked_company):
    with raises_codat_error(404):
        sdk.suppliers.list(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.suppliers.get(
            request={"company_id": linked_company.company_id, "supplier_id": "no-such-supplier"}
        )
    with raises_codat_error(400):
        sdk.suppliers.list(
            request={"company_id": linked_company.company_id, "query": "supplierName="}
        )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-supplier", "update-supplier")
def test_create_then_update(sdk, linked_company):
    lc = linked_company
    body = new_supplier(lc.currency)
    created = sdk.suppliers.create(
        request={"company_id": lc.company_id, "connection_id": lc.connection_id, "supplier": body}
    )
    assert created.company_id == lc.company_id
    assert created.data_connection_key == lc.connection_id
    assert created.data_type == "suppliers"
    done = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    new_id = next(
        (c.record_ref.id for c in (done.changes or []) if c.record_ref and c.record_ref.id),
        None,
    ) or (created.data.id if created.data else None)
    assert new_id, "the push operation names the record it created"
    stored = sdk.suppliers.get(request={"company_id": lc.company_id, "supplier_id": new_id})
    assert stored.supplier_name == body["supplier_name"]

    changed = dict(body, supplier_name=body["supplier_name"] + " (renamed)")
    updated = sdk.suppliers.update(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            "supplier_id": new_id,
            "force_update": True,
            "supplier": changed,
        }
    )
    assert updated.data_type == "suppliers"
    done = wait_for_push(sdk, lc.company_id, updated.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    stored = sdk.suppliers.get(request={"company_id": lc.company_id, "supplier_id": new_id})
    assert stored.supplier_name == changed["supplier_name"]


@pytest.mark.operations("create-supplier")
def test_create_on_pending_connection_is_400(sdk):
    company, connection = pending_connection(sdk)
    with raises_codat_error(400):
        sdk.suppliers.create(
            request={
                "company_id": company.id,
                "connection_id": connection.id,
                "supplier": new_supplier("USD"),
            }
        )


@pytest.mark.operations("update-supplier")
def test_update_unsupported_on_netsuite_is_400(sdk):
    lc = link_company(sdk, "akxx")
    existing = sdk.suppliers.list(request={"company_id": lc.company_id}).results[0]
    with raises_codat_error(400):
        sdk.suppliers.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "supplier_id": existing.id,
                "supplier": new_supplier(lc.currency, existing.supplier_name),
            }
        )


@pytest.mark.operations("create-supplier", "update-supplier")
def test_invalid_pushes(sdk, linked_company):
    lc = linked_company
    with raises_codat_error(404):
        sdk.suppliers.create(
            request={
                "company_id": lc.company_id,
                "connection_id": UNKNOWN_ID,
                "supplier": new_supplier(lc.currency),
            }
        )
    with raises_codat_error(404):
        sdk.suppliers.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "supplier_id": "no-such-supplier",
                "supplier": new_supplier(lc.currency),
            }
        )
    assert_push_rejected(
        sdk,
        lc.company_id,
        lambda: sdk.suppliers.create(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "supplier": {"supplier_name": "", "status": "Active"},
            }
        ),
    )
