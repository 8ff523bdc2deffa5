import os
import uuid

import pytest

from integrations.syncs.limits import DatabaseSlots, RedisSlots

LOCAL_REDIS = "redis://127.0.0.1:6379/5"


@pytest.fixture(autouse=True)
def private_cache(settings):
    # The quota and the 429 hold are shared through the cache; each test gets its own.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"limits-{uuid.uuid4()}",
        }
    }
    settings.CODAT_QUOTA_RESERVE = "5%"


@pytest.fixture(scope="session")
def redis_client():
    import redis

    # CI sets REDIS_URL; locally, a database of its own on the default server.
    client = redis.Redis.from_url(os.environ.get("REDIS_URL") or LOCAL_REDIS, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable: {exc}")
    yield client
    client.close()


@pytest.fixture
def redis_slots(redis_client):
    def make(limit=10, lease_seconds=60.0):
        # A key prefix per test, so parallel runs never share a company's slots.
        return RedisSlots(
            redis_client,
            limit=limit,
            lease_seconds=lease_seconds,
            prefix=f"test:{uuid.uuid4().hex}:",
        )

    return make


@pytest.fixture
def database_slots(db):
    def make(limit=10, lease_seconds=60.0):
        return DatabaseSlots(limit=limit, lease_seconds=lease_seconds)

    return make


@pytest.fixture(params=["redis", "database"])
def make_slots(request):
    return request.getfixturevalue(f"{request.param}_slots")
