"""/link/return/ (now integrations.portal.views.onboarding.link_return): the query string Codat
Link sends back is a claim, refused unless it names this user's company and connection.
The success, cancel and error paths against the sandbox are in tests/portal/test_onboarding.py."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.companies.models import AuditEvent, Company, Connection, Membership
from tests.models import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return Company.objects.create(name="Acme", codat_company_id=uuid.uuid4())


@pytest.fixture
def alice(acme):
    user = get_user_model().objects.create_user("alice")
    Membership.objects.create(user=user, company=acme, role=Membership.Role.OWNER)
    return user


def test_the_url_and_its_name_still_work():
    assert reverse("link-return") == "/link/return/"


def test_another_companys_id_is_404(client, alice):
    other = Company.objects.create(name="Other", codat_company_id=uuid.uuid4())
    connection = factories.make_connection(other, status=Connection.Status.PENDING_AUTH)
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {
            "companyId": other.codat_company_id,
            "connectionId": connection.codat_connection_id,
            "statusCode": 200,
        },
    )
    assert response.status_code == 404
    assert b"Other" not in response.content
    connection.refresh_from_db()
    assert connection.status == Connection.Status.PENDING_AUTH


def test_a_forged_connection_id_is_refused(client, alice, acme):
    factories.make_connection(acme, status=Connection.Status.PENDING_AUTH)
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {"companyId": acme.codat_company_id, "connectionId": uuid.uuid4(), "statusCode": 200},
    )
    assert response.status_code == 400
    assert b"names a connection Acme does not have" in response.content
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"companyId": "not-a-uuid", "statusCode": 200},
        {"companyId": uuid.uuid4()},
        {"companyId": uuid.uuid4(), "connectionId": uuid.uuid4(), "statusCode": "abc"},
    ],
)
def test_a_malformed_query_is_400_with_a_message(client, alice, query):
    client.force_login(alice)
    response = client.get(reverse("link-return"), query)
    assert response.status_code == 400
    assert b"incomplete or malformed" in response.content


def test_an_unknown_status_code_is_refused(client, alice, acme):
    connection = factories.make_connection(acme, status=Connection.Status.PENDING_AUTH)
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {
            "companyId": acme.codat_company_id,
            "connectionId": connection.codat_connection_id,
            "statusCode": 418,
        },
    )
    assert response.status_code == 400


def test_no_redirect_goes_outside_the_portal(client, alice, acme):
    connection = factories.make_connection(acme)  # already linked: nothing to record
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {
            "companyId": acme.codat_company_id,
            "connectionId": connection.codat_connection_id,
            "statusCode": 200,
            "next": "https://evil.example/",
            "redirect": "//evil.example",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:company", args=[acme.pk])


def test_it_needs_a_login(client, acme):
    response = client.get(reverse("link-return"), {"companyId": acme.codat_company_id})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
