"""Helpers for driving the portal's Codat client against the embedded sandbox over real HTTP.

Everything here goes through `CodatClient` or a plain HTTP browser; the only direct database
access is to the sandbox's fault-settings table (the sandbox's documented test switch). Ledger
ids are always read from API answers, never hard-coded, so a change to the sandbox's seed data
cannot make these tests pass or fail for the wrong reason.
"""

from __future__ import annotations

import html.parser
import struct
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from codat_sandbox import engine
from integrations.codat.client import CodatClient

API_KEY = "sandbox-dev-key"
PLATFORM_KEY = "qhyg"  # QuickBooks Online: supports expenses and attachments in the sandbox
IN_PROGRESS_SYNC_CODES = {1000, 1010}
WAIT_SECONDS = 10.0

# Live-server tests need a transactional database, so every test ends with a flush. These tests
# only make the sandbox write (the portal side is just the HTTP client), so flushing the
# sandbox's tables and the contrib apps the request cycle touches is enough, and much faster.
INTEGRATION_DB = pytest.mark.django_db(
    transaction=True,
    available_apps=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "django.contrib.humanize",
        "django_htmx",
        "codat_sandbox",
    ],
)


# --- Link page ------------------------------------------------------------------------------------


class _LinkFormParser(html.parser.HTMLParser):
    """Collects the hidden inputs and submit buttons of the Link page's POST form."""

    def __init__(self) -> None:
        super().__init__()
        self.in_post_form = False
        self.hidden: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self.in_post_form = True
        elif self.in_post_form and tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs.get("name", "")] = attrs.get("value", "")
        elif self.in_post_form and tag == "button":
            self.buttons.append((attrs.get("name", ""), attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post_form = False


def approve_link(link_url: str) -> httpx.Response:
    """Open linkUrl like a browser and press Approve; return the (unfollowed) answer.

    A fresh httpx client plays the SMB's browser: it keeps the CSRF cookie from the GET and
    sends it back with the form's token, exactly what Django's CSRF check wants.
    """
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(link_url)
        assert page.status_code == 200, f"Link page answered {page.status_code}"
        parser = _LinkFormParser()
        parser.feed(page.text)
        token = parser.hidden.get("csrfmiddlewaretoken")
        assert token, "the Link form carries no CSRF token"
        assert "csrftoken" in browser.cookies, "the Link page set no CSRF cookie"
        assert ("decision", "approve") in parser.buttons, parser.buttons
        # The form has no action attribute, so it posts back to the page's own URL.
        return browser.post(
            str(page.url), data={"csrfmiddlewaretoken": token, "decision": "approve"}
        )


def redirect_query(response: httpx.Response) -> dict[str, str]:
    """The query parameters of a redirect's Location, one value each."""
    location = response.headers["Location"]
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


# --- A linked, configured company ---------------------------------------------------------------


@dataclass
class LinkedCompany:
    company_id: str
    connection_id: str
    partner_connection_id: str
    redirect: dict[str, str]
    currency: str
    expense_account_id: str
    bank_account_id: str
    supplier_id: str
    customer_id: str


def pick_expense_account(mapping: dict, currency: str) -> str:
    candidates = [
        account
        for account in mapping.get("accounts") or []
        if not account["isBankAccount"]
        and "expense-transactions.Payment" in (account.get("validFor") or [])
        and account.get("currency") in ("", None, currency)
    ]
    assert candidates, "mapping options offer no account valid for expense Payments"
    # Prefer a real expense account over, say, cost of sales, as a portal user would.
    expense_typed = [a for a in candidates if a.get("accountType") == "Expense"]
    return (expense_typed or candidates)[0]["id"]


def pick_bank_account(mapping: dict, currency: str) -> str:
    banks = [
        account
        for account in mapping.get("accounts") or []
        if account["isBankAccount"] and account.get("currency") in ("", None, currency)
    ]
    assert banks, f"mapping options offer no bank account in {currency}"
    # Expense cards are credit cards (liabilities); fall back to any bank account.
    cards = [a for a in banks if a.get("accountType") == "Liability"]
    return (cards or banks)[0]["id"]


def pick_contact(contacts: list[dict], currency: str) -> str:
    usable = [
        c
        for c in contacts
        if c.get("status") == "Active" and c.get("defaultCurrency") in (None, "", currency)
    ]
    assert usable, f"no active contact usable in {currency} among {len(contacts)}"
    return usable[0]["id"]


def link_company(codat: CodatClient, name: str | None = None) -> LinkedCompany:
    """Create a company, link it through the Link page over HTTP, add the partner-expense
    connection and set the configuration from ids read out of the sandbox's answers."""
    company = codat.create_company({"name": name or f"Integration {uuid.uuid4().hex[:8]}"})
    company_id = company["id"]
    connection = codat.create_connection(company_id, PLATFORM_KEY)
    assert connection["status"] == "PendingAuth"
    assert connection["linkUrl"].startswith("http"), connection["linkUrl"]

    approved = approve_link(connection["linkUrl"])
    assert approved.status_code == 302, approved.text[:500]
    redirect = redirect_query(approved)
    assert redirect.get("companyId") == company_id
    assert redirect.get("connectionId") == connection["id"]
    assert redirect.get("statusCode") == "200"

    linked = codat.get_connection(company_id, connection["id"])
    assert linked["status"] == "Linked"
    partner = codat.create_partner_expense_connection(company_id)
    assert partner["status"] == "Linked"
    assert partner["id"] != connection["id"]

    info = codat.get_company_info(company_id)
    currency = info.get("baseCurrency")
    assert currency, f"company info has no baseCurrency: {info}"
    mapping = codat.get_mapping_options(company_id)
    # A small page size makes paginate walk several pages, as it would over a large ledger.
    suppliers = list(codat.paginate(codat.list_suppliers, company_id, page_size=2))
    assert suppliers, "the linked ledger has no suppliers"
    assert len({s["id"] for s in suppliers}) == len(suppliers), "paginate repeated a supplier"
    assert len(suppliers) == codat.list_suppliers(company_id, page_size=500)["totalResults"]
    customers = list(codat.paginate(codat.list_customers, company_id))

    configuration = {
        "bankAccount": {"id": pick_bank_account(mapping, currency)},
        "supplier": {"id": pick_contact(suppliers, currency)},
        "customer": {"id": pick_contact(customers, currency)},
    }
    assert codat.set_company_configuration(company_id, configuration) == configuration
    assert codat.get_company_configuration(company_id) == configuration

    return LinkedCompany(
        company_id=company_id,
        connection_id=connection["id"],
        partner_connection_id=partner["id"],
        redirect=redirect,
        currency=currency,
        expense_account_id=pick_expense_account(mapping, currency),
        bank_account_id=configuration["bankAccount"]["id"],
        supplier_id=configuration["supplier"]["id"],
        customer_id=configuration["customer"]["id"],
    )


# --- Transactions and syncs ---------------------------------------------------------------------


def expense(lc: LinkedCompany, account_id: str | None = None, net: str = "12.34") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "Payment",
        "issueDate": datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z"),
        "currency": lc.currency,
        "merchantName": "Integration Coffee Ltd",
        "notes": "integration suite",
        "lines": [
            {
                "netAmount": Decimal(net),
                "taxAmount": Decimal("0.00"),
                "accountRef": {"id": account_id or lc.expense_account_id},
            }
        ],
    }


def wait_for_sync(codat: CodatClient, company_id: str, sync_id: str) -> dict:
    """Poll get_sync until the sync leaves its in-progress codes (1000/1010)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = codat.get_sync(company_id, sync_id)
        if status["syncStatusCode"] not in IN_PROGRESS_SYNC_CODES:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"sync {sync_id} still in progress after {WAIT_SECONDS}s: {status}")
        time.sleep(0.05)


def wait_for_push(codat: CodatClient, company_id: str, key: str) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        operation = codat.get_push_operation(company_id, key)
        if operation["status"] != "Pending":
            return operation
        if time.monotonic() > deadline:
            pytest.fail(f"push operation {key} still Pending after {WAIT_SECONDS}s")
        time.sleep(0.05)


def advance_until[T](check: Callable[[], T | None], what: str) -> T:
    """Run the sandbox's progression until `check` returns something truthy.

    Calling engine.advance() is what delivers webhooks; looping (rather than calling it once)
    keeps the test correct when the sandbox's own background thread, started by an earlier
    test in the same process, happens to deliver first.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        engine.advance()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")
        time.sleep(0.05)


# --- A receipt ----------------------------------------------------------------------------------


def tiny_png() -> bytes:
    """A valid 1x1 white PNG, built here so the test needs no binary fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # filter byte + one white pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
