"""Accounts: the create-account options and pushing a new account to the ledger."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_create_model,
    assert_create_on_pending_connection_is_400,
    assert_push_rejected,
    option_values,
    push_failure_text,
    raises_codat_error,
    wait_for_push,
)

pytestmark = CONTRACT_DB


def account_prototype(currency, category="Expense.Travel"):
    return {
        "nominal_code": str(7000 + uuid.uuid4().int % 999),
        "name": f"Contract Travel {uuid.uuid4().hex[:6]}",
        "description": "Created by the contract suite",
        "fully_qualified_category": category,
        "fully_qualified_name": "Expense.Travel.Contract",
        "currency": currency,
        "type": "Expense",
        "status": "Active",
        "is_bank_account": False,
    }


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-account", "get-create-chartOfAccounts-model")
def test_create_account(sdk, linked_company):
    lc = linked_company
    options = sdk.accounts.get_create_model(
        request={"company_id": lc.company_id, "connection_id": lc.connection_id}
    )
    assert_create_model(options, "account")
    # Where the platform restricts the category, take one it offers (as a real client would).
    categories = [
        c for c in option_values(options, "fullyQualifiedCategory") if c.startswith("Expense")
    ]
    prototype = account_prototype(lc.currency, *categories[:1])
    created = sdk.accounts.create(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            "account_prototype": prototype,
        }
    )
    assert created.company_id == lc.company_id
    assert created.data_connection_key == lc.connection_id
    assert created.data_type == "chartOfAccounts"
    assert created.status in ("Pending", "Success")
    done = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    mapping = sdk.mapping_options.get_mapping_options(request={"company_id": lc.company_id})
    assert prototype["name"] in [a.name for a in mapping.accounts]


@pytest.mark.operations("create-account")
def test_create_account_without_a_name_fails_validation(sdk, linked_company):
    lc = linked_company
    prototype = account_prototype(lc.currency)
    del prototype["name"]
    assert_push_rejected(
        sdk,
        lc.company_id,
        lambda: sdk.accounts.create(
            request={
                "company_id": lc.company_id,
                "connection_id": lc.connection_id,
                "account_prototype": prototype,
            }
        ),
    )


@pytest.mark.operations("create-account")
def test_create_account_on_pending_connection_is_400(sdk):
    assert_create_on_pending_connection_is_400(
        sdk, sdk.accounts.create, account_prototype=account_prototype("USD")
    )


@pytest.mark.operations("create-account", "get-create-chartOfAccounts-model")
def test_unknown_connection_is_404(sdk, company):
    with raises_codat_error(404):
        sdk.accounts.get_create_model(
            request={"company_id": company.id, "connection_id": UNKNOWN_ID}
        )
    with raises_codat_error(404):
        sdk.accounts.create(
            request={
                "company_id": company.id,
                "connection_id": UNKNOWN_ID,
                "account_prototype": account_prototype("USD"),
            }
        )
