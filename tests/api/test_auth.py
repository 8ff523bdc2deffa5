"""Nothing is readable without a valid key; keys are stored hashed, revocable, and the
development key works in DEBUG only."""

import pytest
from django.contrib import admin
from django.core import checks
from django.utils import timezone

from integrations.api.models import PartnerApiKey, hash_secret
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", [None, "wrong", "epk_not-a-real-key"])
def test_missing_or_wrong_key_is_401_json(raw, company):
    for path in ("/companies", f"/companies/{company.pk}", f"/companies/{company.pk}/transactions"):
        response = Api(raw).get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert "Acme" not in response.content.decode()


def test_a_basic_scheme_is_refused(api_key, company):
    api = Api(api_key[1])
    api.headers = {"Authorization": f"Basic {api_key[1]}"}
    assert api.get("/companies").status_code == 401


def test_a_revoked_key_is_401(api_key, company):
    key, raw = api_key
    assert Api(raw).get("/companies").status_code == 200
    PartnerApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert Api(raw).get("/companies").status_code == 401


def test_the_key_is_stored_hashed_and_last_use_recorded(api_key):
    key, raw = api_key
    assert raw.startswith("epk_") and raw not in (key.secret_hash, key.prefix)
    assert key.secret_hash == hash_secret(raw)
    assert key.last_used_at is None
    Api(raw).get("/companies")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_the_development_key_works_in_debug_only(settings, company):
    settings.DEBUG = True
    dev = Api(settings.DEV_PARTNER_API_KEY)
    assert dev.get("/companies").status_code == 200
    settings.DEBUG = False
    assert dev.get("/companies").status_code == 401


def test_deploy_check_refuses_the_development_key(settings):
    settings.DEBUG = False
    settings.PARTNER_API_DEV_KEY = settings.DEV_PARTNER_API_KEY
    ids = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "partner_api.E001" in ids
    settings.PARTNER_API_DEV_KEY = ""
    ids = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "partner_api.E001" not in ids


def test_schema_and_docs_are_served_with_local_assets(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_admin_creates_a_key_shows_it_once_and_revokes(admin_client):
    response = admin_client.post(
        "/admin/partner_api/partnerapikey/add/", {"name": "processor"}, follow=True
    )
    assert response.status_code == 200
    key = PartnerApiKey.objects.get(name="processor")
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for m in shown for word in m.split() if word.startswith("epk_"))
    assert hash_secret(raw) == key.secret_hash
    assert Api(raw).get("/companies").status_code == 200
    admin_client.post(
        "/admin/partner_api/partnerapikey/",
        {"action": "revoke", admin.helpers.ACTION_CHECKBOX_NAME: [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Api(raw).get("/companies").status_code == 401


def test_the_admin_filters_keys_by_state(admin_client, api_key):
    old, _ = PartnerApiKey.generate("old")
    PartnerApiKey.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
    active = admin_client.get("/admin/partner_api/partnerapikey/", {"state": "active"})
    assert [k.name for k in active.context["cl"].result_list] == ["card-processor"]
    revoked = admin_client.get("/admin/partner_api/partnerapikey/", {"state": "revoked"})
    assert [k.name for k in revoked.context["cl"].result_list] == ["old"]
