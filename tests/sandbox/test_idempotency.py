"""Idempotency-Key on POST and PATCH: replay, 409 in flight, 422 different body, 429 not kept."""

import datetime

import pytest
from django.utils import timezone

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
