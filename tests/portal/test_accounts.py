"""Signing in and out, throttled sign-in (django-axes), password reset by email and password
change; all outside any company."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.models import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-42"


@pytest.fixture
def alice():
    return factories.make_user("alice", email="alice@example.com", password=PASSWORD)


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_sign_in_page_offers_the_password_reset(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert reverse("password_reset").encode() in response.content


def test_it_signs_in_and_out(client, alice):
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302  # back to the sign-in page


def test_a_wrong_password_says_so_and_keeps_the_username(client, alice):
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert b'value="alice"' in response.content


def test_five_wrong_passwords_lock_the_username_from_that_address(client, alice, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, "alice", "wrong").status_code == 200
    locked = sign_in(client, "alice", "wrong")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert b"15 minutes" in locked.content
    # Even the right password is refused now, and nobody is signed in.
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Someone else at that address, and alice from another address, are not locked out.
    factories.make_user("bob", password=PASSWORD)
    assert sign_in(client, "bob", PASSWORD).status_code == 302
    assert sign_in(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, alice):
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert sign_in(client, "alice", "wrong").status_code == 200


def test_the_lockout_cools_off(client, alice, time_machine):
    time_machine.move_to("2026-11-30 10:00:00Z", tick=False)
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    time_machine.move_to("2026-11-30 10:16:00Z", tick=False)
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def _reset_link(message):
    match = re.search(r"(\S+/accounts/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_password_reset_email_works_once(client, alice, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your Expenses Portal password"
    link = _reset_link(message)
    # The link names the configured address, never the request's Host header.
    assert link.startswith("https://portal.example.com/accounts/reset/")

    path = link.removeprefix("https://portal.example.com")
    set_password_url = client.get(path)["Location"]  # Django swaps the token for the session
    page = client.get(set_password_url)
    assert b"Choose a new password" in page.content
    new = "another-long-password-77"
    done = client.post(set_password_url, {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(new)
    # The link is spent.
    again = client.get(path, follow=True)
    assert b"This link cannot be used" in again.content


def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, alice):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_bad_reset_address_is_refused_and_kept(client):
    response = client.post(reverse("password_reset"), {"email": "not-an-address"})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    assert b'value="not-an-address"' in response.content


def test_changing_the_password_needs_the_old_one(client, alice):
    client.force_login(alice)
    assert client.get(reverse("password_change")).status_code == 200
    new = "another-long-password-77"
    wrong = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": new, "new_password2": new},
    )
    assert wrong.status_code == 200
    assert b"Your old password was entered incorrectly" in wrong.content
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(new)
    # Still signed in here (Django updates the session's hash).
    assert client.get(reverse("password_change_done")).status_code == 200


def test_changing_the_password_needs_signing_in(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_pages_link_to_the_password_change(client, alice):
    client.force_login(alice)
    assert reverse("password_change").encode() in client.get(reverse("home")).content
    assert get_user_model().objects.count() == 1
