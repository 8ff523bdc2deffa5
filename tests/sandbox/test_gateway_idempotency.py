"""Idempotency-Key conflicts never replace the stored answer; a dead request's claim lapses."""

import datetime

import pytest
from django.utils import timezone

from codat_sandbox.models import IdempotencyRecord, SandboxCompany

pytestmark = pytest.mark.django_db

KEY = {"Idempotency-Key": "0b6c1e4a-5d0e-4a51-8f55-2c8f7e0b9d31"}


def test_a_422_for_another_body_does_not_replace_the_first_answer(api):
    first = api.post("/companies", {"name": "Body one"}, headers=KEY)
    assert first.status_code == 200
    replay = api.post("/companies", {"name": "Body one"}, headers=KEY)
    other = api.post("/companies", {"name": "Body two"}, headers=KEY)
    again = api.post("/companies", {"name": "Body one"}, headers=KEY)
    assert [replay.status_code, other.status_code, again.status_code] == [200, 422, 200]
    assert replay.content == again.content == first.content
    assert SandboxCompany.objects.count() == 1


def test_a_409_for_a_request_in_flight_is_not_kept(api, monkeypatch):
    monkeypatch.setattr("codat_sandbox.limits.request_fingerprint", lambda request: "same")
    record = IdempotencyRecord.objects.create(
        key=KEY["Idempotency-Key"],
        request_hash="same",
        expires_at=timezone.now() + datetime.timedelta(minutes=90),
    )
    assert api.post("/companies", {"name": "Once"}, headers=KEY).status_code == 409
    record.refresh_from_db()
    assert record.in_flight and record.status_code is None and bytes(record.body) == b""


def test_a_key_whose_first_request_died_becomes_usable_again(api, monkeypatch):
    monkeypatch.setattr("codat_sandbox.limits.request_fingerprint", lambda request: "same")
    now = timezone.now()
    # Left in flight by a process that was killed: nobody will ever store its answer.
    IdempotencyRecord.objects.create(
        key=KEY["Idempotency-Key"],
        request_hash="same",
        created=now - datetime.timedelta(minutes=1),
        lease_expires_at=now - datetime.timedelta(seconds=1),
        expires_at=now + datetime.timedelta(minutes=89),
    )
    retried = api.post("/companies", {"name": "Survivor"}, headers=KEY)
    assert retried.status_code == 200
    replay = api.post("/companies", {"name": "Survivor"}, headers=KEY)
    assert replay.content == retried.content
    assert SandboxCompany.objects.get().name == "Survivor"
    assert IdempotencyRecord.objects.get().in_flight is False
