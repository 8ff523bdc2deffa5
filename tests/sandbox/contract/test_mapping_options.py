"""Mapping options: accounts, tracking categories and tax rates of the linked ledger."""

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, ev, raises_codat_error

pytestmark = CONTRACT_DB


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol", "pqsw"], indirect=True)
@pytest.mark.operations("get-mapping-options")
def test_mapping_options_of_a_linked_company(sdk, linked_company):
    options = sdk.mapping_options.get_mapping_options(
        request={"company_id": linked_company.company_id}
    )
    accounts = options.accounts or []
    assert accounts and options.tax_rates
    ids = [a.id for a in accounts]
    assert len(ids) == len(set(ids)), "account ids must be unique"
    assert any(a.is_bank_account for a in accounts)
    assert all(a.name and a.account_type for a in accounts)
    valid_for = {ev(v) for a in accounts for v in (a.valid_for or [])}
    assert "expense-transactions.Payment" in valid_for
    for category in options.tracking_categories or []:
        assert category.id and category.name


@pytest.mark.operations("get-mapping-options")
def test_mapping_options_of_unknown_company_is_404(sdk):
    with raises_codat_error(404):
        sdk.mapping_options.get_mapping_options(request={"company_id": UNKNOWN_ID})


@pytest.mark.operations("get-mapping-options")
def test_mapping_options_with_bad_key_is_401(make_sdk, company):
    intruder = make_sdk(auth_header="Basic c2FuZGJveC1kZXYta2V6")
    with raises_codat_error(401):
        intruder.mapping_options.get_mapping_options(request={"company_id": company.id})
