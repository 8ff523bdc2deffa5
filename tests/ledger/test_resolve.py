"""What makes a mapping need attention, in the words and with the screen the customer gets."""

import pytest
from django.utils import timezone

from integrations.ledger import resolve
from integrations.ledger.models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    Customer,
    ExpenseCategory,
    RecordStatus,
    Supplier,
    TaxRate,
    TrackingCategory,
)
from tests.models.factories import make_company, make_ledger_account

pytestmark = pytest.mark.django_db

Code = resolve.ProblemCode
PAYMENT = "expense-transactions.Payment"


@pytest.fixture
def company():
    return make_company()


def test_an_unmapped_category_needs_mapping(company):
    problem = resolve.category_problem(None)
    assert problem.code == Code.CATEGORY_UNMAPPED and problem.screen == resolve.Screen.CATEGORIES


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"status": RecordStatus.ARCHIVED}, Code.ACCOUNT_ARCHIVED),
        ({"missing_since": timezone.now()}, Code.ACCOUNT_MISSING),
        ({"valid_for": ["expense-transactions.Refund"]}, Code.ACCOUNT_NOT_VALID),
    ],
)
def test_an_account_that_cannot_take_the_spend_is_named(company, fields, code):
    account = make_ledger_account(company, **fields)
    problem = resolve.account_problem(account, PAYMENT)
    assert problem.code == code
    assert str(account) in problem.message


def test_a_usable_mapping_has_no_problem(company):
    account = make_ledger_account(company)
    category = ExpenseCategory.objects.create(company=company, name="Travel", code="T")
    mapping = CategoryMapping.objects.create(category=category, account=account)
    assert resolve.category_problem(mapping, PAYMENT) is None


def test_gone_tax_rate_and_tracking_are_named(company):
    category = ExpenseCategory.objects.create(company=company, name="Travel", code="T")
    mapping = CategoryMapping.objects.create(
        category=category,
        account=make_ledger_account(company),
        tax_rate=TaxRate.objects.create(
            company=company, codat_id="T", name="VAT", missing_since=timezone.now()
        ),
    )
    assert resolve.category_problem(mapping).code == Code.TAX_RATE_MISSING
    mapping.tax_rate = None
    mapping.save()
    gone = TrackingCategory.objects.create(
        company=company, codat_id="D", name="Sales", missing_since=timezone.now()
    )
    mapping.tracking_categories.add(gone)
    problem = resolve.category_problem(mapping)
    assert problem.code == Code.TRACKING_MISSING and "Sales" in problem.message


def test_a_card_posts_to_its_own_bank_account_else_the_default(company):
    default = BankAccount.objects.create(company=company, codat_id="B1", name="Default")
    own = BankAccount.objects.create(company=company, codat_id="B2", name="Own", status="Archived")
    configuration = CompanyConfiguration.objects.create(
        company=company, default_bank_account=default
    )
    card = Card.objects.create(
        company=company,
        reference="c1",
        name="Ops",
        cardholder="Ann",
        last_four="1234",
        currency="GBP",
    )
    assert resolve.bank_account_for_card(card, configuration) == default
    assert resolve.card_problem(card, configuration) is None
    CardMapping.objects.create(card=card, bank_account=own)
    card = Card.objects.select_related("mapping__bank_account").get(pk=card.pk)
    assert resolve.bank_account_for_card(card, configuration) == own
    problem = resolve.card_problem(card, configuration)
    assert problem.code == Code.BANK_ACCOUNT_ARCHIVED and problem.screen == resolve.Screen.CARDS


def test_the_defaults_need_all_three_usable(company):
    assert resolve.configuration_problem(None).screen == resolve.Screen.DEFAULTS
    configuration = CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=BankAccount.objects.create(company=company, codat_id="B", name="B"),
        default_supplier=Supplier.objects.create(company=company, codat_id="S", name="S"),
    )
    assert resolve.configuration_problem(configuration).code == Code.CUSTOMER_UNSET
    configuration.default_customer = Customer.objects.create(
        company=company, codat_id="C", name="C", missing_since=timezone.now()
    )
    assert resolve.configuration_problem(configuration).code == Code.CUSTOMER_MISSING


def test_listing_what_needs_attention_costs_a_fixed_number_of_queries(
    company, django_assert_num_queries
):
    for i in range(5):
        category = ExpenseCategory.objects.create(company=company, name=f"C{i}", code=f"C{i}")
        CategoryMapping.objects.create(
            category=category, account=make_ledger_account(company, status="Archived")
        )
        Card.objects.create(
            company=company,
            reference=f"r{i}",
            name="Card",
            cardholder="A",
            last_four="1234",
            currency="GBP",
        )
    with django_assert_num_queries(4):
        found = resolve.mappings_needing_attention(company)
    assert sorted(p.code for _, p in found).count(Code.ACCOUNT_ARCHIVED) == 5
    assert len(found) == 11  # the defaults, five categories, five cards
