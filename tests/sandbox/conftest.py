"""Fixtures for the sandbox's behaviour tests (Django test client, no live server).

The background thread is off and the sync delay is zero: tests move time on by calling
`engine.advance()` themselves (or by reading a sync, which advances it lazily).
"""

import base64
import uuid

import pytest

from codat_sandbox import engine

API_KEY = "sandbox-dev-key"
AUTH = "Basic " + base64.b64encode(API_KEY.encode()).decode()
PREFIX = "/codat-sandbox"


@pytest.fixture(autouse=True)
def _sandbox_settings(settings):
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0
    settings.CODAT_SANDBOX_API_KEYS = [API_KEY]
    settings.CODAT_SANDBOX_DAILY_QUOTA = 100_000
    settings.CODAT_SANDBOX_CONCURRENCY = 10
    settings.CODAT_SANDBOX_WEBHOOK_URL = "http://webhooks.test/codat/"
    settings.CODAT_SANDBOX_REDIRECT_URL = (
        "http://portal.test/link/return/?companyId={companyId}&connectionId={connectionId}"
        "&statusCode={statusCode}&errorMessage={errorMessage}&platform={platform}"
    )


class Api:
    """The Django test client speaking to the sandbox as a Codat client would."""

    def __init__(self, client):
        self.client = client

    def _call(self, method, path, body=None, headers=None, **extra):
        kwargs = {"HTTP_AUTHORIZATION": AUTH, **extra}
        for name, value in (headers or {}).items():
            kwargs["HTTP_" + name.upper().replace("-", "_")] = value
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else _json(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(PREFIX + path, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, body=None, **kw):
        return self._call("post", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self._call("put", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self._call("patch", path, body, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


def _json(value):
    from codat_sandbox import jsonutil

    return jsonutil.dumps(value)


@pytest.fixture
def api(client):
    return Api(client)


def create_company(api, name="Acme Ltd"):
    response = api.post("/companies", {"name": name})
    assert response.status_code == 200, response.content
    return response.json()


def link_company(api, platform_key="qhyg", name="Acme Ltd", configure=True):
    """A company linked to `platform_key` through the Link page, with its partner-expense
    connection and (by default) a company configuration picked from the seeded ledger."""
    company = create_company(api, name)
    conn = api.post(f"/companies/{company['id']}/connections", {"platformKey": platform_key})
    assert conn.status_code == 200, conn.content
    conn = conn.json()
    link_path = conn["linkUrl"].split("testserver", 1)[1]
    approved = api.client.post(link_path, {"decision": "approve"})
    assert approved.status_code == 302, approved.content
    partner = api.post(f"/companies/{company['id']}/sync/expenses/connections/partnerExpense")
    assert partner.status_code == 200
    config = None
    if configure:
        from codat_sandbox.models import LedgerRecord

        def first(data_type, **match):
            for row in LedgerRecord.objects.filter(company_id=company["id"], data_type=data_type):
                if row.data.get("status", "Active") == "Active" and all(
                    row.data.get(k) == v for k, v in match.items()
                ):
                    return row.record_id
            raise AssertionError(f"no {data_type} matching {match}")

        from codat_sandbox.platforms import get_platform

        base = get_platform(platform_key).default_base_currency
        config = {
            "bankAccount": {"id": first("bankAccounts", accountType="Credit", currency=base)},
            "supplier": {"id": first("suppliers", defaultCurrency=base)},
            "customer": {"id": first("customers")},
        }
        response = api.post(f"/companies/{company['id']}/sync/expenses/config", config)
        assert response.status_code == 200, response.content
    return {"company": company, "connection": conn, "config": config, "platform": platform_key}


def expense_account(api, company_id, purpose="expense-transactions.Payment"):
    options = api.get(f"/companies/{company_id}/sync/expenses/mappingOptions").json()
    for account in options["accounts"]:
        if purpose in account["validFor"] and not account["isBankAccount"]:
            return account
    raise AssertionError(f"no account valid for {purpose}")


def expense(api, linked, **overrides):
    """One valid expense for the linked company: base currency, today, a valid account."""
    from datetime import date
    from decimal import Decimal

    from codat_sandbox.platforms import get_platform

    company_id = linked["company"]["id"]
    account = expense_account(api, company_id)
    body = {
        "id": new_id(),
        "type": "Payment",
        "issueDate": date.today().isoformat() + "T00:00:00Z",
        "currency": get_platform(linked["platform"]).default_base_currency,
        "merchantName": "Costa Coffee",
        "lines": [
            {
                "netAmount": Decimal("12.50"),
                "taxAmount": Decimal("0"),
                "accountRef": {"id": account["id"]},
            }
        ],
    }
    body.update(overrides)
    return body


def new_id() -> str:
    return str(uuid.uuid4())


def advance():
    return engine.advance()
