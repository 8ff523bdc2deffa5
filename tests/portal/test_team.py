"""The team page (people, roles, invitations), joining through an invitation link, and the
company switcher. tests/test_isolation.py covers the 404s for other companies on every route."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.companies import services
from integrations.companies.models import AuditEvent, Invitation, Membership
from integrations.portal.access import CURRENT_COMPANY_SESSION_KEY
from tests.models import factories

pytestmark = pytest.mark.django_db
Role = Membership.Role
PASSWORD = "a-long-enough-password-42"


@pytest.fixture
def acme():
    return factories.make_company("Acme Coffee Ltd")


@pytest.fixture
def owner(acme):
    user = factories.make_user("alice", email="alice@example.com", first_name="Alice")
    factories.make_membership(user, acme, Role.OWNER)
    return user


def member_of(company, role, username=None, **fields):
    user = factories.make_user(username, **fields)
    return factories.make_membership(user, company, role)


def url(name, *args):
    return reverse(f"portal:{name}", args=args)


# --- The page -----------------------------------------------------------------------------------


def test_it_lists_people_with_their_roles_and_what_the_roles_mean(client, acme, owner):
    member_of(acme, Role.ACCOUNTANT, "dave")
    services.invite(acme, "newbie@example.com", Role.VIEWER, invited_by=owner)
    client.force_login(owner)
    page = client.get(url("team", acme.pk)).content.decode()
    assert "dave" in page and "Accountant" in page
    assert Membership.ROLE_DESCRIPTIONS[Role.ACCOUNTANT] in page
    assert "newbie@example.com" in page
    assert "Send the invitation" in page
    assert "The only owner" in page  # no remove button for the last owner


def test_people_who_cannot_manage_the_team_see_it_without_controls(client, acme, owner):
    services.invite(acme, "newbie@example.com", Role.VIEWER, invited_by=owner)
    accountant = member_of(acme, Role.ACCOUNTANT).user
    client.force_login(accountant)
    response = client.get(url("team", acme.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "newbie@example.com" in page
    assert "Send the invitation" not in page
    assert "Withdraw" not in page
    assert "Only an owner can invite people" in page


@pytest.mark.parametrize("people", [3, 30])
def test_the_page_costs_the_same_queries_however_many_people(
    client, acme, owner, people, django_assert_num_queries
):
    for n in range(people):
        member_of(acme, Role.MEMBER)
        services.invite(acme, f"person{n}@example.com", Role.VIEWER, invited_by=owner)
    client.force_login(owner)
    client.get(url("team", acme.pk))  # the first visit also stores the current company
    # session, user, access (membership + company), people (with users), invitations (with
    # inviters), the top bar's companies
    with django_assert_num_queries(6):
        assert client.get(url("team", acme.pk)).status_code == 200


# --- Who may change the team --------------------------------------------------------------------


def _team_actions(company, target_membership, invitation):
    return [
        (url("team-invite", company.pk), {"email": "x@example.com", "role": "member"}),
        (url("team-member-role", company.pk, target_membership.pk), {"role": "viewer"}),
        (url("team-member-remove", company.pk, target_membership.pk), {}),
        (url("team-invitation-withdraw", company.pk, invitation.pk), {}),
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ACCOUNTANT, Role.MEMBER])
def test_only_owners_change_the_team(client, acme, owner, role):
    invitation, _ = services.invite(acme, "someone@example.com", Role.MEMBER, invited_by=owner)
    target = member_of(acme, Role.MEMBER)
    client.force_login(member_of(acme, role).user)
    for action, data in _team_actions(acme, target, invitation):
        assert client.post(action, data).status_code == 403, action
    target.refresh_from_db()
    invitation.refresh_from_db()
    assert target.role == Role.MEMBER
    assert invitation.revoked_at is None
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_another_companys_member_or_invitation_is_404(client, acme, owner):
    other = factories.make_company("Other Ltd")
    their_member = member_of(other, Role.MEMBER)
    their_invitation, _ = services.invite(other, "someone@example.com", Role.MEMBER)
    client.force_login(owner)
    for action, data in _team_actions(acme, their_member, their_invitation)[1:]:
        assert client.post(action, data).status_code == 404, action
    their_member.refresh_from_db()
    assert their_member.role == Role.MEMBER


# --- Inviting -------------------------------------------------------------------------------------


def _link(message):
    match = re.search(r"https?://\S+/invitations/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def test_an_owner_invites_by_email_with_a_role(client, acme, owner):
    client.force_login(owner)
    response = client.post(
        url("team-invite", acme.pk), {"email": "Bookkeeper@Example.com", "role": "accountant"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "bookkeeper@example.com",
        Role.ACCOUNTANT,
        owner,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bookkeeper@example.com"]
    assert "/invitations/" in _link(mail.outbox[0])
    assert AuditEvent.objects.filter(action="team.invite", company=acme).exists()
    page = client.get(url("team", acme.pk)).content.decode()
    assert "Invitation sent to bookkeeper@example.com as accountant" in page


def test_a_bad_invitation_changes_nothing_and_keeps_what_was_typed(client, acme, owner):
    client.force_login(owner)
    response = client.post(url("team-invite", acme.pk), {"email": "not-an-email", "role": "boss"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid email address" in page
    assert 'value="not-an-email"' in page
    assert "Select a valid choice" in page
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_inviting_someone_already_in_the_company_is_refused(client, acme, owner):
    member_of(acme, Role.MEMBER, "dave", email="dave@example.com")
    client.force_login(owner)
    response = client.post(url("team-invite", acme.pk), {"email": "dave@example.com"})
    assert "dave@example.com is already in Acme Coffee Ltd" in response.content.decode()
    assert not Invitation.objects.exists()


# --- Joining through the link ---------------------------------------------------------------------


def _open(client, link):
    """Follow the emailed link: the token goes to the session, the page has no token in its URL."""
    response = client.get(urlsplit(link).path)
    assert response.status_code == 302
    assert response["Location"] == url("invitation")
    return client.get(url("invitation"))


def test_a_new_person_joins_by_creating_an_account_and_the_link_works_once(client, acme, owner):
    services.invite(acme, "newbie@example.com", Role.ACCOUNTANT, invited_by=owner)
    link = _link(mail.outbox[0])
    page = _open(client, link)
    text = page.content.decode()
    assert "Alice</strong> invited you" in text
    assert "Acme Coffee Ltd" in text and "accountant" in text

    response = client.post(
        url("invitation"),
        {"action": "signup", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == url("company", acme.pk)
    user = get_user_model().objects.get(username="newbie@example.com")
    assert user.email == "newbie@example.com"
    assert Membership.objects.get(user=user, company=acme).role == Role.ACCOUNTANT
    assert client.session["_auth_user_id"] == str(user.pk)

    # The same link again, by anyone: refused with a clear message.
    stranger = Client()
    again = _open(stranger, link)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_a_person_with_an_account_signs_in_on_the_invitation_and_joins(client, acme, owner):
    dave = factories.make_user("dave", email="dave@example.com", password=PASSWORD)
    services.invite(acme, "dave@example.com", Role.VIEWER, invited_by=owner)
    _open(client, _link(mail.outbox[0]))
    wrong = client.post(
        url("invitation"), {"action": "signin", "username": "dave", "password": "nope"}
    )
    assert wrong.status_code == 200
    assert "correct username and password" in wrong.content.decode()
    assert not Membership.objects.filter(user=dave).exists()
    response = client.post(
        url("invitation"), {"action": "signin", "username": "dave", "password": PASSWORD}
    )
    assert response["Location"] == url("company", acme.pk)
    assert Membership.objects.get(user=dave, company=acme).role == Role.VIEWER


def test_creating_a_second_account_for_an_address_that_has_one_is_refused(client, acme, owner):
    factories.make_user("dave", email="dave@example.com", password=PASSWORD)
    services.invite(acme, "dave@example.com", Role.VIEWER, invited_by=owner)
    _open(client, _link(mail.outbox[0]))
    response = client.post(
        url("invitation"),
        {"action": "signup", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already an account for" in page
    assert "Create the account and join" not in page  # only signing in is offered
    assert get_user_model().objects.filter(email="dave@example.com").count() == 1


def test_a_signed_in_person_accepts_with_one_click(client, acme, owner):
    dave = factories.make_user("dave", email="dave@example.com")
    services.invite(acme, "dave@example.com", Role.MEMBER, invited_by=owner)
    client.force_login(dave)
    page = _open(client, _link(mail.outbox[0]))
    assert "Accept and join Acme Coffee Ltd" in page.content.decode()
    response = client.post(url("invitation"), {"action": "accept"})
    assert response["Location"] == url("company", acme.pk)
    assert Membership.objects.get(user=dave, company=acme).role == Role.MEMBER


def test_an_expired_link_is_refused(client, acme, owner):
    invitation, _ = services.invite(acme, "late@example.com", Role.MEMBER, invited_by=owner)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    page = _open(client, _link(mail.outbox[0]))
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert client.post(url("invitation"), {"action": "signup"}).status_code == 404


def test_a_withdrawn_link_is_refused(client, acme, owner):
    invitation, _ = services.invite(acme, "nope@example.com", Role.MEMBER, invited_by=owner)
    client.force_login(owner)
    response = client.post(url("team-invitation-withdraw", acme.pk, invitation.pk))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="team.withdraw").exists()
    page = _open(Client(), _link(mail.outbox[0]))
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()
    # Withdrawing twice says so and changes nothing.
    again = client.post(url("team-invitation-withdraw", acme.pk, invitation.pk), follow=True)
    assert "already used or withdrawn" in again.content.decode()


def test_a_made_up_link_is_refused(client):
    page = _open(client, "http://testserver/invitations/not-a-real-token/")
    assert page.status_code == 410
    assert "not valid" in page.content.decode()


def test_the_invitation_page_without_a_link_says_what_to_do(client):
    response = client.get(url("invitation"))
    assert response.status_code == 404
    assert "Open the link in your invitation email" in response.content.decode()


def test_the_invitation_page_needs_the_csrf_token(acme, owner):
    services.invite(acme, "newbie@example.com", Role.MEMBER, invited_by=owner)
    client = Client(enforce_csrf_checks=True)
    _open(client, _link(mail.outbox[0]))
    response = client.post(
        url("invitation"),
        {"action": "signup", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="newbie@example.com").exists()


# --- Roles and removal ----------------------------------------------------------------------------


def test_an_owner_changes_a_role_with_an_audit_trail(client, acme, owner):
    target = member_of(acme, Role.MEMBER, "erin")
    client.force_login(owner)
    response = client.post(url("team-member-role", acme.pk, target.pk), {"role": "accountant"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.ACCOUNTANT
    event = AuditEvent.objects.get(action="team.role")
    assert event.actor == owner
    assert event.changes == {"role": {"before": "member", "after": "accountant"}}


def test_a_made_up_role_changes_nothing(client, acme, owner):
    target = member_of(acme, Role.MEMBER)
    client.force_login(owner)
    response = client.post(url("team-member-role", acme.pk, target.pk), {"role": "boss"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_the_last_owner_cannot_be_demoted_or_removed(client, acme, owner):
    mine = Membership.objects.get(user=owner, company=acme)
    client.force_login(owner)
    response = client.post(
        url("team-member-role", acme.pk, mine.pk), {"role": "viewer"}, follow=True
    )
    assert "only owner" in response.content.decode()
    response = client.post(url("team-member-remove", acme.pk, mine.pk), follow=True)
    assert "only owner" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.OWNER


def test_with_a_second_owner_an_owner_may_step_down_or_leave(client, acme, owner):
    member_of(acme, Role.OWNER, "carol")
    mine = Membership.objects.get(user=owner, company=acme)
    client.force_login(owner)
    response = client.post(url("team-member-remove", acme.pk, mine.pk))
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert AuditEvent.objects.filter(action="team.remove", company=acme).exists()


def test_an_owner_removes_a_member_whose_account_stays(client, acme, owner):
    target = member_of(acme, Role.VIEWER, "bob")
    client.force_login(owner)
    response = client.post(url("team-member-remove", acme.pk, target.pk))
    assert response["Location"] == url("team", acme.pk)
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert get_user_model().objects.filter(username="bob").exists()


def test_post_only_actions_refuse_a_get(client, acme, owner):
    target = member_of(acme, Role.VIEWER)
    client.force_login(owner)
    assert client.get(url("team-member-remove", acme.pk, target.pk)).status_code == 405
    assert Membership.objects.filter(pk=target.pk).exists()


# --- The company switcher -------------------------------------------------------------------------


def test_the_switcher_shows_for_people_in_several_companies(client, acme, owner):
    client.force_login(owner)
    assert url("switch-company") not in client.get(reverse("home")).content.decode()
    globex = factories.make_company("Globex Outdoor Inc")
    factories.make_membership(owner, globex, Role.ACCOUNTANT)
    page = client.get(reverse("home")).content.decode()
    assert url("switch-company") in page
    assert "Globex Outdoor Inc" in page


def test_switching_goes_to_the_company_and_remembers_it(client, acme, owner):
    globex = factories.make_company("Globex Outdoor Inc")
    factories.make_membership(owner, globex, Role.ACCOUNTANT)
    client.force_login(owner)
    response = client.post(url("switch-company"), {"company": globex.pk})
    assert response["Location"] == url("company", globex.pk)
    assert client.session[CURRENT_COMPANY_SESSION_KEY] == globex.pk


def test_the_switcher_refuses_a_company_you_are_not_in(client, acme, owner):
    other = factories.make_company("Other Ltd")
    client.force_login(owner)
    assert client.post(url("switch-company"), {"company": other.pk}).status_code == 404
    assert client.post(url("switch-company"), {"company": "x"}).status_code == 404
    assert client.session.get(CURRENT_COMPANY_SESSION_KEY) != other.pk


def test_signing_in_on_the_invitation_is_throttled_like_the_sign_in_page(client, acme, owner):
    factories.make_user("dave", email="dave@example.com", password=PASSWORD)
    services.invite(acme, "dave@example.com", Role.VIEWER, invited_by=owner)
    _open(client, _link(mail.outbox[0]))
    for _ in range(5):
        response = client.post(
            url("invitation"), {"action": "signin", "username": "dave", "password": "nope"}
        )
    assert response.status_code == 429
    right = client.post(
        url("invitation"), {"action": "signin", "username": "dave", "password": PASSWORD}
    )
    assert right.status_code == 429
    assert not Membership.objects.filter(user__username="dave").exists()
