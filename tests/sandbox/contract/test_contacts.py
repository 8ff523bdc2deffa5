"""Customers and suppliers: list (paged, queryable), get, create (push) and update (push; only
where the platform supports it).

The two resources behave alike and differ only in names, so each test runs once per resource,
from the table `CONTACTS` below."""

import uuid
from dataclasses import dataclass

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_create_on_pending_connection_is_400,
    assert_paging,
    assert_push_rejected,
    link_company,
    push_failure_text,
    raises_codat_error,
    wait_for_push,
)

pytestmark = CONTRACT_DB


@dataclass(frozen=True)
class Contact:
    """How one contact resource is spelt: in the SDK, in its requests and in the spec."""

    kind: str  # test ids and generated names: "customer"
    sdk_attr: str  # the SDK resource, sdk.<sdk_attr>
    id_param: str  # request field naming one record (get, update)
    body_param: str  # request field carrying the record (create, update)
    name_field: str  # the record's name on the SDK's models and in request bodies
    name_query: str  # the same field in the API's `query` / `orderBy` language
    data_type: str  # the push operation's dataType
    list_op: str
    get_op: str
    create_op: str
    update_op: str
    update_platforms: tuple[str, ...]  # platform keys whose connections support update
    no_update_platform: str  # a platform key whose connections do not

    def api(self, sdk):
        return getattr(sdk, self.sdk_attr)

    def name_of(self, record) -> str | None:
        return getattr(record, self.name_field)

    def new(self, currency, name=None) -> dict:
        return {
            self.name_field: name or f"Contract {self.kind.title()} {uuid.uuid4().hex[:6]}",
            "contact_name": "Jo Bloggs",
            "email_address": "jo@example.com",
            "status": "Active",
            "default_currency": currency,
            "addresses": [
                {"type": "Billing", "line1": "1 High Street", "city": "London", "country": "GB"}
            ],
        }


CONTACTS = (
    Contact(
        kind="customer",
        sdk_attr="customers",
        id_param="customer_id",
        body_param="customer",
        name_field="customer_name",
        name_query="customerName",
        data_type="customers",
        list_op="list-customers",
        get_op="get-customer",
        create_op="create-customer",
        update_op="update-customer",
        update_platforms=("qhyg", "gbol"),  # QBO, Xero
        no_update_platform="akxx",  # NetSuite
    ),
    Contact(
        kind="supplier",
        sdk_attr="suppliers",
        id_param="supplier_id",
        body_param="supplier",
        name_field="supplier_name",
        name_query="supplierName",
        data_type="suppliers",
        list_op="list-suppliers",
        get_op="get-supplier",
        create_op="create-supplier",
        update_op="update-supplier",
        update_platforms=("qhyg", "gbol"),  # QBO, Xero
        no_update_platform="akxx",  # NetSuite
    ),
)
LIST_PLATFORMS = ("qhyg", "gbol")


def per_contact(operations, platforms=None):
    """Parameters for `contact` (and, given `platforms(contact)`, the indirect `linked_company`):
    one per contact resource and platform, each marked with the operationIds it sends."""
    params = []
    for contact in CONTACTS:
        marks = pytest.mark.operations(*operations(contact))
        if platforms is None:
            params.append(pytest.param(contact, marks=marks, id=contact.kind))
        else:
            params.extend(
                pytest.param(contact, platform, marks=marks, id=f"{contact.kind}-{platform}")
                for platform in platforms(contact)
            )
    return params


@pytest.mark.parametrize(
    "contact,linked_company",
    per_contact(lambda c: (c.list_op, c.get_op), platforms=lambda c: LIST_PLATFORMS),
    indirect=["linked_company"],
)
def test_list_and_get(sdk, contact, linked_company):
    lc = linked_company
    api = contact.api(sdk)
    page = api.list(request={"company_id": lc.company_id, "page": 1, "page_size": 2})
    assert_paging(page, page_number=1, page_size=2)
    assert page.results and len(page.results) <= 2
    first = page.results[0]
    assert first.id and first.status
    one = api.get(request={"company_id": lc.company_id, contact.id_param: first.id})
    assert one.id == first.id
    assert contact.name_of(one) == contact.name_of(first)

    filtered = api.list(
        request={
            "company_id": lc.company_id,
            "query": f"{contact.name_query}={contact.name_of(first)}",
        }
    )
    assert first.id in [r.id for r in filtered.results]
    ordered = api.list(request={"company_id": lc.company_id, "order_by": contact.name_query})
    names = [(contact.name_of(r) or "").lower() for r in ordered.results]
    assert names == sorted(names)


@pytest.mark.parametrize("contact", per_contact(lambda c: (c.list_op, c.get_op)))
def test_before_any_ledger_data_is_409(sdk, contact, company):
    api = contact.api(sdk)
    with raises_codat_error(409):
        api.list(request={"company_id": company.id})
    with raises_codat_error(409):
        api.get(request={"company_id": company.id, contact.id_param: "1"})


@pytest.mark.parametrize("contact", per_contact(lambda c: (c.list_op, c.get_op)))
def test_malformed_query_is_400_unknown_ids_are_404(sdk, contact, linked_company):
    api = contact.api(sdk)
    with raises_codat_error(404):
        api.list(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        api.get(
            request={
                "company_id": linked_company.company_id,
                contact.id_param: f"no-such-{contact.kind}",
            }
        )
    with raises_codat_error(400):
        api.list(
            request={"company_id": linked_company.company_id, "query": f"{contact.name_query}="}
        )


@pytest.mark.parametrize(
    "contact,linked_company",
    per_contact(lambda c: (c.create_op, c.update_op), platforms=lambda c: c.update_platforms),
    indirect=["linked_company"],
)
def test_create_then_update(sdk, contact, linked_company):
    lc = linked_company
    api = contact.api(sdk)
    body = contact.new(lc.currency)
    created = api.create(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            contact.body_param: body,
        }
    )
    assert created.company_id == lc.company_id
    assert created.data_connection_key == lc.connection_id
    assert created.data_type == contact.data_type
    done = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    new_id = next(
        (c.record_ref.id for c in (done.changes or []) if c.record_ref and c.record_ref.id),
        None,
    ) or (created.data.id if created.data else None)
    assert new_id, "the push operation names the record it created"
    stored = api.get(request={"company_id": lc.company_id, contact.id_param: new_id})
    assert contact.name_of(stored) == body[contact.name_field]

    changed = dict(body, **{contact.name_field: body[contact.name_field] + " (renamed)"})
    updated = api.update(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            contact.id_param: new_id,
            "force_update": True,
            contact.body_param: changed,
        }
    )
    assert updated.data_type == contact.data_type
    done = wait_for_push(sdk, lc.company_id, updated.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    stored = api.get(request={"company_id": lc.company_id, contact.id_param: new_id})
    assert contact.name_of(stored) == changed[contact.name_field]


@pytest.mark.parametrize("contact", per_contact(lambda c: (c.create_op,)))
def test_create_on_pending_connection_is_400(sdk, contact):
    assert_create_on_pending_connection_is_400(
        sdk, contact.api(sdk).create, **{contact.body_param: contact.new("USD")}
    )


@pytest.mark.parametrize("contact", per_contact(lambda c: (c.update_op,)))
def test_update_unsupported_by_the_platform_is_400(sdk, contact):
    lc = link_company(sdk, contact.no_update_platform)
    api = contact.api(sdk)
    existing = api.list(request={"company_id": lc.company_id}).results[0]
    with raises_codat_error(400):
        api.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                contact.id_param: existing.id,
                contact.body_param: contact.new(lc.currency, contact.name_of(existing)),
            }
        )


@pytest.mark.parametrize("contact", per_contact(lambda c: (c.create_op, c.update_op)))
def test_invalid_pushes(sdk, contact, linked_company):
    lc = linked_company
    api = contact.api(sdk)
    with raises_codat_error(404):
        api.create(
            request={
                "company_id": lc.company_id,
                "connection_id": UNKNOWN_ID,
                contact.body_param: contact.new(lc.currency),
            }
        )
    with raises_codat_error(404):
        api.update(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                contact.id_param: f"no-such-{contact.kind}",
                contact.body_param: contact.new(lc.currency),
            }
        )
    assert_push_rejected(
        sdk,
        lc.company_id,
        lambda: api.create(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                contact.body_param: {contact.name_field: "", "status": "Active"},
            }
        ),
    )
