"""Behaviour that spans resources, still seen through the SDK: Link's redirect back to the partner,
the daily quota (429 + Retry-After as an ErrorMessage), Idempotency-Key replay, the date formats
Codat accepts, and what deleting a company takes with it."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import (
    CONTRACT_DB,
    assert_sync_succeeded,
    expense_body,
    raises_codat_error,
    submit_link_form,
    today_iso,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


def redirect_params(response) -> dict[str, str]:
    assert response.status_code in (302, 303), "Link should redirect back to the partner"
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


@pytest.mark.operations("create-connection")
def test_link_approve_and_cancel_redirect_with_reserved_parameters(sdk, company):
    approved = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
    )
    params = redirect_params(submit_link_form(approved.link_url, "approve"))
    assert params["companyId"] == company.id
    assert params["connectionId"] == approved.id
    assert params["statusCode"] == "200"
    assert params.get("platform") == "gbol"

    other = sdk.companies.create(request={"name": "Cancels Link"})
    cancelled = sdk.connections.create(
        request={"company_id": other.id, "request_body": {"platform_key": "qhyg"}}
    )
    params = redirect_params(submit_link_form(cancelled.link_url, "cancel"))
    assert params["statusCode"] == "403"
    assert params["errorMessage"] == "User cancelled."


@pytest.mark.operations("list-companies")
def test_daily_quota_exhausted_is_429_with_retry_after(sdk, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 3
    with raises_codat_error(429) as excinfo:
        for _ in range(10):
            sdk.companies.list(request={})
    headers = {k.lower(): v for k, v in (excinfo.value.headers or {}).items()}
    assert int(headers["retry-after"]) > 0
    assert headers["x-rate-limit-remaining"] == "0"


@pytest.mark.operations("create-company")
def test_idempotency_key_replays_the_first_response(sdk):
    key = str(uuid.uuid4())
    first = sdk.companies.create(
        request={"name": "Idempotent Ltd"}, http_headers={"Idempotency-Key": key}
    )
    again = sdk.companies.create(
        request={"name": "Idempotent Ltd"}, http_headers={"Idempotency-Key": key}
    )
    assert again.id == first.id
    listed = sdk.companies.list(request={"query": "name=Idempotent Ltd"})
    assert listed.total_results == 1


@pytest.mark.operations("create-expense-transaction")
def test_issue_dates_in_every_documented_format(sdk, linked_company):
    lc = linked_company
    day = today_iso()[:10]
    bodies = [
        expense_body(lc, issue_date=f"{day}T00:00:00Z"),
        expense_body(lc, issue_date=f"{day}T09:30:00+01:00"),
        expense_body(lc, issue_date=f"{day}T00:00:00"),
        expense_body(lc, issue_date=day),
    ]
    created = sdk.expenses.create(request={"company_id": lc.company_id, "request_body": bodies})
    assert_sync_succeeded(wait_for_sync(sdk, lc.company_id, created.sync_id))


@pytest.mark.operations("delete-company", "get-connection", "get-sync-by-id")
def test_deleting_a_company_takes_its_connections_and_syncs(sdk, linked_company):
    lc = linked_company
    created = sdk.expenses.create(
        request={"company_id": lc.company_id, "request_body": [expense_body(lc)]}
    )
    wait_for_sync(sdk, lc.company_id, created.sync_id)
    sdk.companies.delete(request={"company_id": lc.company_id})
    with raises_codat_error(404):
        sdk.connections.get(
            request={"company_id": lc.company_id, "connection_id": lc.connection_id}
        )
    with raises_codat_error(404):
        sdk.sync.get(request={"company_id": lc.company_id, "sync_id": created.sync_id})
