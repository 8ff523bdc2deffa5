import os
import shutil
from pathlib import Path

import pytest

from .live import AXE, SCREENSHOTS, live_world, serve_axe  # noqa: F401 (fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config):
    # The journeys' live server, Celery worker and sandbox threads share the test's database.
    # SQLite's in-memory test database locks whole tables between threads (shared cache), so
    # on SQLite the session's test database is a file instead: in /dev/shm where there is one
    # (memory-backed, as fast), one per process so parallel runs never share it. Django deletes
    # it when the session ends. PostgreSQL (CI) needs nothing.
    from django.db import connections

    db = connections["default"].settings_dict
    if db["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = db.setdefault("TEST", {})
    if test.get("NAME"):
        return
    folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(config.rootpath) / "var"
    test["NAME"] = str(folder / f"expenses-portal-test-{os.getpid()}.sqlite3")


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if "tests/browser/" in str(item.fspath)]
    if browser_items and not AXE.exists():
        # `make test` installs axe-core with npm (tests/browser/package.json); without npm the
        # journeys still run, without their accessibility checks. CI must have them.
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(
                f"CI must check accessibility: {AXE} is missing (make test runs npm ci)"
            )
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "SKIPPED accessibility checks: axe-core is not installed (needs npm: "
                "cd tests/browser && npm ci); the browser journeys run without them",
                yellow=True,
            )
    # Browser tests need Debian's chromium; .ci/run installs it, a laptop may not have it.
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI must run the browser tests: chromium is missing")
    skip = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still plain synchronous code, so the async-safety guard does not apply.
    # Restored afterwards: subprocesses started by other tests (manage.py check --deploy) must
    # not inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_call_failed = report.failed
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    serve_axe(context)
    page = context.new_page()
    yield page
    if getattr(request.node, "browser_call_failed", False):
        # What the page showed when the test failed: a CI artifact beside the journeys' steps.
        folder = SCREENSHOTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)
        try:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"no failure screenshot: {exc}")
    context.close()
