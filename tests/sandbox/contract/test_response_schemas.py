"""Responses against the schemas of Codat's spec.

Every test of this suite has each response its SDK clients receive validated against the JSON
Schema the spec declares for that operation and status (conftest.py, `response_schemas.py`). The
tests here check that the validation is really on and really catches what the SDK's lenient models
let through, and pin the one case it found: a property with no value is left out, never sent as
`null` where the spec types it as a string.
"""

import json

import httpx
import pytest

from .helpers import AUTH_HEADER, CONTRACT_DB, SHARED_SPEC_PATH, spec_operations

UNCONFIGURED = {"bankAccount": {}, "supplier": {}, "customer": {}}


@pytest.fixture
def contract(response_contract):
    if response_contract is None:
        pytest.skip(
            f"{SHARED_SPEC_PATH} is not beside this checkout: "
            "responses are not validated against Codat's schemas in this run"
        )
    return response_contract


def test_the_spec_is_openapi_3_1(contract):
    # `response_schemas.py` reads the schemas as JSON Schema 2020-12 (OpenAPI 3.1) and gives
    # `nullable: true` its 3.0 meaning, which this spec relies on; a new version needs a new look.
    assert contract.openapi_version == "3.1.0"


def test_every_operation_has_its_response_schemas(contract):
    assert {
        (o.operation_id, o.method, o.path_template) for o in contract.operations
    } == spec_operations()
    for operation in contract.operations:
        assert any(pointer for pointer in operation.responses.values()), operation.operation_id


def test_the_validation_catches_a_null_string_and_allows_a_nullable_one(contract):
    old_answer = {"bankAccount": {"id": None}, "supplier": {"id": None}, "customer": {"id": None}}
    violations = contract.check(
        "GET",
        "/companies/c/sync/expenses/config",
        200,
        "application/json",
        json.dumps(old_answer).encode(),
    )
    assert sorted(str(v).split(": ", 1)[1] for v in violations) == [
        "at $.bankAccount.id: None is not of type 'string'",
        "at $.customer.id: None is not of type 'string'",
        "at $.supplier.id: None is not of type 'string'",
    ]
    # CompanySyncStatus.errorMessage is `type: string, nullable: true`.
    status = {"companyId": "c", "syncId": "s", "syncStatusCode": 2000, "errorMessage": None}
    assert not contract.check(
        "GET",
        "/companies/c/sync/expenses/syncs/latest/status",
        200,
        "application/json",
        json.dumps(status).encode(),
    )


def test_literal_path_segments_win_over_parameters(contract):
    latest = contract.operation_for("GET", "/companies/c/sync/expenses/syncs/latest/status")
    by_id = contract.operation_for("GET", "/companies/c/sync/expenses/syncs/s/status")
    assert latest.operation_id == "get-latest-sync"
    assert by_id.operation_id == "get-sync-by-id"


@CONTRACT_DB
@pytest.mark.operations("get-company-configuration")
def test_unconfigured_company_configuration_leaves_the_ids_out(
    sdk, company, server_url, response_contract, response_log
):
    config = sdk.configuration.get(request={"company_id": company.id})
    assert config.bank_account.id is None
    assert config.supplier.id is None
    assert config.customer.id is None
    if response_contract is not None:
        assert response_log.checked == 2, "create-company and get-company-configuration"
    raw = httpx.get(
        f"{server_url}/companies/{company.id}/sync/expenses/config",
        headers={"Authorization": AUTH_HEADER},
        timeout=10,
    )
    assert raw.status_code == 200
    assert raw.json() == UNCONFIGURED
