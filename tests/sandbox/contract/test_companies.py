"""Companies: create, get, list (paging, query, tags), replace (PUT), update (PATCH), delete."""

import uuid

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, assert_paging, raises_codat_error

pytestmark = CONTRACT_DB


@pytest.mark.operations(
    "create-company", "get-company", "replace-company", "update-company", "delete-company"
)
def test_company_lifecycle(sdk):
    name = f"Acme Widgets {uuid.uuid4().hex[:6]}"
    created = sdk.companies.create(
        request={
            "name": name,
            "description": "Card programme customer",
            "tags": {"region": "uk", "tier": "gold"},
        }
    )
    assert created.name == name
    assert created.description == "Card programme customer"
    assert created.tags == {"region": "uk", "tier": "gold"}
    assert created.id in created.redirect

    fetched = sdk.companies.get(request={"company_id": created.id})
    assert (fetched.id, fetched.name, fetched.redirect) == (created.id, name, created.redirect)

    replaced = sdk.companies.replace(
        request={"company_id": created.id, "company_request_body": {"name": name + " Ltd"}}
    )
    assert replaced.name == name + " Ltd"
    # PUT replaces: fields left out are cleared.
    assert not replaced.description
    assert not replaced.tags

    patched = sdk.companies.update(
        request={"company_id": created.id, "company_update_request": {"description": "patched"}}
    )
    # PATCH only touches what it is given.
    assert patched.name == name + " Ltd"
    assert patched.description == "patched"

    assert sdk.companies.delete(request={"company_id": created.id}) is None
    with raises_codat_error(404):
        sdk.companies.get(request={"company_id": created.id})


@pytest.mark.operations("list-companies")
def test_list_companies_pages_and_filters(sdk):
    marker = uuid.uuid4().hex[:8]
    for i in range(3):
        sdk.companies.create(
            request={
                "name": f"Paging {marker} {i}",
                "tags": {"batch": marker, "idx": str(i)},
            }
        )
    first = sdk.companies.list(request={"page": 1, "page_size": 2, "query": f"name~{marker}"})
    assert_paging(first, page_number=1, page_size=2)
    assert first.total_results == 3
    assert len(first.results) == 2
    assert first.links.next is not None and first.links.next.href

    second = sdk.companies.list(request={"page": 2, "page_size": 2, "query": f"name~{marker}"})
    assert len(second.results) == 1
    assert {c.id for c in first.results}.isdisjoint({c.id for c in second.results})

    tagged = sdk.companies.list(request={"tags": "idx=1"})
    assert [c.name for c in tagged.results if marker in c.name] == [f"Paging {marker} 1"]

    ordered = sdk.companies.list(request={"query": f"name~{marker}", "order_by": "-name"})
    assert [c.name for c in ordered.results] == [f"Paging {marker} {i}" for i in (2, 1, 0)]


@pytest.mark.operations("list-companies")
def test_list_companies_malformed_query_is_400(sdk):
    with raises_codat_error(400):
        sdk.companies.list(request={"query": "{name=unclosed"})


@pytest.mark.operations("create-company")
def test_create_company_without_a_name_is_400(sdk):
    with raises_codat_error(400):
        sdk.companies.create(request={"name": ""})


@pytest.mark.operations("get-company", "delete-company", "update-company", "replace-company")
def test_unknown_company_is_404(sdk):
    with raises_codat_error(404):
        sdk.companies.get(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.companies.delete(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.companies.update(
            request={"company_id": UNKNOWN_ID, "company_update_request": {"name": "x"}}
        )
    with raises_codat_error(404):
        sdk.companies.replace(
            request={"company_id": UNKNOWN_ID, "company_request_body": {"name": "x"}}
        )


@pytest.mark.operations("list-companies", "create-company")
def test_bad_api_key_is_401(make_sdk):
    intruder = make_sdk(auth_header="Basic bm90LWEta2V5")  # "not-a-key"
    with raises_codat_error(401):
        intruder.companies.list(request={})
    with raises_codat_error(401):
        intruder.companies.create(request={"name": "Nope"})
    no_auth = make_sdk(auth_header="")
    with raises_codat_error(401):
        no_auth.companies.list(request={})
