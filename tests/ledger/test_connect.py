"""Connect services and Codat's lifecycle webhooks, where the sandbox cannot stage the case."""

import uuid
from types import SimpleNamespace

import pytest

from integrations.companies import services
from integrations.companies.models import Company, Connection
from tests.models.factories import make_company, make_connection

pytestmark = pytest.mark.django_db


def test_the_codat_company_is_created_once(fake_codat):
    company = make_company(name="Acme <Trading> Ltd")
    services.ensure_codat_company(company)
    services.ensure_codat_company(company)
    assert fake_codat.calls == ["create_company"]
    assert str(company.codat_company_id) == fake_codat.created_company_id


def test_the_loser_of_a_create_race_deletes_its_codat_company(fake_codat, monkeypatch):
    company = make_company()
    winner = uuid.uuid4()
    real_create = fake_codat.create_company

    def create_while_another_request_wins(body):
        Company.objects.filter(pk=company.pk).update(codat_company_id=winner)
        return real_create(body)

    monkeypatch.setattr(fake_codat, "create_company", create_while_another_request_wins)
    services.ensure_codat_company(company)
    assert company.codat_company_id == winner
    assert fake_codat.calls == ["create_company", f"delete_company {fake_codat.created_company_id}"]


def test_a_linked_company_cannot_connect_again():
    company = make_company(codat_company_id=uuid.uuid4())
    make_connection(company, status=Connection.Status.LINKED)
    with pytest.raises(services.ConnectError, match="already connected"):
        services.connect_accounting(company, "gbol")


def connection_event(connection, status):
    return SimpleNamespace(
        company=None,
        data={"connection": {"id": str(connection.codat_connection_id), "status": status}},
    )


def test_a_deauthorised_connection_is_recorded():
    connection = make_connection(status=Connection.Status.LINKED)
    services.on_connection_event(connection_event(connection, "Deauthorized"))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DEAUTHORIZED


@pytest.mark.parametrize("status", ["Sleeping", None])
def test_a_connection_event_with_an_unknown_status_changes_nothing(status):
    connection = make_connection(status=Connection.Status.LINKED)
    services.on_connection_event(connection_event(connection, status))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED


def test_a_deleted_codat_company_is_forgotten_so_the_next_connect_makes_a_new_one():
    company = make_company(codat_company_id=uuid.uuid4())
    connection = make_connection(company, status=Connection.Status.LINKED)
    services.on_company_deleted(
        SimpleNamespace(company=company, data={"id": str(company.codat_company_id)})
    )
    company.refresh_from_db()
    connection.refresh_from_db()
    assert company.codat_company_id is None
    assert connection.status == Connection.Status.UNLINKED
