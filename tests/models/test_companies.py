import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations.companies.models import Company, Connection, Membership

from .factories import REFUSED, make_company, make_connection, make_membership, make_user

pytestmark = pytest.mark.django_db


def test_it_allows_one_membership_per_user_and_company():
    membership = make_membership()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=membership.user, company=membership.company)
    # The same user may belong to another company.
    Membership.objects.create(user=membership.user, company=make_company())


def test_it_reaches_memberships_from_both_sides():
    membership = make_membership()
    assert list(membership.user.memberships.all()) == [membership]
    assert list(membership.company.memberships.all()) == [membership]


@pytest.mark.parametrize(
    ("role", "can_edit"),
    [("owner", True), ("member", True), ("accountant", True), ("viewer", False)],
)
def test_it_makes_only_viewers_read_only(role, can_edit):
    assert Membership(role=role).can_edit is can_edit


def test_it_lists_a_users_companies_only():
    alice, mallory = make_user(), make_user()
    acme = make_membership(alice).company
    make_membership(mallory)
    assert list(Company.objects.for_user(alice)) == [acme]


def test_it_allows_many_companies_not_yet_created_at_codat():
    make_company(codat_company_id=None)
    make_company(codat_company_id=None)
    codat_id = uuid.uuid4()
    make_company(codat_company_id=codat_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_company(codat_company_id=codat_id)


@pytest.mark.parametrize("key", ["QHYG", "qhy", "qhygx", "qh1g", "", "qh g"])
def test_it_rejects_a_platform_key_that_is_not_four_lowercase_letters(key):
    with pytest.raises(REFUSED), transaction.atomic():
        make_connection(platform_key=key)


def test_it_accepts_a_four_letter_platform_key():
    assert make_connection(platform_key="gbol").platform_key == "gbol"


def test_it_rejects_a_duplicate_codat_connection_id():
    connection = make_connection()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(codat_connection_id=connection.codat_connection_id)


@pytest.mark.parametrize("status", ["PendingAuth", "Linked"])
def test_it_allows_one_live_accounting_connection_per_company(status):
    company = make_company()
    make_connection(company, status=Connection.Status.LINKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(company, status=status, platform_key="gbol")


@pytest.mark.parametrize("old_status", ["Unlinked", "Deauthorized"])
def test_it_allows_a_new_accounting_connection_once_the_old_one_is_gone(old_status):
    company = make_company()
    make_connection(company, status=old_status)
    make_connection(company, status=Connection.Status.PENDING_AUTH)
    assert company.connections.count() == 2


def test_it_allows_one_expense_connection_beside_the_accounting_one():
    company = make_company()
    make_connection(company)
    make_connection(company, source_type=Connection.SourceType.EXPENSE, platform_key="sfex")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(company, source_type=Connection.SourceType.EXPENSE, platform_key="sfex")


def test_it_allows_live_accounting_connections_at_different_companies():
    make_connection(make_company())
    make_connection(make_company())
    assert Connection.objects.count() == 2


def test_it_explains_the_one_live_connection_rule_in_validation():
    company = make_company()
    make_connection(company)
    second = Connection(
        company=company,
        codat_connection_id=uuid.uuid4(),
        platform_key="gbol",
        source_type=Connection.SourceType.ACCOUNTING,
        status=Connection.Status.PENDING_AUTH,
    )
    with pytest.raises(ValidationError, match="already has a live connection"):
        second.full_clean()


def test_it_describes_rows_in_words():
    membership = make_membership(make_user("alice"), make_company("Acme"), role="viewer")
    assert str(membership) == "alice at Acme (Viewer)"
    connection = make_connection(membership.company, status="PendingAuth")
    assert str(connection) == "Acme: QuickBooks Online (Pending authorisation)"
