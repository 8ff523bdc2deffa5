"""The sign-in page, the demo logins and the company list."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def test_it_serves_the_sign_in_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content
    # CSP is on and allows nothing from other origins (htmx is served from our own static files).
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert b"/static/django_htmx/htmx" in response.content


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "staff"])
def test_every_demo_login_works(client, demo, username):
    response = client.post(reverse("login"), {"username": username, "password": "expenses-demo"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, demo):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_home_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_lists_only_the_users_own_companies(client, demo):
    client.force_login(get_user_model().objects.get(username="alice"))
    response = client.get(reverse("home"))
    assert b"Acme Coffee Ltd" in response.content
    assert b"Globex Outdoor Inc" not in response.content
    assert b"You are owner" in response.content
    # No accounting connection yet: the next thing to do, not a health word.
    assert b"Connect your accounting software" in response.content
    assert b"Needs authorisation" not in response.content


def test_home_query_count_is_pinned(client, demo, django_assert_num_queries):
    client.force_login(get_user_model().objects.get(username="alice"))
    # session, user, companies with health, role, platform and last sync in one query, their
    # transactions' counts, the top bar's company switcher (tests/portal/test_home.py pins
    # the same count with 1 and 5 companies).
    with django_assert_num_queries(5):
        client.get(reverse("home"))


def test_healthz_reports_the_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == connection.vendor
    assert "worker_heartbeat_age_seconds" in response.json()
