"""Daily quota, per-company concurrency and fault injection."""

import datetime

import pytest
import time_machine

from codat_sandbox import engine, jsonutil, limits
from codat_sandbox.models import FaultSettings, WebhookMessage

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


LATE_MONDAY = datetime.datetime(2026, 3, 2, 23, 50, tzinfo=datetime.UTC)
EARLY_TUESDAY = datetime.datetime(2026, 3, 3, 0, 0, 5, tzinfo=datetime.UTC)


def _resets():
    return [
        jsonutil.loads(body)["payload"]
        for body in WebhookMessage.objects.filter(event_type="client.rateLimit.reset")
        .order_by("created")
        .values_list("body", flat=True)
    ]


def test_the_first_request_of_the_next_utc_day_announces_the_reset_once(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 3
    with time_machine.travel(LATE_MONDAY, tick=False):
        assert [api.get("/companies").status_code for _ in range(5)][-1] == 429
        assert _resets() == []
    with time_machine.travel(EARLY_TUESDAY, tick=False):
        first = api.get("/companies")
        assert first.status_code == 200
        assert _resets() == [
            {"dailyQuota": 3, "quotaRemaining": 2, "expiryDate": "2026-03-04T00:00:00Z"}
        ]
        assert api.get("/companies").status_code == 200
        engine.advance()
    assert len(_resets()) == 1


def test_advance_notices_the_new_day_without_any_request(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 1
    with time_machine.travel(LATE_MONDAY, tick=False):
        api.get("/companies")
        assert api.get("/companies").status_code == 429
        engine.advance()  # still the same day: nothing to announce
        assert _resets() == []
    with time_machine.travel(EARLY_TUESDAY, tick=False):
        engine.advance()
        assert _resets() == [
            {"dailyQuota": 1, "quotaRemaining": 1, "expiryDate": "2026-03-04T00:00:00Z"}
        ]
        assert api.get("/companies").status_code == 200
    assert len(_resets()) == 1


def test_each_exhausted_day_gets_its_own_reset(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 1
    for day in (LATE_MONDAY, LATE_MONDAY + datetime.timedelta(days=1)):
        with time_machine.travel(day, tick=False):
            api.get("/companies")
            assert api.get("/companies").status_code == 429
    with time_machine.travel(EARLY_TUESDAY + datetime.timedelta(days=1), tick=False):
        api.get("/companies")
    assert [r["expiryDate"] for r in _resets()] == [
        "2026-03-04T00:00:00Z",
        "2026-03-05T00:00:00Z",
    ]
    assert WebhookMessage.objects.filter(event_type="client.rateLimit.reached").count() == 2


def test_no_reset_when_the_quota_was_never_reached(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 3
    with time_machine.travel(LATE_MONDAY, tick=False):
        api.get("/companies")
    with time_machine.travel(EARLY_TUESDAY, tick=False):
        api.get("/companies")
        engine.advance()
    assert _resets() == []


def test_the_per_company_concurrency_limit(api, settings):
    settings.CODAT_SANDBOX_CONCURRENCY = 2
    company = create_company(api)
    path = f"/companies/{company['id']}"
    assert api.get(path).status_code == 200
    held = [limits.enter_company(company["id"]) for _ in range(2)]  # two requests in flight
    limited = api.get(path)
    assert limited.status_code == 429 and limited["Retry-After"] == "1"
    # Other companies are not affected, and slots are given back after each request.
    assert api.get("/companies").status_code == 200
    assert limits.enter_company(company["id"]) is None
    for slot in held:
        limits.leave_company(slot)
    assert api.get(path).status_code == 200


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
