"""Outside debug mode the sandbox's own pages (the ledger viewer and its fault switches) are for
signed-in staff. The API keeps its Basic key auth and Link stays open to the end users a linkUrl
sends there. (pytest-django runs tests with DEBUG off, as production runs.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codat_sandbox import engine
from codat_sandbox.models import FaultSettings, SandboxAttachment

from .conftest import AUTH, PREFIX, create_company, expense, link_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(api):
    """Every HTML page of the viewer, for a company with a synced expense and a receipt."""
    linked = link_company(api)
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    api.client.post(
        f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}/attachments",
        {"file": SimpleUploadedFile("r.pdf", b"%PDF", content_type="application/pdf")},
        HTTP_AUTHORIZATION=AUTH,
    )
    attachment = SandboxAttachment.objects.get()
    return {
        "get": [
            f"{PREFIX}/",
            f"{PREFIX}/ledger/{cid}/",
            f"{PREFIX}/ledger/{cid}/attachments/{attachment.pk}",
        ],
        "faults": f"{PREFIX}/ledger/{cid}/faults/",
        "company_id": cid,
    }


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("sandbox-staff", is_staff=True))
    return client


@pytest.fixture
def member_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("portal-member"))
    return client


def test_anonymous_visitors_are_sent_to_sign_in(pages, client):
    for url in pages["get"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_visitors_cannot_switch_faults_on(pages, client):
    response = client.post(pages["faults"], {"error_rate": "100", "latency_ms": "0"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not FaultSettings.objects.exists()


def test_signed_in_users_who_are_not_staff_are_refused(pages, member_client):
    for url in pages["get"]:
        assert member_client.get(url).status_code == 403, url
    response = member_client.post(
        pages["faults"], {"error_rate": "100", "latency_ms": "0", "timeout_seconds": "0"}
    )
    assert response.status_code == 403
    assert not FaultSettings.objects.exists()


def test_staff_see_every_page_and_can_set_faults(pages, staff_client):
    for url in pages["get"]:
        assert staff_client.get(url).status_code == 200, url
    staff_client.post(
        pages["faults"], {"error_rate": "100", "latency_ms": "0", "timeout_seconds": "0"}
    )
    assert FaultSettings.objects.get(company_id=pages["company_id"]).error_rate == 100


def test_in_debug_mode_the_pages_are_open(pages, client, settings):
    settings.DEBUG = True
    for url in pages["get"]:
        assert client.get(url).status_code == 200, url


def test_link_stays_open_to_anonymous_end_users(api, client):
    company = create_company(api, "Linking Ltd")
    assert client.get(f"{PREFIX}/link/company/{company['id']}/").status_code == 200


def test_a_staff_session_is_not_an_api_key(staff_client):
    response = staff_client.get(f"{PREFIX}/companies")
    assert response.status_code == 401
