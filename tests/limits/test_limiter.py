"""CodatLimiter as the client's gate: slots around each request, the quota and its reserve."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.utils import timezone

from integrations.codat import (
    CodatClient,
    CodatHeldBackError,
    CodatQuotaReservedError,
    CodatRateLimitedError,
    CodatTransientError,
    RateLimit,
)
from integrations.codat.errors import GateRefusal
from integrations.codat.factory import codat_client
from integrations.syncs import limits
from integrations.syncs.limits import CodatLimiter

pytestmark = pytest.mark.django_db

BASE = "http://codat-sandbox.test/api"
COMPANY_ID = "8a210b68-6988-11ed-a1eb-0242ac120002"
RESET = "2099-01-01T00:00:00Z"


def headers(remaining, limit=1000, reset=RESET):
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": reset,
    }


class FakeCodat:
    """Answers every request with ``answer(request)``; remembers what it was sent."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return self.answer(request)


@pytest.fixture
def make_client():
    clients = []

    def make(answer, *, interactive=False, slots=None, wait_seconds=0.0):
        fake = FakeCodat(answer)
        gate = CodatLimiter(interactive=interactive, slots=slots, wait_seconds=wait_seconds)
        client = CodatClient(
            base_url=BASE,
            sandbox_url=BASE,
            api_key="k",
            transport=httpx.MockTransport(fake),
            gate=gate,
        )
        clients.append(client)
        return client, fake

    yield make
    for client in clients:
        client.close()


def ok(remaining=900, **extra):
    return lambda request: httpx.Response(
        200, json={"id": COMPANY_ID}, headers={**headers(remaining), **extra}
    )


def test_each_request_holds_a_slot_of_its_company_while_in_flight(make_client, database_slots):
    slots = database_slots()
    seen_in_flight = []

    def answer(request):
        seen_in_flight.append(slots.in_flight(COMPANY_ID))
        return ok()(request)

    client, _ = make_client(answer, slots=slots)
    client.get_company(COMPANY_ID)

    assert seen_in_flight == [1]
    assert slots.in_flight(COMPANY_ID) == 0


def test_the_slot_is_released_when_the_request_fails(make_client, database_slots):
    slots = database_slots()

    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(timeout, slots=slots)
    with pytest.raises(CodatTransientError):
        client.get_company(COMPANY_ID)

    assert slots.in_flight(COMPANY_ID) == 0


def test_a_busy_company_is_held_back_with_a_retryable_error(make_client, database_slots):
    slots = database_slots(limit=1)
    holder = slots.try_acquire(COMPANY_ID)
    client, fake = make_client(ok(), slots=slots, wait_seconds=0.05)

    with pytest.raises(CodatHeldBackError) as caught:
        client.get_company(COMPANY_ID)

    assert fake.requests == []
    assert caught.value.retryable and caught.value.status_code is None
    assert caught.value.retry_after == limits.BUSY_RETRY_SECONDS
    # Another company is not affected, and the slot comes back once released.
    client.get_company(str(uuid.uuid4()))
    slots.release(COMPANY_ID, holder)
    client.get_company(COMPANY_ID)


def test_requests_about_no_company_take_no_slot(make_client, database_slots):
    slots = database_slots(limit=1)
    slots.try_acquire(COMPANY_ID)
    client, fake = make_client(
        lambda r: httpx.Response(201, json={"id": COMPANY_ID, "name": "n"}, headers=headers(5)),
        slots=slots,
    )

    client.create_company({"name": "n"})

    assert len(fake.requests) == 1


def test_every_response_records_the_quota_for_all_processes(make_client, database_slots):
    client, _ = make_client(ok(remaining=777), slots=database_slots())

    client.get_company(COMPANY_ID)

    state = limits.quota_state()
    assert (state.limit, state.remaining) == (1000, 777)
    assert state.reset == datetime(2099, 1, 1, tzinfo=UTC)


def test_an_answer_overtaken_on_the_way_back_does_not_raise_the_count():
    limits.record_rate_limit(RateLimit(1000, 500, datetime(2099, 1, 1, tzinfo=UTC)))
    limits.record_rate_limit(RateLimit(1000, 510, datetime(2099, 1, 1, tzinfo=UTC)))
    assert limits.quota_state().remaining == 500
    # A new day (another reset time) starts afresh.
    limits.record_rate_limit(RateLimit(1000, 999, datetime(2099, 1, 2, tzinfo=UTC)))
    assert limits.quota_state().remaining == 999


@pytest.mark.parametrize(
    ("setting", "limit", "expected"),
    [("5%", 1000, 50), ("5%", 1001, 51), ("5%", None, 0), ("0%", 1000, 0), ("250", 1000, 250)],
)
def test_reserve_size(setting, limit, expected):
    assert limits.reserve_size(limit, setting) == expected


def test_background_work_leaves_the_reserve_to_people(make_client, database_slots):
    # 5% of 1000 is 50: with 50 left, background work stops; a person may still go on.
    client, fake = make_client(ok(remaining=50), slots=database_slots())
    client.get_company(COMPANY_ID)  # learns that only 50 are left
    now = timezone.now()

    with pytest.raises(CodatQuotaReservedError) as caught:
        client.get_company(COMPANY_ID)

    assert len(fake.requests) == 1
    assert isinstance(caught.value, CodatRateLimitedError) and caught.value.retryable
    expected_wait = (datetime(2099, 1, 1, tzinfo=UTC) - now).total_seconds()
    assert caught.value.retry_after == pytest.approx(expected_wait, abs=5)

    person, person_fake = make_client(ok(remaining=49), interactive=True, slots=database_slots())
    person.get_company(COMPANY_ID)
    assert len(person_fake.requests) == 1


def test_one_above_the_reserve_still_goes(make_client, database_slots):
    client, fake = make_client(ok(remaining=51), slots=database_slots())
    client.get_company(COMPANY_ID)
    client.get_company(COMPANY_ID)
    assert len(fake.requests) == 2


def test_a_quota_past_its_reset_no_longer_holds_anything_back(make_client, database_slots):
    limits.record_rate_limit(RateLimit(1000, 0, timezone.now() + timedelta(seconds=1)))
    client, fake = make_client(ok(), slots=database_slots())
    with pytest.raises(CodatQuotaReservedError):
        client.get_company(COMPANY_ID)
    assert fake.requests == []

    CodatLimiter().check_quota(now=timezone.now() + timedelta(seconds=2))


def test_a_429_holds_background_work_back_for_its_retry_after(make_client, database_slots):
    answers = iter(
        [
            httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "30"}),
            httpx.Response(200, json={"id": COMPANY_ID}),
        ]
    )
    client, fake = make_client(lambda r: next(answers), slots=database_slots())

    with pytest.raises(CodatRateLimitedError) as first:
        client.get_company(COMPANY_ID)
    assert first.value.retry_after == 30
    assert not isinstance(first.value, CodatHeldBackError)

    # Every other background request, in any process, now waits too, without asking Codat.
    with pytest.raises(CodatHeldBackError) as held:
        client.get_company(str(uuid.uuid4()))
    assert 25 < held.value.retry_after <= 30
    assert len(fake.requests) == 1

    with pytest.raises(GateRefusal):
        CodatLimiter().check_quota(now=timezone.now() + timedelta(seconds=29))
    CodatLimiter().check_quota(now=timezone.now() + timedelta(seconds=31))


def test_a_broken_cache_does_not_lose_the_answer(make_client, database_slots, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(limits, "record_rate_limit", broken)
    client, _ = make_client(ok(), slots=database_slots())

    assert client.get_company(COMPANY_ID) == {"id": COMPANY_ID}


def test_the_factory_gives_every_client_the_limiter(settings):
    with codat_client() as background, codat_client(interactive=True) as person:
        assert isinstance(background.gate, CodatLimiter) and not background.gate.interactive
        assert isinstance(person.gate, CodatLimiter) and person.gate.interactive


def test_the_backend_follows_redis_url(settings):
    settings.REDIS_URL = ""
    assert isinstance(limits.default_slots(), limits.DatabaseSlots)
    settings.REDIS_URL = "redis://127.0.0.1:6379/5"
    assert isinstance(limits.default_slots(), limits.RedisSlots)


def test_codats_quota_webhooks_reach_every_process(make_client, database_slots):
    from integrations.syncs import events
    from integrations.syncs.models import WebhookEvent

    def event(event_type, payload):
        return WebhookEvent.objects.create(
            webhook_id=str(uuid.uuid4()),
            event_type=event_type,
            payload={"eventType": event_type, "payload": payload},
        )

    reached = event(
        "client.rateLimit.reached",
        {"dailyQuota": 2000, "quotaRemaining": 0, "expiryDate": "2099-01-01T00:00:00Z"},
    )
    assert events.process_event(reached.pk).outcome == WebhookEvent.Outcome.PROCESSED
    assert limits.quota_state().remaining == 0
    client, fake = make_client(ok(), slots=database_slots())
    with pytest.raises(CodatQuotaReservedError):
        client.get_company(COMPANY_ID)
    assert fake.requests == []

    reset = event(
        "client.rateLimit.reset",
        {"dailyQuota": 2000, "quotaRemaining": 2000, "expiryDate": "2099-01-02T00:00:00Z"},
    )
    assert events.process_event(reset.pk).outcome == WebhookEvent.Outcome.PROCESSED
    assert limits.quota_state() is None
    client.get_company(COMPANY_ID)
    assert len(fake.requests) == 1


def test_an_unreachable_limiter_holds_requests_back_retryably(make_client):
    import redis

    # Nothing listens on port 1: every call to this Redis fails at once.
    unreachable = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    slots = limits.RedisSlots(unreachable, limit=10, lease_seconds=60)
    client, fake = make_client(ok(), slots=slots)

    with pytest.raises(CodatHeldBackError) as caught:
        client.get_company(COMPANY_ID)

    assert fake.requests == []
    assert caught.value.retryable
    assert "limiter is unavailable" in str(caught.value)
