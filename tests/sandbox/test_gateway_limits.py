"""The gateway's bookkeeping: 413 for oversized bodies, slots freed by a dead process, the
number of queries a read costs, and writers that queue on SQLite instead of failing."""

import os
import signal
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codat_sandbox import engine, locks

from .conftest import AUTH, PREFIX, create_company, expense, link_company

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
KEY = {"Idempotency-Key": "e1d2c3b4-a596-4788-9a0b-1c2d3e4f5a6b"}


@pytest.mark.parametrize("headers", [{}, KEY], ids=["plain", "with Idempotency-Key"])
def test_a_body_over_the_upload_limit_is_413_with_codats_error_body(api, headers):
    response = api.post("/companies", '{"name": "' + "x" * (5 * MB) + '"}', headers=headers)
    assert response.status_code == 413
    body = response.json()
    assert body["statusCode"] == 413 and body["correlationId"] == response["X-Correlation-Id"]
    assert response["X-Rate-Limit-Limit"] and response["X-Rate-Limit-Remaining"]


def test_an_upload_over_5_mb_still_reaches_the_platform_rules(api, client):
    linked = link_company(api, "gbol")  # Xero: attachments up to 10 MB
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    path = f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}"

    def upload(size, **headers):
        content = b"%PDF-1.4 " + b"x" * size
        return client.post(
            f"{path}/attachments",
            {"file": SimpleUploadedFile("r.pdf", content, content_type="application/pdf")},
            HTTP_AUTHORIZATION=AUTH,
            **headers,
        )

    assert upload(7 * MB, HTTP_IDEMPOTENCY_KEY=KEY["Idempotency-Key"]).status_code == 200
    assert upload(11 * MB).status_code == 400  # over Xero's limit: the platform's answer


# Another process serving a request for the company: it holds a slot until it is killed.
HOLD_A_SLOT = """
import signal, sys
from pathlib import Path
from codat_sandbox import locks
assert locks.take_slot(Path(sys.argv[1]), 1) is not None
print("holding", flush=True)
signal.pause()
"""


def test_a_request_killed_mid_flight_does_not_hold_the_company(api, settings):
    settings.CODAT_SANDBOX_CONCURRENCY = 1
    company = create_company(api)
    slots = locks.state_dir() / "companies" / company["id"]
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SLOT, str(slots)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=settings.BASE_DIR,
    )
    try:
        assert child.stdout.readline().strip() == "holding"
        assert api.get(f"/companies/{company['id']}").status_code == 429
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert api.get(f"/companies/{company['id']}").status_code == 200


def _queries(api, path):
    api.get(path)  # warm-up: fault settings and counters loaded
    with CaptureQueriesContext(connection) as captured:
        assert api.get(path).status_code == 200
    return [query["sql"] for query in captured]


def test_get_company_costs_only_its_own_two_queries(api):
    company = create_company(api)
    queries = _queries(api, f"/companies/{company['id']}")
    assert len(queries) == 2, queries  # the company and its connections


def test_mapping_options_costs_three_queries(api):
    linked = link_company(api)
    queries = _queries(api, f"/companies/{linked['company']['id']}/sync/expenses/mappingOptions")
    assert len(queries) == 3, queries  # company, accounting connection, ledger rows
