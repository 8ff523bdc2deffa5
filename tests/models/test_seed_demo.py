from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from integrations.companies.models import Company, Connection, Membership
from integrations.transactions.models import Transaction

pytestmark = pytest.mark.django_db

APP_LABELS = ["auth", "companies", "ledger", "transactions", "syncs"]


def counts():
    return {
        m._meta.label: m.objects.count()
        for label in APP_LABELS
        for m in apps.get_app_config(label).get_models()
    }


def can_sign_in(username, password="expenses-demo"):
    # django-axes' backend needs the request (it throttles by username and address).
    return authenticate(
        RequestFactory().post("/accounts/login/"), username=username, password=password
    )


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_changes_nothing_when_run_twice():
    first_output = seed()
    first = counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    second_output = seed()
    assert counts() == first
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert "created 6 users" in first_output
    assert "created nothing" in second_output
    assert len(second_output.strip().splitlines()) == 1


def test_it_creates_the_demo_logins():
    seed()
    for username in ["alice", "bob", "carol", "dave", "erin", "staff"]:
        assert can_sign_in(username), username
    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff and staff.is_superuser
    assert not get_user_model().objects.get(username="alice").is_staff


def test_it_gives_each_user_their_role():
    seed()
    roles = {
        (m.user.username, m.company.name): m.role
        for m in Membership.objects.select_related("user", "company")
    }
    assert roles == {
        ("alice", "Acme Coffee Ltd"): "owner",
        ("bob", "Acme Coffee Ltd"): "viewer",
        ("dave", "Acme Coffee Ltd"): "accountant",
        ("carol", "Globex Outdoor Inc"): "owner",
        ("erin", "Globex Outdoor Inc"): "member",
        ("dave", "Globex Outdoor Inc"): "accountant",
        ("alice", "Hooli Bakery Inc"): "owner",
        ("dave", "Hooli Bakery Inc"): "accountant",
    }


def test_it_creates_partner_data_but_nothing_from_codat():
    seed()
    for company in Company.objects.all():
        assert company.codat_company_id is None
        assert company.expense_categories.exists()
        assert company.cards.exists()
        assert company.transactions.filter(status="ready").exists()
        assert company.transactions.filter(status="draft").exists()
    assert not Connection.objects.exists()
    assert set(Transaction.objects.values_list("status", flat=True)) == {"draft", "ready"}


def test_it_restores_a_changed_demo_password_and_role():
    seed()
    bob = get_user_model().objects.get(username="bob")
    bob.set_password("something-else")
    bob.save()
    Membership.objects.filter(user=bob).update(role="owner")
    seed()
    assert can_sign_in("bob")
    assert Membership.objects.get(user=bob).role == "viewer"
