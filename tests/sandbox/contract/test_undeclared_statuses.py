"""Refusals whose status the spec does not declare for the operation.

The SDK only raises its typed `errors.ErrorMessage` for the statuses an operation declares;
anything else becomes `SDKError`. Where a declared status is faithful to what Codat does, the
sandbox uses it (an unknown platformKey is a 404). Where none is, the sandbox keeps Codat's 400
and these tests pin down what a client then sees: `SDKError` with status 400 whose body is still
Codat's ErrorMessage JSON, so a client can read it after catching SDKError.
"""

import json
import uuid

import pytest
from codat_sync_for_expenses.models import errors

from .helpers import CONTRACT_DB, pending_connection, raises_codat_error

pytestmark = CONTRACT_DB


def assert_sdk_error_400(excinfo):
    err = excinfo.value
    assert not isinstance(err, errors.ErrorMessage)
    assert err.status_code == 400, err
    body = json.loads(err.body)
    assert body["statusCode"] == 400
    assert body["error"] and body["correlationId"]
    assert set(body) >= {"service", "canBeRetried", "detailedErrorCode", "validation"}
    return body


@pytest.mark.operations("create-connection")
def test_an_unknown_platform_key_is_a_typed_404(sdk, company):
    # 404 is declared for create-connection, and a key that names no integration is a missing
    # resource, so the SDK raises its typed ErrorMessage.
    with raises_codat_error(404, "No integration was found with key zzzz"):
        sdk.connections.create(
            request={"company_id": company.id, "request_body": {"platform_key": "zzzz"}}
        )


@pytest.mark.operations("create-connection")
def test_a_second_accounting_connection_is_an_sdk_error_400(sdk):
    company, _ = pending_connection(sdk)
    with pytest.raises(errors.SDKError) as excinfo:
        sdk.connections.create(
            request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
        )
    body = assert_sdk_error_400(excinfo)
    assert "already has an accounting connection" in body["error"]


@pytest.mark.operations("unlink-connection")
def test_unlink_to_a_status_other_than_unlinked_is_an_sdk_error_400(sdk):
    company, connection = pending_connection(sdk)
    with pytest.raises(errors.SDKError) as excinfo:
        sdk.connections.unlink(
            request={
                "company_id": company.id,
                "connection_id": connection.id,
                "request_body": {"status": "Linked"},
            }
        )
    body = assert_sdk_error_400(excinfo)
    assert body["validation"]["errors"][0]["itemId"] == "status"
    after = sdk.connections.get(request={"company_id": company.id, "connection_id": connection.id})
    assert after.status == "PendingAuth"


@pytest.mark.parametrize("name", ["", "(((("])
@pytest.mark.operations("replace-company", "update-company", "get-company")
def test_replace_or_update_with_an_empty_name_is_an_sdk_error_400(sdk, name):
    original = f"Contract named {uuid.uuid4().hex[:6]}"
    company = sdk.companies.create(request={"name": original})
    with pytest.raises(errors.SDKError) as excinfo:
        sdk.companies.replace(
            request={"company_id": company.id, "company_request_body": {"name": name}}
        )
    assert assert_sdk_error_400(excinfo)["validation"]["errors"][0]["itemId"] == "name"
    with pytest.raises(errors.SDKError) as excinfo:
        sdk.companies.update(
            request={"company_id": company.id, "company_update_request": {"name": name}}
        )
    assert assert_sdk_error_400(excinfo)["validation"]["errors"][0]["itemId"] == "name"
    assert sdk.companies.get(request={"company_id": company.id}).name == original
