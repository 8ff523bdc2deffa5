"""Home: per company, what needs the user now."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.companies.models import Connection, Membership
from integrations.syncs.models import Sync
from integrations.transactions.models import Transaction
from tests.models import factories

pytestmark = pytest.mark.django_db
Role = Membership.Role
Status = Transaction.Status


def _set_up(company):
    """A company through onboarding: linked, reviewed, automatic sync chosen."""
    company.codat_company_id = uuid.uuid4()
    company.onboarding_reviewed_at = company.auto_sync_chosen_at = timezone.now()
    company.save()
    factories.make_connection(company)
    return company


def _home(client):
    return client.get(reverse("home"))


def test_a_never_connected_company_says_connect_not_needs_authorisation(client):
    company = factories.make_company("Acme Coffee Ltd")
    user = factories.make_user()
    factories.make_membership(user, company, Role.OWNER)
    client.force_login(user)
    content = _home(client).content.decode()
    assert "Connect your accounting software" in content
    assert reverse("portal:connect", args=[company.pk]) in content
    assert "Needs authorisation" not in content
    assert "Not connected" in content


def test_a_viewer_is_told_who_can_connect(client):
    company = factories.make_company()
    user = factories.make_user()
    factories.make_membership(user, company, Role.VIEWER)
    client.force_login(user)
    content = _home(client).content.decode()
    assert reverse("portal:connect", args=[company.pk]) not in content
    assert "Ask an owner or member" in content


def test_it_lists_what_needs_the_user_with_links_to_the_filtered_list(client):
    company = _set_up(factories.make_company("Acme Coffee Ltd"))
    user = factories.make_user()
    factories.make_membership(user, company, Role.ACCOUNTANT)
    for _ in range(3):
        factories.make_transaction(
            company,
            status=Status.NEEDS_ATTENTION,
            **Transaction.attention("no_category", "No category.", "transaction"),
        )
    factories.make_transaction(company, status=Status.FAILED)
    factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    factories.make_transaction(company, status=Status.READY)
    synced = timezone.now() - timedelta(hours=2)
    factories.make_sync(company, status_code=Sync.StatusCode.SUCCESS, completed_at=synced)
    client.force_login(user)
    content = _home(client).content.decode()
    base = reverse("portal:transactions", args=[company.pk])
    assert f'href="{base}?status=needs_attention"' in content
    assert "3</span> transactions need attention" in content
    assert f'href="{base}?status=failed"' in content
    assert "1</span> transaction failed" in content
    assert f'href="{base}?status=receipt_missing"' in content
    assert "1</span> transaction is missing a receipt" in content
    assert "2 hours ago" in content
    assert "You are accountant" in content
    assert "Setup:" not in content  # through onboarding


def test_a_company_with_nothing_to_do_says_so(client):
    company = _set_up(factories.make_company())
    user = factories.make_user()
    factories.make_membership(user, company)
    factories.make_transaction(company, status=Status.READY)
    client.force_login(user)
    content = _home(client).content.decode()
    assert "Nothing needs you right now." in content
    assert "Never" in content  # no successful sync yet


def test_a_company_being_set_up_shows_the_steps_left_and_the_next_one(client):
    company = factories.make_company(codat_company_id=uuid.uuid4())
    factories.make_connection(company)  # linked, but the ledger not read yet
    user = factories.make_user()
    factories.make_membership(user, company)
    client.force_login(user)
    content = _home(client).content.decode()
    assert "Setup: 1 of 5 steps done." in content
    assert "Next: <a" in content


def test_a_deauthorised_ledger_is_said_plainly(client):
    company = _set_up(factories.make_company())
    company.connections.update(status=Connection.Status.DEAUTHORIZED)
    user = factories.make_user()
    factories.make_membership(user, company)
    client.force_login(user)
    content = _home(client).content.decode()
    assert "Your ledger is disconnected." in content
    assert reverse("portal:connection", args=[company.pk]) in content


def test_only_the_users_own_companies_are_shown(client):
    mine, theirs = factories.make_company("Mine Ltd"), factories.make_company("Theirs Ltd")
    user = factories.make_user()
    factories.make_membership(user, mine)
    factories.make_transaction(theirs, status=Status.FAILED)
    client.force_login(user)
    content = _home(client).content.decode()
    assert "Mine Ltd" in content and "Theirs Ltd" not in content
    assert "failed" not in content.split("Mine Ltd")[1]


@pytest.mark.parametrize("companies", [1, 5])
def test_home_costs_the_same_queries_with_1_and_5_companies(
    client, companies, django_assert_num_queries
):
    user = factories.make_user()
    for _ in range(companies):
        company = _set_up(factories.make_company())
        factories.make_membership(user, company)
        factories.make_transaction(company, status=Status.FAILED)
        factories.make_sync(company, status_code=Sync.StatusCode.SUCCESS)
    client.force_login(user)
    # session, user, the companies (health, role, platform, last sync), their counts, and the
    # top bar's company switcher.
    with django_assert_num_queries(5):
        response = _home(client)
    assert response.status_code == 200
