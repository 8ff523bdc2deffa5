import pytest
from django.test import Client

from integrations.api.models import PartnerApiKey
from tests.models.factories import make_card, make_category, make_company


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_key(db):
    """A real key, as an operator creates it in the admin: (row, raw value)."""
    return PartnerApiKey.generate("card-processor")


class Api:
    """A test client that sends the key and JSON."""

    def __init__(self, raw_key):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body=None, **kwargs):
        return self.client.post(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers, **kwargs
        )

    def put(self, path, body):
        return self.client.put(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}", body, content_type="application/json", headers=self.headers
        )

    def upload(self, path, file):
        return self.client.post(f"/api/v1{path}", {"file": file}, headers=self.headers)


@pytest.fixture
def api(api_key):
    return Api(api_key[1])


@pytest.fixture
def company(db):
    company = make_company(name="Acme Ltd", partner_reference="acme")
    make_card(company, reference="card-1")
    make_category(company, code="TRAVEL", name="Travel")
    return company


def spend(reference="tx-1", **overrides):
    body = {
        "reference": reference,
        "kind": "expense",
        "type": "Payment",
        "issueDate": "2026-03-14",
        "currency": "GBP",
        "merchantName": "Pret A Manger",
        "card": "card-1",
        "category": "TRAVEL",
        "lines": [{"netAmount": "10.00", "taxAmount": "2.00"}],
    }
    body.update(overrides)
    return body
