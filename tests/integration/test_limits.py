"""The portal's own client (factory-built, limiter included) against the sandbox over HTTP."""

from __future__ import annotations

import uuid

import pytest

from codat_sandbox.models import FaultSettings
from integrations.codat import CodatQuotaReservedError, CodatRateLimitedError
from integrations.codat.factory import codat_client
from integrations.syncs import limits

from .helpers import API_KEY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal_settings(settings, sandbox_url):
    settings.CODAT_SANDBOX_URL = sandbox_url
    settings.CODAT_BASE_URL = sandbox_url
    settings.CODAT_API_KEY = API_KEY
    settings.REDIS_URL = ""  # the database backend; the unit tests cover Redis
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"limits-{uuid.uuid4()}",
        }
    }
    settings.CODAT_QUOTA_RESERVE = "5%"
    return settings


def test_every_answer_is_recorded_and_every_slot_given_back(portal_settings):
    slots = limits.default_slots()
    with codat_client() as codat:
        company_id = codat.create_company({"name": "Limits"})["id"]
        codat.get_company(company_id)
        codat.list_connections(company_id)

    state = limits.quota_state()
    assert state.limit == portal_settings.CODAT_SANDBOX_DAILY_QUOTA
    assert 0 < state.remaining < state.limit
    assert state.remaining == codat.rate_limit.remaining
    assert state.reset == codat.rate_limit.reset
    assert slots.in_flight(company_id) == 0


def test_a_429_from_codat_stops_background_work_until_the_reset(portal_settings):
    with codat_client() as codat:
        company_id = codat.create_company({"name": "Quota"})["id"]
    FaultSettings.objects.create(company=None, quota_exhausted=True)

    with codat_client() as codat:
        with pytest.raises(CodatRateLimitedError) as limited:
            codat.get_company(company_id)
        assert limited.value.status_code == 429 and limited.value.retry_after > 0
        assert limits.quota_state().remaining == 0

        FaultSettings.objects.all().delete()
        # The sandbox would answer now, but the quota Codat reported is spent: not even sent.
        with pytest.raises(CodatQuotaReservedError) as held:
            codat.get_company(company_id)
        assert held.value.status_code is None

    # A person waiting on a page may still go ahead.
    with codat_client(interactive=True) as codat:
        assert codat.get_company(company_id)["id"] == company_id
