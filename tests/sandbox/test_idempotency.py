"""Idempotency-Key on POST and PATCH: replay, 409 in flight, 422 different body, 429 not kept."""

import datetime

import pytest
from django.utils import timezone

from codat_sandbox import limits
from codat_sandbox.models import IdempotencyRecord, SandboxCompany

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "6f3a8d6e-9a0c-4bde-9f0e-1f6c6a3c2b11"}


def test_a_repeat_replays_the_first_response(api):
    first = api.post("/companies", {"name": "Once"}, headers=KEY)
    second = api.post("/companies", {"name": "Once"}, headers=KEY)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert SandboxCompany.objects.count() == 1


def test_the_same_key_with_another_body_is_422(api):
    api.post("/companies", {"name": "Once"}, headers=KEY)
    response = api.post("/companies", {"name": "Twice"}, headers=KEY)
    assert response.status_code == 422
    assert response.json()["statusCode"] == 422


def test_a_key_still_in_flight_is_409(api, monkeypatch):
    monkeypatch.setattr("codat_sandbox.limits.request_fingerprint", lambda request: "same")
    IdempotencyRecord.objects.create(
        key=KEY["Idempotency-Key"],
        request_hash="same",
        in_flight=True,
        expires_at=timezone.now() + datetime.timedelta(minutes=90),
    )
    response = api.post("/companies", {"name": "Once"}, headers=KEY)
    assert response.status_code == 409
    assert not SandboxCompany.objects.exists()


def test_errors_are_replayed_too(api):
    first = api.post("/companies", {"description": "no name"}, headers=KEY)
    second = api.post("/companies", {"description": "no name"}, headers=KEY)
    assert first.status_code == second.status_code == 400
    assert first.content == second.content


def test_429s_are_not_kept(api, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 1
    api.get("/companies")
    assert api.post("/companies", {"name": "Later"}, headers=KEY).status_code == 429
    assert not IdempotencyRecord.objects.exists()
    settings.CODAT_SANDBOX_DAILY_QUOTA = 100
    assert api.post("/companies", {"name": "Later"}, headers=KEY).status_code == 200


def test_an_expired_key_can_be_used_again(api):
    api.post("/companies", {"name": "Old"}, headers=KEY)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert api.post("/companies", {"name": "New"}, headers=KEY).status_code == 200
    assert SandboxCompany.objects.count() == 2


def test_get_and_put_ignore_the_header(api):
    assert api.get("/companies", headers=KEY).status_code == 200
    assert not IdempotencyRecord.objects.exists()


# --- injected faults and the key ----------------------------------------------------------------


def test_injected_errors_are_never_kept_for_the_key(api):
    from codat_sandbox.models import FaultSettings

    faults = FaultSettings.objects.create(error_rate=100)
    failed = api.post("/companies", {"name": "Retried"}, headers=KEY)
    assert failed.status_code in (500, 503)
    assert not IdempotencyRecord.objects.exists() and not SandboxCompany.objects.exists()
    faults.delete()
    retried = api.post("/companies", {"name": "Retried"}, headers=KEY)
    assert retried.status_code == 200
    assert SandboxCompany.objects.get().name == "Retried"


def test_injected_quota_exhaustion_is_never_kept_for_the_key(api):
    from codat_sandbox.models import FaultSettings

    faults = FaultSettings.objects.create(quota_exhausted=True)
    assert api.post("/companies", {"name": "Later"}, headers=KEY).status_code == 429
    assert not IdempotencyRecord.objects.exists()
    faults.delete()
    assert api.post("/companies", {"name": "Later"}, headers=KEY).status_code == 200


def test_a_slow_request_holds_its_key_and_company_slot_while_it_sleeps(api, monkeypatch, settings):
    """Injected latency runs after the in-flight marker and the key claim, so while the request
    is slow a retry with its key is a 409 and it counts toward the concurrency limit."""
    from codat_sandbox.models import FaultSettings

    settings.CODAT_SANDBOX_CONCURRENCY = 1
    company = api.post("/companies", {"name": "Slow Co"}).json()
    FaultSettings.objects.create(company_id=company["id"], latency_ms=5000)
    seen = []

    def sleep(seconds):
        seen.append(
            (
                seconds,
                limits.enter_company(company["id"]),  # None: the slow request holds the slot
                list(IdempotencyRecord.objects.values_list("key", "in_flight")),
            )
        )

    monkeypatch.setattr("codat_sandbox.limits.time.sleep", sleep)
    response = api.patch(f"/companies/{company['id']}", {"description": "slowly"}, headers=KEY)
    assert response.status_code == 200
    assert seen == [(5, None, [(KEY["Idempotency-Key"], True)])]
    # Once answered, the slot is free and the key holds the answer.
    slot = limits.enter_company(company["id"])
    assert slot is not None
    limits.leave_company(slot)
    assert IdempotencyRecord.objects.get().in_flight is False


def test_requests_arriving_while_one_is_slow_see_it_in_flight(api, monkeypatch, settings):
    from codat_sandbox.models import FaultSettings

    company = api.post("/companies", {"name": "Busy Co"}).json()
    path = f"/companies/{company['id']}"
    faults = FaultSettings.objects.create(company_id=company["id"], latency_ms=5000)
    during = {}

    def sleep(seconds):
        # Another client's requests, made while the first one is still being slow.
        faults.delete()
        settings.CODAT_SANDBOX_CONCURRENCY = 2  # room for the retry: it meets the key in flight
        during["same key"] = api.patch(path, {"description": "slowly"}, headers=KEY).status_code
        settings.CODAT_SANDBOX_CONCURRENCY = 1  # no room: the slow request holds the only slot
        during["other"] = api.get(path).status_code

    monkeypatch.setattr("codat_sandbox.limits.time.sleep", sleep)
    assert api.patch(path, {"description": "slowly"}, headers=KEY).status_code == 200
    assert during == {"same key": 409, "other": 429}
