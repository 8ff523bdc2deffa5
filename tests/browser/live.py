"""The world a browser journey runs in: the portal on a live server, the embedded sandbox at the
same origin over real HTTP, a real Celery worker, the sandbox's background progress, and a
recorder that screenshots every step and checks it with axe-core.

Everything runs in the test's process (threads), so the `settings` fixture's overrides reach
the live server, the worker and the sandbox alike. The database they share is a file (see
conftest.py: SQLite's in-memory test database would lock whole tables between threads).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "browser"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
API_KEY = "sandbox-dev-key"
# axe-core's impact levels that fail a page; "moderate" and "minor" are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}


# --- The sandbox's background progress --------------------------------------------------------


class SandboxProgress:
    """What the sandbox's own daemon thread does (advance syncs, writes and reads; deliver
    webhooks), in a thread this test stops again. The sandbox's thread, once started, would run
    on under every later test in the process."""

    def __init__(self, tick: float = 0.2) -> None:
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-progress", daemon=True)
        self.errors: list[str] = []

    def _run(self) -> None:
        from codat_sandbox import engine

        while not self._stop.is_set():
            try:
                engine.advance()
            except Exception as exc:  # kept for the report; the next tick retries
                self.errors.append(repr(exc))
            finally:
                connections.close_all()
            self._stop.wait(self.tick)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# --- A real worker -------------------------------------------------------------------------------


class Beat:
    """Sends the poller now and then, as beat would (its real interval is 30 s): a sync whose
    webhook is late still gets followed, and receipts waiting on a completed sync get uploaded."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-beat", daemon=True)

    def _run(self) -> None:
        from integrations.syncs import tasks

        while not self._stop.wait(self.every):
            with contextlib.suppress(Exception):  # the next beat tries again
                tasks.poll_syncs.delay()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def in_process_broker(app):
    """Redis (CI) is used as configured. The development default, kombu's filesystem transport,
    shares var/celery with every other process on the machine (a `make run` worker, other test
    runs) and can hand a worker a message file still being written; the worker and the live
    server are threads of this process, so kombu's in-memory transport serves them instead."""
    if not app.conf.broker_url.startswith("filesystem://"):
        yield
        return
    amqp = app.amqp
    saved = (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        amqp._producer_pool,
    )
    app.conf.broker_url = "memory://"
    app.conf.broker_transport_options = {}
    app._pool = amqp._producer_pool = None
    try:
        yield
    finally:
        # The memory pool is left open: kombu keeps it in its registry for the next test.
        (
            app.conf.broker_url,
            app.conf.broker_transport_options,
            app._pool,
            amqp._producer_pool,
        ) = saved


@pytest.fixture
def live_world(settings, live_server, tmp_path):
    """The portal and the sandbox on one live server, a worker and the sandbox moving on.

    Yields the live server's URL. The worker consumes a queue of its own (a `make run` worker
    on the same filesystem broker or Redis must not take this test's tasks).
    """
    from celery.contrib.testing.worker import start_worker

    from expenses_portal.celery import app

    base = live_server.url
    sandbox = base + "/codat-sandbox"
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    settings.CODAT_SANDBOX_URL = sandbox
    settings.CODAT_BASE_URL = sandbox
    settings.CODAT_API_KEY = API_KEY
    settings.CODAT_SANDBOX_API_KEYS = [API_KEY]
    settings.CODAT_TIMEOUT_SECONDS = 10
    settings.CODAT_SANDBOX_REDIRECT_URL = (
        base + "/link/return/?companyId={companyId}&connectionId={connectionId}"
        "&statusCode={statusCode}&errorMessage={errorMessage}&platform={platform}"
    )
    settings.CODAT_SANDBOX_WEBHOOK_URL = base + "/webhooks/codat/"
    settings.CODAT_SANDBOX_WEBHOOK_SECRET = secret
    settings.CODAT_WEBHOOK_SECRET = secret
    settings.CODAT_WEBHOOK_SECRETS = [secret]
    # Our own progress thread below, not the sandbox's process-wide one.
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0.5
    settings.CODAT_SANDBOX_DAILY_QUOTA = 100_000
    settings.SYNC_POLL_DELAY_SECONDS = 0
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False

    queue = f"browser-{uuid.uuid4().hex[:10]}"
    # Read at each send (celery.app.routes.Router.route), so every task goes to this queue.
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue

    progress = SandboxProgress()
    beat = Beat()
    progress.start()
    try:
        with (
            in_process_broker(app),
            start_worker(
                app,
                pool="solo",
                perform_ping_check=False,
                shutdown_timeout=20,
                queues=[queue],
                loglevel="WARNING",
            ),
        ):
            beat.start()
            try:
                yield base
            finally:
                beat.stop()
    finally:
        progress.stop()
        app.conf.task_default_queue = default_queue
        connections.close_all()


# --- Screenshots and axe-core --------------------------------------------------------------------


def axe_available() -> bool:
    return AXE.exists()


@dataclass
class Journey:
    """Records one journey: a numbered screenshot per step under var/browser/<name>/, an axe-core
    check of every page, and which steps were reached (the report a failing run leaves)."""

    name: str
    page: object
    steps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    axe_findings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = SCREENSHOTS / self.name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in [*self.folder.glob("*.png"), *self.folder.glob("axe.json")]:
            old.unlink()

    def shot(self, step: str, *, axe: bool = True, phone: bool = True) -> Path:
        """Screenshot the page as it is now, at the desktop width and (as <step>-phone.png) a
        phone's; check it with axe-core unless told not to."""
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{len(self.steps) + 1:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if phone:
            desktop = self.page.viewport_size
            self.page.set_viewport_size(PHONE)
            self.page.screenshot(path=str(path.with_name(f"{path.stem}-phone.png")), full_page=True)
            self.page.set_viewport_size(desktop)
        self.steps.append(step)
        if axe:
            found = check_accessibility(self.page, f"{self.name}/{path.name}")
            # Every step's lesser findings, as a CI artifact beside the screenshots.
            self.axe_findings[path.name] = found
            (self.folder / "axe.json").write_text(json.dumps(self.axe_findings, indent=2))
        return path


AXE_URL_PATH = "/__browser-tests__/axe.min.js"


def serve_axe(context) -> None:
    """Answer AXE_URL_PATH on any origin with the npm-installed axe.min.js, from disk."""
    if AXE.exists():
        context.route(
            "**" + AXE_URL_PATH,
            lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"),
        )


def check_accessibility(page, where: str) -> list[dict]:
    """No serious or critical axe-core violation on the page as it is now. Returns every
    violation found (moderate and minor ones are not failures, but worth reading)."""
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core is missing ({AXE}); `make test` installs it with npm ci")
        return []  # conftest has said why once; the journey itself still runs
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Served from disk at the page's own origin (see serve_axe), so the portal's CSP
        # (script-src 'self') stays on while axe runs; an inline copy would be refused.
        origin = re.match(r"https?://[^/]+", page.url).group(0)
        page.add_script_tag(url=origin + AXE_URL_PATH)
    results = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
    )
    summary = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
            "why": v["nodes"][0].get("failureSummary", "") if v["nodes"] else "",
        }
        for v in results
    ]
    blocking = [v for v in summary if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        raise AssertionError(
            f"axe-core: serious/critical violations on {where} ({page.url}):\n"
            + json.dumps(blocking, indent=2)
        )
    return summary


def staff_sign_in(page, base: str, username: str, password: str, next_path: str) -> None:
    page.goto(base + next_path)
    if "/login/" in page.url:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)
