"""Fixtures for the portal-client <-> sandbox integration tests (real HTTP via live_server).

The sandbox's background thread is off and its sync delay is zero, so a sync finishes the
first time its status is read and webhooks go out when a test calls engine.advance(). (The
thread only checks that setting when it would start; if an earlier test in the same process
already started it, it keeps running, which is why webhook tests wait for a result rather than
assume who delivered it.)
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.codat.client import CodatClient

from .helpers import API_KEY

REDIRECT_TEMPLATE = (
    "http://portal.invalid/link/return/"
    "?companyId={companyId}&connectionId={connectionId}&statusCode={statusCode}"
)


@pytest.fixture(autouse=True)
def _sandbox_settings(settings):
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0
    settings.CODAT_SANDBOX_API_KEYS = [API_KEY]
    settings.CODAT_SANDBOX_DAILY_QUOTA = 100_000
    settings.CODAT_SANDBOX_CONCURRENCY = 10
    # No webhooks unless a test starts a capture server: the default URL is a dev server on
    # :8000 that may or may not be running on this machine.
    settings.CODAT_SANDBOX_WEBHOOK_URL = ""
    # The Link page redirects to the partner; .invalid can never resolve, and nothing follows it.
    settings.CODAT_SANDBOX_REDIRECT_URL = REDIRECT_TEMPLATE


@pytest.fixture
def sandbox_url(live_server) -> str:
    return live_server.url + "/codat-sandbox"


@pytest.fixture
def make_client(sandbox_url):
    """Build portal clients pointed at the live sandbox; all are closed after the test."""
    clients: list[CodatClient] = []

    def make(**overrides) -> CodatClient:
        options = {
            "base_url": sandbox_url,
            "sandbox_url": sandbox_url,
            "api_key": API_KEY,
            "timeout": 10,
        }
        client = CodatClient(**(options | overrides))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def codat(make_client) -> CodatClient:
    return make_client()


# --- Webhook capture ----------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]
    answered: int


@dataclass
class WebhookCapture:
    """What a stand-in receiver saw. With `fail_first_attempt`, the first delivery of each
    webhook-id is answered 500, so the sandbox has to retry it."""

    url: str = ""
    fail_first_attempt: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            webhook_id = _header(headers, "webhook-id")
            seen_before = any(
                _header(d.headers, "webhook-id") == webhook_id for d in self.deliveries
            )
            status = 500 if self.fail_first_attempt and not seen_before else 200
            self.deliveries.append(Delivery(path, body, headers, status))
            return status

    def snapshot(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


class _CaptureHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        # Keep the raw bytes: signatures are over the body exactly as sent.
        body = self.rfile.read(length)
        status = self.server.capture.record(self.path, body, dict(self.headers.items()))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass  # keep test output clean


@pytest.fixture
def webhook_capture(settings):
    """A tiny HTTP receiver on a free local port, set as the sandbox's webhook URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CaptureHandler)
    capture = WebhookCapture(url=f"http://127.0.0.1:{server.server_port}/codat/webhooks")
    server.capture = capture
    # A short poll interval keeps shutdown() (which waits for the loop to notice) quick.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="webhook-capture",
        daemon=True,
    )
    thread.start()
    settings.CODAT_SANDBOX_WEBHOOK_URL = capture.url
    try:
        yield capture
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def webhook_secret(settings) -> str:
    """A fresh Standard Webhooks secret, given to both sides through their own settings: the
    sandbox signs with CODAT_SANDBOX_WEBHOOK_SECRET, the portal verifies with
    CODAT_WEBHOOK_SECRETS. A random one proves the signature is not a constant."""
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    settings.CODAT_SANDBOX_WEBHOOK_SECRET = secret
    settings.CODAT_WEBHOOK_SECRET = secret
    settings.CODAT_WEBHOOK_SECRETS = [secret]
    return secret
