import pytest

from integrations.companies.models import AuditEvent
from integrations.ledger.models import Card, ExpenseCategory

pytestmark = pytest.mark.django_db


def test_category_upsert_by_reference_then_archive(api, company):
    url = f"/companies/{company.pk}/categories/MEALS"
    created = api.put(url, {"name": "Meals"})
    assert created.status_code == 201
    assert created.json() == {"reference": "MEALS", "name": "Meals", "active": True}
    again = api.put(url, {"name": "Meals & drinks"})
    assert again.status_code == 200
    assert ExpenseCategory.objects.filter(company=company, code="MEALS").count() == 1
    archived = api.post(f"{url}/archive")
    assert archived.status_code == 200 and archived.json()["active"] is False
    listed = api.get(f"/companies/{company.pk}/categories").json()
    assert {c["reference"] for c in listed} == {"MEALS", "TRAVEL"}
    assert AuditEvent.objects.filter(action="expensecategory.archive").exists()
    assert api.post(f"/companies/{company.pk}/categories/NOPE/archive").status_code == 404


def test_card_upsert_validates_and_archives(api, company):
    url = f"/companies/{company.pk}/cards/card-9"
    bad = api.put(url, {"name": "Ops", "cardholder": "Al", "lastFour": "12x4", "currency": "gbp"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["fields"]} == {"lastFour", "currency"}
    body = {"name": "Ops", "cardholder": "Al Smith", "lastFour": "1234", "currency": "EUR"}
    assert api.put(url, body).status_code == 201
    assert api.put(url, {**body, "cardholder": "Alice Smith"}).status_code == 200
    card = Card.objects.get(company=company, reference="card-9")
    assert card.cardholder == "Alice Smith" and card.currency == "EUR"
    assert api.post(f"{url}/archive").json()["active"] is False
    card.refresh_from_db()
    assert card.is_active is False


def test_another_companys_catalog_is_not_reachable(api, company):
    from tests.models.factories import make_company

    other = make_company()
    response = api.post(f"/companies/{other.pk}/categories/TRAVEL/archive")
    assert response.status_code == 404
    assert ExpenseCategory.objects.get(company=company, code="TRAVEL").is_active
