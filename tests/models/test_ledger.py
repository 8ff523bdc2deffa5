from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations.ledger.models import (
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    ExpenseCategory,
    LedgerRefresh,
    RecordStatus,
    TaxRate,
)

from .factories import (
    REFUSED,
    make_bank_account,
    make_card,
    make_category,
    make_company,
    make_customer,
    make_ledger_account,
    make_supplier,
    make_tax_rate,
    make_tracking_category,
)

pytestmark = pytest.mark.django_db

CACHED = [
    make_ledger_account,
    make_tax_rate,
    make_tracking_category,
    make_supplier,
    make_customer,
    make_bank_account,
]


@pytest.mark.parametrize("make", CACHED, ids=lambda f: f.__name__)
def test_it_keeps_one_copy_of_each_ledger_record_per_company(make):
    company = make_company()
    make(company, codat_id="35")
    with pytest.raises(IntegrityError), transaction.atomic():
        make(company, codat_id="35")
    # Ledger ids are only unique within one ledger.
    make(make_company(), codat_id="35")


def test_it_keeps_one_company_info_per_company():
    company = make_company()
    CompanyInfo.objects.create(company=company, base_currency="GBP")
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyInfo.objects.create(company=company, base_currency="USD")


def test_it_keeps_one_refresh_record_per_data_type():
    company = make_company()
    LedgerRefresh.objects.create(company=company, data_type=LedgerRefresh.DataType.SUPPLIERS)
    LedgerRefresh.objects.create(company=company, data_type=LedgerRefresh.DataType.CUSTOMERS)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerRefresh.objects.create(company=company, data_type=LedgerRefresh.DataType.SUPPLIERS)


def test_it_keeps_tax_rates_as_exact_decimals():
    rate = make_tax_rate(make_company(), effective_rate=Decimal("12.5"))
    rate = TaxRate.objects.get(pk=rate.pk)
    assert rate.effective_rate == Decimal("12.5")
    assert isinstance(rate.effective_rate, Decimal)
    assert str(rate) == "Standard (12.5%)"
    assert str(make_tax_rate(rate.company, effective_rate=Decimal("20.0000"))) == "Standard (20%)"


def test_it_names_a_tracking_category_under_its_parent():
    company = make_company()
    parent = make_tracking_category(company, name="Departments", has_children=True)
    child = make_tracking_category(company, name="Marketing", parent=parent)
    assert str(child) == "Departments / Marketing"
    assert list(parent.children.all()) == [child]


def test_it_gives_each_partner_category_code_once_per_company():
    company = make_company()
    make_category(company, code="TRAVEL")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_category(company, code="TRAVEL")
    make_category(make_company(), code="TRAVEL")
    assert ExpenseCategory.objects.filter(code="TRAVEL").count() == 2


def test_it_gives_each_card_reference_once_per_company():
    company = make_company()
    make_card(company, reference="c-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_card(company, reference="c-1")


@pytest.mark.parametrize("last_four", ["424", "42424", "42a2", ""])
def test_it_rejects_card_numbers_that_are_not_four_digits(last_four):
    with pytest.raises(REFUSED), transaction.atomic():
        make_card(make_company(), last_four=last_four)


@pytest.mark.parametrize("currency", ["gbp", "GB", "POUND", "G8P"])
def test_it_rejects_a_card_currency_that_is_not_an_iso_code(currency):
    with pytest.raises(REFUSED), transaction.atomic():
        make_card(make_company(), currency=currency)


def test_it_reads_valid_for_before_valid_transaction_types():
    account = make_ledger_account(
        make_company(),
        valid_transaction_types=["Payment"],
        valid_for=["expense-transactions.Refund", "reimbursable-expense-transactions"],
    )
    assert account.is_valid_for("expense-transactions.Refund")
    assert account.is_valid_for("reimbursable-expense-transactions")
    assert not account.is_valid_for("expense-transactions.Payment")


def test_it_falls_back_to_valid_transaction_types_without_valid_for():
    account = make_ledger_account(make_company(), valid_transaction_types=["Payment"], valid_for=[])
    assert account.is_valid_for("expense-transactions.Payment")
    assert not account.is_valid_for("expense-transactions.Refund")
    assert not account.is_valid_for("transfer-transactions")


@pytest.mark.parametrize(
    ("status", "usable"),
    [(RecordStatus.ACTIVE, True), (RecordStatus.UNKNOWN, True), (RecordStatus.ARCHIVED, False)],
)
def test_it_rules_out_only_archived_accounts(status, usable):
    assert make_ledger_account(make_company(), status=status).is_usable is usable


def test_it_refuses_to_map_a_category_to_another_companys_ledger():
    acme, globex = make_company(), make_company()
    mapping = CategoryMapping(
        category=make_category(acme),
        account=make_ledger_account(globex),
        tax_rate=make_tax_rate(acme),
    )
    with pytest.raises(ValidationError) as excinfo:
        mapping.full_clean()
    assert set(excinfo.value.message_dict) == {"account"}


def test_it_refuses_to_map_a_card_to_another_companys_bank_account():
    mapping = CardMapping(
        card=make_card(make_company()), bank_account=make_bank_account(make_company())
    )
    with pytest.raises(ValidationError, match="different company"):
        mapping.full_clean()


def test_it_accepts_a_mapping_within_one_company():
    company = make_company()
    mapping = CategoryMapping(
        category=make_category(company),
        account=make_ledger_account(company),
        tax_rate=make_tax_rate(company),
    )
    mapping.full_clean()
    mapping.save()
    mapping.tracking_categories.add(make_tracking_category(company))
    assert mapping.tracking_categories.count() == 1


def test_it_keeps_one_mapping_per_category_and_per_card():
    company = make_company()
    category, card = make_category(company), make_card(company)
    CategoryMapping.objects.create(category=category)
    CardMapping.objects.create(card=card)
    with pytest.raises(IntegrityError), transaction.atomic():
        CategoryMapping.objects.create(category=category)
    with pytest.raises(IntegrityError), transaction.atomic():
        CardMapping.objects.create(card=card)


def test_it_leaves_the_mapping_incomplete_when_the_ledger_record_goes():
    company = make_company()
    account = make_ledger_account(company)
    mapping = CategoryMapping.objects.create(category=make_category(company), account=account)
    account.delete()
    mapping.refresh_from_db()
    assert mapping.account is None


def test_it_knows_when_the_configuration_is_complete():
    company = make_company()
    config = CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=make_bank_account(company),
        default_supplier=make_supplier(company),
    )
    assert not config.is_complete
    config.default_customer = make_customer(company)
    assert config.is_complete


def test_it_keeps_one_configuration_per_company():
    company = make_company()
    CompanyConfiguration.objects.create(company=company)
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyConfiguration.objects.create(company=company)
