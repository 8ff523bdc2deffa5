"""Bank accounts: the create options and pushing a new bank account (e.g. a card) to the ledger."""

import uuid

import pytest

from .helpers import (
    CONTRACT_DB,
    UNKNOWN_ID,
    assert_create_model,
    assert_create_on_pending_connection_is_400,
    push_failure_text,
    raises_codat_error,
    wait_for_push,
)

pytestmark = CONTRACT_DB


def bank_account(currency):
    return {
        "account_name": f"Contract Card {uuid.uuid4().hex[:6]}",
        "account_type": "Credit",
        "nominal_code": str(8000 + uuid.uuid4().int % 999),
        "account_number": "4111",
        "currency": currency,
        "institution": "Contract Bank",
        "status": "Active",
    }


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("create-bank-account", "get-create-bankAccounts-model")
def test_create_bank_account(sdk, linked_company):
    lc = linked_company
    options = sdk.bank_accounts.get_create_model(
        request={"company_id": lc.company_id, "connection_id": lc.connection_id}
    )
    assert_create_model(options, "bank account")
    body = bank_account(lc.currency)
    created = sdk.bank_accounts.create(
        request={
            "company_id": lc.company_id,
            "connection_id": lc.connection_id,
            "bank_account": body,
        }
    )
    assert created.company_id == lc.company_id
    assert created.data_type == "bankAccounts"
    done = wait_for_push(sdk, lc.company_id, created.push_operation_key)
    assert done.status == "Success", push_failure_text(done)
    mapping = sdk.mapping_options.get_mapping_options(request={"company_id": lc.company_id})
    assert body["account_name"] in [a.name for a in mapping.accounts if a.is_bank_account]


@pytest.mark.operations("create-bank-account")
def test_create_bank_account_on_pending_connection_is_400(sdk):
    assert_create_on_pending_connection_is_400(
        sdk, sdk.bank_accounts.create, bank_account=bank_account("USD")
    )


@pytest.mark.operations("create-bank-account", "get-create-bankAccounts-model")
def test_unknown_company_is_404(sdk):
    with raises_codat_error(404):
        sdk.bank_accounts.get_create_model(
            request={"company_id": UNKNOWN_ID, "connection_id": UNKNOWN_ID}
        )
    with raises_codat_error(404):
        sdk.bank_accounts.create(
            request={
                "company_id": UNKNOWN_ID,
                "connection_id": UNKNOWN_ID,
                "bank_account": bank_account("USD"),
            }
        )
