import pytest
from django.core import mail

from integrations.companies.models import AuditEvent, Company, Invitation, Membership
from tests.models.factories import make_connection, make_transaction

pytestmark = pytest.mark.django_db


def test_create_invites_the_owner_and_records_the_key(api):
    response = api.post(
        "/companies",
        {"name": "Bean Co", "ownerEmail": "Owner@Bean.example", "partnerReference": "b-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    company = Company.objects.get(pk=body["id"])
    assert body["partnerReference"] == "b-1" and body["health"] == "needs_auth"
    assert body["connection"] is None and body["transactionCounts"]["ready"] == 0
    invitation = Invitation.objects.get(company=company)
    assert invitation.email == "owner@bean.example" and invitation.role == Membership.Role.OWNER
    assert mail.outbox and mail.outbox[0].to == ["owner@bean.example"]
    event = AuditEvent.objects.get(action="company.create")
    assert event.actor_label == "api:card-processor" and event.company == company


def test_a_reference_in_use_is_409_and_creates_nothing(api, company):
    response = api.post(
        "/companies", {"name": "Other", "ownerEmail": "a@b.example", "partnerReference": "acme"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reference_taken"
    assert response.json()["fields"][0]["field"] == "partnerReference"
    assert Company.objects.count() == 1 and not Invitation.objects.exists()


def test_bad_input_names_the_fields(api):
    response = api.post("/companies", {"name": "", "ownerEmail": "not-an-email", "extra": 1})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {f["field"] for f in body["fields"]} == {"name", "ownerEmail", "extra"}


def test_malformed_json_is_400(api):
    response = api.client.post(
        "/api/v1/companies", "{nope", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_get_shows_connection_health_and_counts(api, company):
    make_connection(company)
    make_transaction(company, status="ready")
    make_transaction(company, status="failed")
    body = api.get(f"/companies/{company.pk}").json()
    assert body["connection"] == {
        "status": "Linked",
        "platformKey": "qhyg",
        "platformName": "QuickBooks Online",
    }
    assert body["health"] == "never_synced"
    assert body["transactionCounts"]["ready"] == 1 and body["transactionCounts"]["failed"] == 1


@pytest.mark.parametrize("bad", ["999999", "abc", "1.5", "-1", "99999999999999999999999"])
def test_unknown_or_malformed_company_id_is_404(api, company, bad):
    response = api.get(f"/companies/{bad}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_pages_with_a_cursor(api):
    for n in range(5):
        Company.objects.create(name=f"C{n}")
    first = api.get("/companies", limit=2).json()
    assert [c["name"] for c in first["items"]] == ["C0", "C1"]
    second = api.get("/companies", limit=2, cursor=first["nextCursor"]).json()
    third = api.get("/companies", limit=2, cursor=second["nextCursor"]).json()
    assert [c["name"] for c in second["items"] + third["items"]] == ["C2", "C3", "C4"]
    assert third["nextCursor"] is None
    assert api.get("/companies", cursor="garbage!").status_code == 400
    assert api.get("/companies", limit=0).status_code == 422


def test_list_costs_the_same_queries_at_any_size(api, django_assert_num_queries):
    for n in range(3):
        Company.objects.create(name=f"C{n}")
    api.get("/companies")  # records the key's last use (at most once a minute)
    with django_assert_num_queries(2):  # the key, the page
        api.get("/companies", limit=200)
    for n in range(30):
        Company.objects.create(name=f"D{n}")
    with django_assert_num_queries(2):
        api.get("/companies", limit=200)


def test_update_changes_only_what_is_sent(api, company):
    response = api.patch(f"/companies/{company.pk}", {"name": "Acme Group"})
    assert response.status_code == 200
    company.refresh_from_db()
    assert company.name == "Acme Group" and company.partner_reference == "acme"
    other = Company.objects.create(name="Other", partner_reference="other")
    response = api.patch(f"/companies/{company.pk}", {"partnerReference": "other"})
    assert response.status_code == 409
    company.refresh_from_db()
    assert company.partner_reference == "acme" and other.partner_reference == "other"


def test_a_body_over_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.post("/companies", {"name": "x" * 2000, "ownerEmail": "a@b.example"})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert not Company.objects.exists()


def test_an_unexpected_error_is_json_500_without_internals(api, company, monkeypatch):
    from integrations.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "_company_out", boom)
    api.client.raise_request_exception = False
    response = api.get(f"/companies/{company.pk}")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "secret" not in response.content.decode()
