"""Company configuration: set from mapping options / suppliers / customers, then read back."""

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, raises_codat_error, submit_link_form

pytestmark = CONTRACT_DB


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("get-company-configuration", "set-company-configuration")
def test_configuration_round_trip(sdk, linked_company):
    lc = linked_company
    config = sdk.configuration.get(request={"company_id": lc.company_id})
    assert config.bank_account.id == lc.bank_account.id
    assert config.supplier.id == lc.supplier.id
    assert config.customer.id == lc.customer.id

    other_banks = [
        a for a in lc.mapping.accounts if a.is_bank_account and a.id != lc.bank_account.id
    ]
    assert other_banks, "the seeded ledger should have more than one bank account"
    saved = sdk.configuration.set(
        request={
            "company_id": lc.company_id,
            "company_configuration": {
                "bank_account": {"id": other_banks[0].id},
                "supplier": {"id": lc.supplier.id},
                "customer": {"id": lc.customer.id},
            },
        }
    )
    assert saved.bank_account.id == other_banks[0].id
    again = sdk.configuration.get(request={"company_id": lc.company_id})
    assert again.bank_account.id == other_banks[0].id


@pytest.mark.operations("set-company-configuration")
def test_configuration_with_ids_not_in_the_ledger_is_400(sdk, linked_company):
    with raises_codat_error(400):
        sdk.configuration.set(
            request={
                "company_id": linked_company.company_id,
                "company_configuration": {
                    "bank_account": {"id": "no-such-bank-account"},
                    "supplier": {"id": linked_company.supplier.id},
                    "customer": {"id": linked_company.customer.id},
                },
            }
        )


@pytest.mark.operations("get-company-configuration", "set-company-configuration")
def test_configuration_of_unknown_company_is_404(sdk):
    with raises_codat_error(404):
        sdk.configuration.get(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.configuration.set(
            request={
                "company_id": UNKNOWN_ID,
                "company_configuration": {
                    "bank_account": {"id": "1"},
                    "supplier": {"id": "1"},
                    "customer": {"id": "1"},
                },
            }
        )


@pytest.mark.operations("get-mapping-options", "set-company-configuration")
def test_every_platform_accepts_a_bank_account_offered_by_mapping_options(sdk):
    """The Expenses API has no list-bank-accounts: mapping options are the only place a client
    learns bank account ids, so the configuration must accept the ones offered there."""
    for platform_key in ("knfz", "akxx", "rwuv", "fbrh", "trji"):
        company = sdk.companies.create(request={"name": f"Config {platform_key}"})
        connection = sdk.connections.create(
            request={"company_id": company.id, "request_body": {"platform_key": platform_key}}
        )
        submit_link_form(connection.link_url, "approve")
        mapping = sdk.mapping_options.get_mapping_options(request={"company_id": company.id})
        banks = [a for a in mapping.accounts if a.is_bank_account]
        assert banks, f"{platform_key}: mapping options offer no bank account"
        supplier = sdk.suppliers.list(request={"company_id": company.id}).results[0]
        customer = sdk.customers.list(request={"company_id": company.id}).results[0]
        for bank in banks:
            saved = sdk.configuration.set(
                request={
                    "company_id": company.id,
                    "company_configuration": {
                        "bank_account": {"id": bank.id},
                        "supplier": {"id": supplier.id},
                        "customer": {"id": customer.id},
                    },
                }
            )
            assert saved.bank_account.id == bank.id, platform_key
