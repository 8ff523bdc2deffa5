"""Fixtures for the SDK contract suite.

Every test drives Codat's official Python SDK (`codat-sync-for-expenses`, generated from Codat's
spec by people who never saw our sandbox) against the embedded sandbox over real HTTP, through
pytest-django's live server. The SDK's strict pydantic models and per-operation status maps are
the oracle: a wrong status code, a missing required field or a mis-cased enum surfaces as
`SDKError` / `ResponseValidationError`, which no test catches.

Coverage is kept honest in two halves:

* each test declares the spec operations it exercises with `@pytest.mark.operations(...)`, and an
  autouse fixture fails a passing test whose declared operations were not all sent over HTTP
  (it records the operationId of every request the SDK actually made);
* `test_operation_coverage.py` reads the operationIds from the spec and fails when one of them is
  declared by no collected test.

And every response an SDK client receives is validated against the JSON Schema the spec declares for
its operation and status code (`response_schemas.py`); a test that saw a non-conforming body fails
even if the SDK's looser models accepted it. That check reads Codat's spec from the shared folder
beside the checkout (CI has it) and is off, with `test_response_schemas.py` skipped to say so, where
the folder is absent.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from codat_sync_for_expenses import CodatSyncExpenses
from codat_sync_for_expenses.models import shared
from codat_sync_for_expenses.utils import RetryConfig

from .helpers import AUTH_HEADER, SHARED_SPEC_PATH, LinkedCompany, link_company
from .response_schemas import ResponseContract, Violation

# --- markers and coverage bookkeeping -------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "operations(*operation_ids): spec operations the test sends through the SDK (checked)",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"contract_rep_{report.when}", report)
    return report


def declared_operations(item) -> set[str]:
    ops: set[str] = set()
    for mark in item.iter_markers("operations"):
        ops.update(mark.args)
    return ops


class CallLog:
    """operationIds (and HTTP status) of every request the SDK clients of one test sent."""

    def __init__(self):
        self.calls: list[tuple[str, int | None]] = []

    def operation_ids(self) -> set[str]:
        return {op for op, _ in self.calls}


@pytest.fixture
def call_log() -> CallLog:
    return CallLog()


@pytest.fixture(autouse=True)
def _declared_operations_were_sent(request, call_log):
    yield
    declared = declared_operations(request.node)
    report = getattr(request.node, "contract_rep_call", None)
    if not declared or report is None or not report.passed:
        return
    missing = declared - call_log.operation_ids()
    if missing:
        pytest.fail(
            f"{request.node.nodeid} declares operations it never sent: {sorted(missing)}",
            pytrace=False,
        )


# --- response schemas -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def response_contract() -> ResponseContract | None:
    if not SHARED_SPEC_PATH.exists():
        return None
    return ResponseContract.from_file(SHARED_SPEC_PATH)


class ResponseLog:
    """Spec violations in the responses the SDK clients of one test received."""

    def __init__(self):
        self.checked = 0
        self.violations: list[Violation] = []


@pytest.fixture
def response_log() -> ResponseLog:
    return ResponseLog()


@pytest.fixture(autouse=True)
def _responses_match_the_spec(request, response_log):
    yield
    report = getattr(request.node, "contract_rep_call", None)
    if response_log.violations and report is not None and report.passed:
        listing = "\n".join(f"  {v}" for v in response_log.violations)
        pytest.fail(
            f"{request.node.nodeid} received responses that break Codat's spec:\n{listing}",
            pytrace=False,
        )


# --- SDK clients ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _sandbox_settings(settings):
    """Overrides tests/sandbox/conftest.py's fixture of the same name: the contract suite keeps a
    real sync delay (0.3 s rather than the shipped 1 s, to keep the suite near a minute), so syncs
    and push operations really are in progress for a while and the polling helpers wait for them.

    The background progression thread stays off: it starts once per process and never stops, so
    turning it on here would leak into every later test of the session, and with the in-memory
    SQLite test database its second connection fails with "database table is locked". Syncs still
    progress, lazily, whenever their status is read (documented sandbox behaviour), which is what
    `wait_for_sync` / `wait_for_push` do."""
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0.3
    # Webhooks must not reach whatever dev server listens on :8000.
    settings.CODAT_SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/contract-suite-webhooks/"
    settings.CODAT_SANDBOX_DAILY_QUOTA = 1_000_000


@pytest.fixture
def server_url(live_server) -> str:
    return live_server.url + "/codat-sandbox"


@pytest.fixture
def make_sdk(server_url, call_log, response_contract, response_log):
    clients: list[httpx.Client] = []
    prefix = httpx.URL(server_url).path

    def check_response(response: httpx.Response) -> None:
        if response_contract is None:
            return
        response.read()
        response_log.checked += 1
        response_log.violations += response_contract.check(
            response.request.method,
            response.url.path.removeprefix(prefix),
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
        )

    def make(auth_header: str = AUTH_HEADER) -> CodatSyncExpenses:
        client = httpx.Client(timeout=10, event_hooks={"response": [check_response]})
        clients.append(client)
        sdk = CodatSyncExpenses(
            security=shared.Security(auth_header=auth_header),
            server_url=server_url,
            client=client,
            retry_config=RetryConfig("none", None, False),
        )
        api_client = sdk._api_client
        original = api_client.call_api

        def recording_call_api(*args, operation_id=None, **kwargs):
            try:
                response = original(*args, operation_id=operation_id, **kwargs)
            except Exception:
                call_log.calls.append((operation_id, None))
                raise
            call_log.calls.append((operation_id, getattr(response, "status", None)))
            return response

        api_client.call_api = recording_call_api
        return sdk

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def sdk(make_sdk) -> CodatSyncExpenses:
    return make_sdk()


@pytest.fixture
def linked_company(request, sdk) -> LinkedCompany:
    """A company linked to an accounting platform (QBO unless parametrised indirectly with a
    platform key), with its partner-expense connection and company configuration set."""
    platform_key = getattr(request, "param", "qhyg")
    return link_company(sdk, platform_key)


@pytest.fixture
def company(sdk):
    """A bare company with no connections."""
    return sdk.companies.create(request={"name": f"Contract bare {uuid.uuid4().hex[:6]}"})
