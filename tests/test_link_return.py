import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.companies.models import Company, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return Company.objects.create(name="Acme", codat_company_id=uuid.uuid4())


@pytest.fixture
def alice(acme):
    user = get_user_model().objects.create_user("alice")
    Membership.objects.create(user=user, company=acme, role=Membership.Role.OWNER)
    return user


def test_it_says_the_connection_was_approved(client, alice, acme):
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {"companyId": acme.codat_company_id, "connectionId": uuid.uuid4(), "statusCode": 200},
    )
    assert response.status_code == 200
    assert b"Your accounting software is connected." in response.content


def test_it_says_the_user_cancelled(client, alice, acme):
    client.force_login(alice)
    response = client.get(
        reverse("link-return"),
        {"companyId": acme.codat_company_id, "statusCode": 403, "errorMessage": "User cancelled."},
    )
    assert (
        b"You cancelled connecting your accounting software. (User cancelled.)" in response.content
    )


def test_another_companys_id_is_404(client, alice):
    other = Company.objects.create(name="Other", codat_company_id=uuid.uuid4())
    client.force_login(alice)
    response = client.get(
        reverse("link-return"), {"companyId": other.codat_company_id, "statusCode": 200}
    )
    assert response.status_code == 404
    assert b"Other" not in response.content


@pytest.mark.parametrize(
    "query", [{}, {"companyId": "not-a-uuid", "statusCode": 200}, {"companyId": uuid.uuid4()}]
)
def test_a_malformed_query_is_404_with_a_message(client, alice, query):
    client.force_login(alice)
    response = client.get(reverse("link-return"), query)
    assert response.status_code == 404
    assert b"does not belong to any of your companies" in response.content


def test_it_needs_a_login(client, acme):
    response = client.get(reverse("link-return"), {"companyId": acme.codat_company_id})
    assert response.status_code == 302
