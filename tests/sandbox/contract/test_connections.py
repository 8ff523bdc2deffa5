"""Connections: create (PendingAuth + linkUrl), the Link page, get, list, unlink, delete, and the
partner-expense connection."""

from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, assert_paging, raises_codat_error, submit_link_form

pytestmark = CONTRACT_DB

PLATFORM_NAMES = {"qhyg": "QuickBooks Online", "gbol": "Xero"}


@pytest.mark.parametrize("platform_key", ["qhyg", "gbol"])
@pytest.mark.operations(
    "create-connection",
    "get-connection",
    "list-connections",
    "unlink-connection",
    "delete-connection",
)
def test_accounting_connection_lifecycle(sdk, company, platform_key):
    created = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": platform_key}}
    )
    assert created.status == "PendingAuth"
    assert created.source_type == "Accounting"
    assert created.platform_name == PLATFORM_NAMES[platform_key]
    assert created.integration_key in (None, platform_key)
    assert created.link_url.startswith("http")
    assert company.id in created.link_url and created.id in created.link_url

    submit_link_form(created.link_url, "approve")
    linked = sdk.connections.get(request={"company_id": company.id, "connection_id": created.id})
    assert linked.status == "Linked"
    assert linked.id == created.id

    listed = sdk.connections.list(request={"company_id": company.id})
    assert_paging(listed)
    assert [c.id for c in listed.results] == [created.id]

    unlinked = sdk.connections.unlink(
        request={
            "company_id": company.id,
            "connection_id": created.id,
            "request_body": {"status": "Unlinked"},
        }
    )
    assert unlinked.status == "Unlinked"

    assert (
        sdk.connections.delete(request={"company_id": company.id, "connection_id": created.id})
        is None
    )
    with raises_codat_error(404):
        sdk.connections.get(request={"company_id": company.id, "connection_id": created.id})


@pytest.mark.operations("create-connection", "get-connection")
def test_cancel_on_the_link_page_leaves_the_connection_unlinked(sdk, company):
    created = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": "qhyg"}}
    )
    submit_link_form(created.link_url, "cancel")
    after = sdk.connections.get(request={"company_id": company.id, "connection_id": created.id})
    assert after.status != "Linked"


@pytest.mark.operations("create-connection", "get-connection")
def test_simulate_an_error_on_the_link_page_redirects_500_and_stays_pending(sdk, company):
    created = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": "qhyg"}}
    )
    response = submit_link_form(created.link_url, "simulate an error")
    params = parse_qs(urlsplit(response.headers["Location"]).query, keep_blank_values=True)
    assert params["statusCode"] == ["500"]
    assert params["errorMessage"] == ["Unknown error occurred."]
    after = sdk.connections.get(request={"company_id": company.id, "connection_id": created.id})
    assert after.status == "PendingAuth"


@pytest.mark.operations("create-partner-expense-connection", "list-connections")
def test_partner_expense_connection_is_born_linked(sdk, company):
    partner = sdk.connections.create_partner_expense_connection(request={"company_id": company.id})
    assert partner.status == "Linked"
    assert partner.source_type == "Expense"
    listed = sdk.connections.list(request={"company_id": company.id, "query": "status=Linked"})
    assert partner.id in [c.id for c in listed.results]


@pytest.mark.operations("list-connections")
def test_list_connections_malformed_query_is_400(sdk, company):
    with raises_codat_error(400):
        sdk.connections.list(request={"company_id": company.id, "query": "status=Linked &&"})


@pytest.mark.operations(
    "create-connection",
    "get-connection",
    "list-connections",
    "delete-connection",
    "unlink-connection",
    "create-partner-expense-connection",
)
def test_unknown_company_or_connection_is_404(sdk, company):
    with raises_codat_error(404):
        sdk.connections.create(
            request={"company_id": UNKNOWN_ID, "request_body": {"platform_key": "qhyg"}}
        )
    with raises_codat_error(404):
        sdk.connections.list(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.connections.create_partner_expense_connection(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.connections.get(request={"company_id": company.id, "connection_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.connections.delete(request={"company_id": company.id, "connection_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.connections.unlink(
            request={
                "company_id": company.id,
                "connection_id": UNKNOWN_ID,
                "request_body": {"status": "Unlinked"},
            }
        )


@pytest.mark.operations("get-connection")
def test_bad_api_key_is_401(make_sdk, sdk, company):
    intruder = make_sdk(auth_header="Basic d3Jvbmc=")
    with raises_codat_error(401):
        intruder.connections.get(request={"company_id": company.id, "connection_id": UNKNOWN_ID})
