"""Company info: read from the linked ledger; 409 before any ledger data was fetched."""

import pytest

from .helpers import CONTRACT_DB, UNKNOWN_ID, raises_codat_error

pytestmark = CONTRACT_DB


@pytest.mark.parametrize("linked_company", ["qhyg", "gbol"], indirect=True)
@pytest.mark.operations("get-company-info")
def test_company_info_of_a_linked_company(sdk, linked_company):
    info = sdk.company_info.get(request={"company_id": linked_company.company_id})
    assert info.company_name
    assert info.base_currency and len(info.base_currency) == 3
    # The seeded bank account used for expenses is in the base currency.
    assert linked_company.currency == info.base_currency


@pytest.mark.operations("get-company-info")
def test_company_info_before_linking_is_409(sdk, company):
    with raises_codat_error(409):
        sdk.company_info.get(request={"company_id": company.id})


@pytest.mark.operations("get-company-info")
def test_company_info_of_unknown_company_is_404(sdk):
    with raises_codat_error(404):
        sdk.company_info.get(request={"company_id": UNKNOWN_ID})
