"""Customers: list (paged, queryable), get, create (push) and update
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


def new_customer(currency, name=None):
    return {
        "customer_name": name or f"Contract Customer {uuid.uuid4().hex[:6]}",
        "contact_name": "Jo Bloggs",
        "email_address": "jo@example.com",
        "status": "Active",
        "default_currency": currency,
        "addresses": [
            {"type": "Billing", "line1": "1 High Street", "city": "London", "country": "GB"}
        ],
    }


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("list-customers", "get-customer")
def test_list_and_get(sdk, linked_company):
    lc = linked_company
    page = sdk.customers.list(request={"company_id": lc.company_id, "page": 1, "page_size": 2})
    assert_paging(page, page_number=1, page_size=2)
    assert page.results and len(page.results) <= 2
    first = page.results[0]
    assert first.id and first.status
    one = sdk.customers.get(request={"company_id": lc.company_id, "customer_id": first.id})
    assert one.id == first.id
    assert one.customer_name == first.customer_name

    filtered = sdk.customers.list(
        request={"company_id": lc.company_id, "query": f"customerName={first.customer_name}"}
    )
    assert first.id in [r.id for r in filtered.results]
    ordered = sdk.customers.list(request={"company_id": lc.company_id, "order_by": "customerName"})
    names = [(r.customer_name or "").lower() for r in ordered.results]
    assert names == sorted(names)


@pytest.mark.operations("list-customers", "get-customer")
def test_before_any_ledger_data_is_409(sdk, company):
    with raises_codat_error(409):
        sdk.customers.list(request={"company_id": company.id})
    with raises_codat_error(409):
        sdk.customers.get(request={"company_id": company.id, "customer_id": "1"})


@pytest.mark.operations("list-customers", "get-customer")
def test_malformed_query_is_400_unknown_ids_are_404(sdk, linked_company):
    with raises_codat_error(404):
        sdk.customers.list(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.customers.get(
            request={"company_id": linked_company.company_id, "customer_id": "no-such-customer"}
        )
    with raises_codat_error(400):
        sdk.customers.list(
            request={"company_id": linked_company.company_id, "query": "customerName="}
        )


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-customer", "update-customer")
def test_create_then_update(sdk, linked_company):
    lc = linked_company
    body = new_customer(lc.currency)
    created = sdk.customers.create(
        request={"company_id": lc.company_id, "connection_id": lc.connection_id, "customer": body}
    )
    assert created.company_id == lc.company_id
    assert created.data_connection_key == lc.connection_id
    assert created.data_type == "customers"
    done = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    new_id = next(
        (c.record_ref.id for c in (done.changes or []) if c.record_ref and c.record_ref.id),
        None,
    ) or (created.data.id if created.data else None)
    assert new_id, "the push operation names the record it created"
    stored = sdk.customers.get(request={"company_id": lc.company_id, "customer_id": new_id})
    assert stored.customer_name == body["customer_name"]

    changed = dict(body, customer_name=body["customer_name"] + " (renamed)")
    updated = sdk.customers.update(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            "customer_id": new_id,
            "force_update": True,
            "customer": changed,
        }
    )
    assert updated.data_type == "customers"
    done = wait_for_push(sdk, lc.company_id, updated.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    stored = sdk.customers.get(request={"company_id": lc.company_id, "customer_id": new_id})
    assert stored.customer_name == changed["customer_name"]


@pytest.mark.operations("create-customer")
def test_create_on_pending_connection_is_400(sdk):
    company, connection = pending_connection(sdk)
    with raises_codat_error(400):
        sdk.customers.create(
            request={
                "company_id": company.id,
                "connection_id": connection.id,
                "customer": new_customer("USD"),
            }
        )


@pytest.mark.operations("update-customer")
def test_update_unsupported_on_netsuite_is_400(sdk):
    lc = link_company(sdk, "akxx")
    existing = sdk.customers.list(request={"company_id": lc.company_id}).results[0]
    with raises_codat_error(400):
        sdk.customers.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "customer_id": existing.id,
                "customer": new_customer(lc.currency, existing.customer_name),
            }
        )


@pytest.mark.operations("create-customer", "update-customer")
def test_invalid_pushes(sdk, linked_company):
    lc = linked_company
    with raises_codat_error(404):
        sdk.customers.create(
            request={
                "company_id": lc.company_id,
                "connection_id": UNKNOWN_ID,
                "customer": new_customer(lc.currency),
            }
        )
    with raises_codat_error(404):
        sdk.customers.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "customer_id": "no-such-customer",
                "customer": new_customer(lc.currency),
            }
        )
    assert_push_rejected(
        sdk,
        lc.company_id,
        lambda: sdk.customers.create(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "customer": {"customer_name": "", "status": "Active"},
            }
        ),
    )
