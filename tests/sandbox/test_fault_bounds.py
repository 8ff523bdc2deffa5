"""Fault settings are bounded wherever they can be set: the ledger viewer's form, the admin, the
model's validation and the database itself. A value past a bound is refused with a message that
names it, and nothing is saved."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from codat_sandbox.models import (
    FAULT_MAX_ERROR_RATE,
    FAULT_MAX_LATENCY_MS,
    FAULT_MAX_TIMEOUT_SECONDS,
    FaultSettings,
)

from .conftest import PREFIX, create_company

pytestmark = pytest.mark.django_db

AT_THE_BOUNDS = {
    "error_rate": FAULT_MAX_ERROR_RATE,
    "latency_ms": FAULT_MAX_LATENCY_MS,
    "timeout_seconds": FAULT_MAX_TIMEOUT_SECONDS,
}
# field -> (a value past its bound, words the refusal must contain)
TOO_LARGE = {
    "error_rate": (FAULT_MAX_ERROR_RATE + 1, "cannot exceed 100"),
    "latency_ms": (FAULT_MAX_LATENCY_MS + 1, "at most 30000 ms"),
    "timeout_seconds": (2147483647, "at most 60 seconds"),
}


def fault_form(**values):
    form = {"error_rate": "0", "latency_ms": "0", "timeout_seconds": "0"}
    return form | {field: str(value) for field, value in values.items()}


def test_the_bounds_leave_a_timeout_past_the_portals_client_timeout(settings):
    # A timeout fault is only one if the client gives up first.
    assert settings.CODAT_TIMEOUT_SECONDS < FAULT_MAX_TIMEOUT_SECONDS
    assert FAULT_MAX_LATENCY_MS <= 30_000


@pytest.mark.parametrize("field", sorted(TOO_LARGE))
def test_the_ledger_form_refuses_a_value_past_its_bound_and_keeps_the_old_settings(
    api, admin_client, field
):
    cid = create_company(api)["id"]
    faults = FaultSettings.objects.create(company_id=cid, error_rate=5, latency_ms=10)
    value, words = TOO_LARGE[field]

    response = admin_client.post(
        f"{PREFIX}/ledger/{cid}/faults/", fault_form(**{field: value}), follow=True
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith("Fault settings were not saved.")
    assert words in shown[0]
    faults.refresh_from_db()
    assert (faults.error_rate, faults.latency_ms, faults.timeout_seconds) == (5, 10, 0)


def test_the_ledger_form_accepts_every_bound_itself(api, admin_client):
    cid = create_company(api)["id"]

    admin_client.post(f"{PREFIX}/ledger/{cid}/faults/", fault_form(**AT_THE_BOUNDS))

    faults = FaultSettings.objects.get(company_id=cid)
    assert {field: getattr(faults, field) for field in AT_THE_BOUNDS} == AT_THE_BOUNDS


def test_the_ledger_form_tells_the_browser_the_bounds(api, admin_client):
    cid = create_company(api)["id"]
    page = admin_client.get(f"{PREFIX}/ledger/{cid}/").content.decode()
    assert f'max="{FAULT_MAX_TIMEOUT_SECONDS}"' in page
    assert f'max="{FAULT_MAX_LATENCY_MS}"' in page


@pytest.mark.parametrize("field", sorted(TOO_LARGE))
def test_the_admin_refuses_a_value_past_its_bound(admin_client, field):
    value, words = TOO_LARGE[field]
    form = fault_form(**{field: value}) | {"updated_0": "2026-03-02", "updated_1": "12:00:00"}

    response = admin_client.post("/admin/codat_sandbox/faultsettings/add/", form)

    assert response.status_code == 200  # the form again, with the error
    assert words in response.content.decode()
    assert not FaultSettings.objects.exists()


def test_the_admin_saves_values_within_the_bounds(admin_client):
    form = fault_form(**AT_THE_BOUNDS) | {"updated_0": "2026-03-02", "updated_1": "12:00:00"}

    response = admin_client.post("/admin/codat_sandbox/faultsettings/add/", form)

    assert response.status_code == 302
    assert FaultSettings.objects.get(company=None).timeout_seconds == FAULT_MAX_TIMEOUT_SECONDS


@pytest.mark.parametrize("field", sorted(TOO_LARGE))
def test_model_validation_refuses_a_value_past_its_bound(field):
    with pytest.raises(ValidationError) as excinfo:
        FaultSettings(**{field: TOO_LARGE[field][0]}).full_clean()
    assert list(excinfo.value.message_dict) == [field]


@pytest.mark.parametrize("field", sorted(TOO_LARGE))
def test_the_database_refuses_a_value_past_its_bound(field):
    # Code that skips validation (a shell, a script, a fixture) cannot store one either.
    with pytest.raises(IntegrityError), transaction.atomic():
        FaultSettings.objects.create(**{field: TOO_LARGE[field][0]})
    assert not FaultSettings.objects.exists()
