"""Fixtures for the sync pipeline against the sandbox over real HTTP (live_server).

The integration conftest's settings apply here too (no background thread, sync delay 0, no
webhooks unless a test captures them); the portal's Codat client is pointed at the sandbox.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import (  # noqa: F401 (fixtures)
    _sandbox_settings,
    codat,
    make_client,
    sandbox_url,
    webhook_capture,
)
from tests.integration.helpers import API_KEY


@pytest.fixture
def portal_on_sandbox(settings, sandbox_url):  # noqa: F811
    """Point the portal's Codat client at the live sandbox (the pipeline modules use it)."""
    settings.CODAT_SANDBOX_URL = sandbox_url
    settings.CODAT_BASE_URL = sandbox_url
    settings.CODAT_API_KEY = API_KEY
    settings.CODAT_TIMEOUT_SECONDS = 10
    # The poller may look at once and back off in small steps, so tests never wait.
    settings.SYNC_POLL_DELAY_SECONDS = 0
    settings.SYNC_RETRY_BASE_SECONDS = 0


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Receipts are real files; keep them out of var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def worker_pool(sandbox_url, tmp_path):  # noqa: F811
    """Build a pool of real Celery worker processes on Redis for this test; skips (or, in CI,
    fails) without PostgreSQL and Redis. Every pool is stopped before the database is flushed,
    since a live worker would hold its tables."""
    from .workers import WorkerPool, require_workers

    require_workers()
    pools = []

    def make(**options) -> WorkerPool:
        pool = WorkerPool(sandbox_url=sandbox_url, log_dir=tmp_path, **options)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.stop()
