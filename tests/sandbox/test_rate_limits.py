"""Daily quota, per-company concurrency and fault injection."""

import pytest

from codat_sandbox.models import FaultSettings, InFlightRequest, WebhookMessage

from .conftest import create_company

pytestmark = pytest.mark.django_db


def test_the_daily_quota_answers_429_with_retry_after(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 3
    responses = [api.get("/companies") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["X-Rate-Limit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    limited = responses[-1]
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["statusCode"] == 429
    assert limited.json()["error"].startswith("You have made too many requests")
    assert WebhookMessage.objects.filter(event_type="client.rateLimit.reached").count() == 1


def test_the_per_company_concurrency_limit(api, settings):
    settings.CODAT_SANDBOX_CONCURRENCY = 2
    company = create_company(api)
    path = f"/companies/{company['id']}"
    assert api.get(path).status_code == 200
    InFlightRequest.objects.create(company_id=company["id"])
    InFlightRequest.objects.create(company_id=company["id"])
    limited = api.get(path)
    assert limited.status_code == 429 and limited["Retry-After"] == "1"
    # Other companies are not affected, and markers are removed after each request.
    assert api.get("/companies").status_code == 200
    assert InFlightRequest.objects.count() == 2


def test_fault_injection_quota_exhaustion_is_per_company(api):
    first, second = create_company(api, "First"), create_company(api, "Second")
    FaultSettings.objects.create(company_id=first["id"], quota_exhausted=True)
    limited = api.get(f"/companies/{first['id']}")
    assert limited.status_code == 429 and limited["X-Rate-Limit-Remaining"] == "0"
    assert api.get(f"/companies/{second['id']}").status_code == 200


def test_global_fault_injection_error_rate(api):
    FaultSettings.objects.create(error_rate=100)
    response = api.get("/companies")
    assert response.status_code in (500, 503)
    assert response.json()["statusCode"] == response.status_code


def test_a_company_row_overrides_the_global_row(api):
    company = create_company(api)
    FaultSettings.objects.create(error_rate=100)
    FaultSettings.objects.create(company_id=company["id"], error_rate=0)
    assert api.get(f"/companies/{company['id']}").status_code == 200


def test_latency_and_timeouts_sleep(api, monkeypatch):
    slept = []
    monkeypatch.setattr("codat_sandbox.limits.time.sleep", slept.append)
    FaultSettings.objects.create(latency_ms=250, timeout_seconds=31)
    assert api.get("/companies").status_code == 200
    assert slept == [31, 0.25]


def test_unexpected_exceptions_become_a_500_error_message(api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr("codat_sandbox.services.mapping_options", boom)
    company = create_company(api)
    response = api.get(f"/companies/{company['id']}/sync/expenses/mappingOptions")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "There is a problem with our server. Please try again later."
    assert body["correlationId"] == response["X-Correlation-Id"]
