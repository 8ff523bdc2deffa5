"""How the portal's client classifies the sandbox's real HTTP answers: errors, fault injection,
rate-limit headers and Idempotency-Key replay."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from codat_sandbox.models import FaultSettings
from integrations.codat.errors import (
    CodatAuthError,
    CodatNotFoundError,
    CodatRateLimitedError,
    CodatTransientError,
    CodatValidationError,
)

from .helpers import INTEGRATION_DB

pytestmark = INTEGRATION_DB


def _company(codat, name: str | None = None) -> str:
    return codat.create_company({"name": name or f"Errors {uuid.uuid4().hex[:8]}"})["id"]


# --- Plain error answers ------------------------------------------------------------------------


def test_unknown_company_is_not_found(codat):
    unknown = str(uuid.uuid4())
    with pytest.raises(CodatNotFoundError) as excinfo:
        codat.get_company(unknown)
    error = excinfo.value
    assert error.status_code == 404
    assert error.method == "GET" and unknown in error.path
    assert error.correlation_id, "the sandbox's ErrorMessage carries a correlationId"
    assert not error.retryable


def test_wrong_api_key_is_an_auth_error_that_does_not_leak_the_key(make_client):
    key = f"wrong-key-{uuid.uuid4().hex}"
    client = make_client(api_key=key)
    with pytest.raises(CodatAuthError) as excinfo:
        client.list_companies()
    error = excinfo.value
    assert error.status_code == 401
    encoded = base64.b64encode(key.encode()).decode()
    for text in (str(error), repr(error), error.message, str(error.error)):
        assert key not in text
        assert encoded not in text


def test_malformed_query_is_a_validation_error(codat):
    _company(codat)
    with pytest.raises(CodatValidationError) as excinfo:
        codat.list_companies(query="{name=Acme")  # unbalanced brace
    assert excinfo.value.status_code == 400
    assert excinfo.value.error, "Codat's error text is kept for the operator"


# --- Fault injection (the sandbox's own settings row, written directly) --------------------------


def test_injected_server_error_is_transient(codat):
    _company(codat)
    FaultSettings.objects.create(company=None, error_rate=100)
    with pytest.raises(CodatTransientError) as excinfo:
        codat.list_companies()
    assert excinfo.value.status_code in (500, 503)
    assert excinfo.value.retryable

    FaultSettings.objects.all().delete()
    assert codat.list_companies()["totalResults"] == 1


def test_company_fault_row_wins_over_the_global_one(codat):
    healthy, broken = _company(codat), _company(codat)
    FaultSettings.objects.create(company=None, error_rate=100)
    # A company's own row replaces the global row entirely, even when it injects nothing.
    FaultSettings.objects.create(company_id=healthy)
    assert codat.get_company(healthy)["id"] == healthy
    with pytest.raises(CodatTransientError):
        codat.get_company(broken)


def test_injected_quota_exhaustion_is_rate_limited_with_retry_after(codat):
    limited, other = _company(codat), _company(codat)
    FaultSettings.objects.create(company_id=limited, quota_exhausted=True)
    with pytest.raises(CodatRateLimitedError) as excinfo:
        codat.get_company(limited)
    error = excinfo.value
    assert error.status_code == 429
    assert error.retryable
    assert error.retry_after is not None and 0 < error.retry_after <= 24 * 3600
    assert error.rate_limit is not None and error.rate_limit.remaining == 0
    # Only that company is limited.
    assert codat.get_company(other)["id"] == other


def test_injected_timeout_is_transient(make_client):
    codat = make_client()
    company_id = _company(codat)
    injected = 1  # seconds the sandbox sleeps (its setting is whole seconds)
    impatient = make_client(timeout=0.5)
    FaultSettings.objects.create(company_id=company_id, timeout_seconds=injected)

    started = time.monotonic()
    with pytest.raises(CodatTransientError) as excinfo:
        impatient.get_company(company_id)
    assert time.monotonic() - started < injected, "the client waited for the slow answer"
    assert "timed out" in excinfo.value.message
    assert excinfo.value.status_code is None
    # Let the abandoned request finish in the server thread before touching the database again,
    # so two threads never share SQLite's in-memory connection at once.
    time.sleep(max(0.0, started + injected + 0.5 - time.monotonic()))

    FaultSettings.objects.filter(company_id=company_id).delete()
    assert impatient.get_company(company_id)["id"] == company_id


# --- Rate-limit headers -------------------------------------------------------------------------


def test_rate_limit_headers_are_parsed(codat, settings):
    settings.CODAT_SANDBOX_DAILY_QUOTA = 3
    assert codat.rate_limit is None

    codat.list_companies()
    first = codat.rate_limit
    codat.list_companies()
    second = codat.rate_limit

    now = datetime.now(UTC)
    assert first.limit == second.limit == 3
    assert (first.remaining, second.remaining) == (2, 1)
    # Codat's quota resets at midnight UTC.
    assert second.reset is not None and second.reset.tzinfo is not None
    assert now < second.reset <= now + timedelta(days=1)
    assert second.reset.astimezone(UTC).time() == datetime.min.time()

    codat.list_companies()
    assert codat.rate_limit.remaining == 0
    # Past the real (not injected) quota: 429 with a Retry-After until the reset.
    with pytest.raises(CodatRateLimitedError) as excinfo:
        codat.list_companies()
    assert excinfo.value.retry_after is not None and excinfo.value.retry_after > 0
    assert codat.rate_limit.remaining == 0


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_idempotency_key_replays_and_refuses_another_body(codat):
    key = str(uuid.uuid4())
    name = f"Idempotent {uuid.uuid4().hex[:8]}"

    first = codat.create_company({"name": name}, idempotency_key=key)
    again = codat.create_company({"name": name}, idempotency_key=key)
    assert again["id"] == first["id"]

    with pytest.raises(CodatValidationError) as excinfo:
        codat.create_company({"name": name + " (other)"}, idempotency_key=key)
    assert excinfo.value.status_code == 422

    names = [c["name"] for c in codat.paginate(codat.list_companies)]
    assert names == [name], "the replay and the refused request created nothing"


def test_a_rate_limited_write_can_be_retried_with_the_same_key(codat):
    # The client's advice after a 429 is "retry with the same Idempotency-Key"; that only works
    # because Codat (and so the sandbox) never stores a 429 against the key.
    key = str(uuid.uuid4())
    FaultSettings.objects.create(company=None, quota_exhausted=True)
    with pytest.raises(CodatRateLimitedError):
        codat.create_company({"name": "Retried Ltd"}, idempotency_key=key)
    FaultSettings.objects.all().delete()

    created = codat.create_company({"name": "Retried Ltd"}, idempotency_key=key)
    assert codat.create_company({"name": "Retried Ltd"}, idempotency_key=key)["id"] == created["id"]
    assert [c["id"] for c in codat.paginate(codat.list_companies)] == [created["id"]]
