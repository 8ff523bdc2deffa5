"""Helpers of the SDK contract suite: spec parsing, the Link page, picking ledger ids from mapping
options (never hard-coded), transaction bodies in the SDK's request-dict shape, sync polling."""

from __future__ import annotations

import base64
import contextlib
import html.parser
import re
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from codat_sync_for_expenses.models import errors

API_KEY = "sandbox-dev-key"
AUTH_HEADER = "Basic " + base64.b64encode(API_KEY.encode()).decode()
OPERATIONS_PATH = Path(__file__).resolve().parent / "spec_operations.txt"
# Codat's published spec, as kept in the team's shared folder beside the checkout (CI has it).
SHARED_SPEC_PATH = (
    Path(__file__).resolve().parents[3].parent / "shared" / "codat" / "Codat-Sync-Expenses.yaml"
)
SPEC_SHA256 = "4cec2042759e4e5a9f178c464b747ff9cb849e55786229389f8615d8677733f4"
SYNC_WAIT_SECONDS = 10.0
IN_PROGRESS_CODES = {1000, 1010}


# --- spec -----------------------------------------------------------------------------------------


def spec_operations() -> set[tuple[str, str, str]]:
    """(operationId, method, path) of every operation, from the committed list."""
    rows = set()
    for line in OPERATIONS_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            operation_id, method, path = line.split()
            rows.add((operation_id, method, path))
    return rows


def spec_operation_ids() -> set[str]:
    return {operation_id for operation_id, _, _ in spec_operations()}


def operations_in_spec_file(text: str) -> set[tuple[str, str, str]]:
    """(operationId, method, path) read off the spec's `paths:` block. PyYAML is not installed,
    and the file is plain block YAML: paths at 2 spaces of indent, verbs at 4, operationIds at 6."""
    paths_block = re.search(r"^paths:\n(.*?)^\S", text, re.M | re.S)
    assert paths_block, "no paths: section in the spec"
    rows, path, method = set(), None, None
    for line in paths_block.group(1).splitlines():
        if m := re.match(r"""^  ['"]?(/[^'"]+?)['"]?:\s*$""", line):
            path = m.group(1)
        elif m := re.match(r"^    (get|post|put|patch|delete):\s*$", line):
            method = m.group(1).upper()
        elif m := re.match(r"^      operationId: ([\w-]+)\s*$", line):
            rows.add((m.group(1), method, path))
    return rows


@contextlib.contextmanager
def raises_codat_error(status: int, contains: str | None = None):
    """The call must fail with the SDK's typed `errors.ErrorMessage` and this HTTP status."""
    with pytest.raises(errors.ErrorMessage) as excinfo:
        yield excinfo
    err = excinfo.value
    assert err.status_code == status, f"expected {status}, got {err.status_code}: {err.body}"
    assert err.data.status_code in (None, status), err.body
    assert err.data.error, f"ErrorMessage without an error text: {err.body}"
    if contains is not None:
        assert (
            contains.lower()
            in (err.data.error or "").lower() + str(err.data.validation or "").lower()
        ), err.body


def ev(value):
    """Enum value or the value itself (the SDK's enums are str-Enums)."""
    return getattr(value, "value", value)


# --- Link -----------------------------------------------------------------------------------------


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": attrs.get("action", ""),
                "method": attrs.get("method", "get").lower(),
                "fields": [],
                "buttons": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind == "submit":
                self._form["buttons"].append(
                    {"name": attrs.get("name"), "value": attrs.get("value", ""), "text": ""}
                )
            elif kind not in ("checkbox", "radio") or "checked" in attrs:
                self._form["fields"].append((attrs.get("name"), attrs.get("value", "")))
        elif (
            self._form is not None
            and tag == "button"
            and attrs.get("type", "submit").lower() == "submit"
        ):
            self._button = {"name": attrs.get("name"), "value": attrs.get("value", ""), "text": ""}
            self._form["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None
        elif tag == "form":
            self._form = None


def submit_link_form(link_url: str, choice: str = "approve") -> httpx.Response:
    """Open the connection's linkUrl like a browser and press its Approve (or Cancel) button."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(link_url)
        assert page.status_code == 200, f"Link page {link_url} answered {page.status_code}"
        parser = _FormParser()
        parser.feed(page.text)
        for form in parser.forms:
            for button in form["buttons"]:
                label = f"{button['text']} {button['value']} {button['name'] or ''}".lower()
                if choice in label:
                    break
            else:
                continue
            break
        else:
            raise AssertionError(f"no form with a {choice!r} button on the Link page {link_url}")
        assert form["method"] == "post", "the Link page's form should POST"
        data = [(name, value) for name, value in form["fields"] if name]
        if button["name"]:
            data.append((button["name"], button["value"]))
        target = urljoin(str(page.url), form["action"] or str(page.url))
        headers = {"Referer": str(page.url)}
        form_data: dict[str, list[str]] = {}
        for name, value in data:
            form_data.setdefault(name, []).append(value)
        response = browser.post(target, data=form_data, headers=headers)
        assert response.status_code in (200, 302, 303), (
            f"Link form POST answered {response.status_code}: {response.text[:500]}"
        )
        return response


# --- linked company -------------------------------------------------------------------------------


@dataclass
class LinkedCompany:
    platform_key: str
    company_id: str
    connection_id: str
    partner_connection_id: str
    mapping: object
    supplier: object
    customer: object
    bank_account: object
    expense_account: object
    currency: str
    tax_rate: object | None = None
    extra: dict = field(default_factory=dict)

    def accounts_valid_for(self, valid_for: str):
        return [
            a
            for a in (self.mapping.accounts or [])
            if valid_for in [ev(v) for v in (a.valid_for or [])]
        ]


def pick_expense_account(mapping, expense_type: str = "Payment"):
    wanted = f"expense-transactions.{expense_type}"
    accounts = [
        a
        for a in (mapping.accounts or [])
        if not a.is_bank_account and wanted in [ev(v) for v in (a.valid_for or [])]
    ]
    assert accounts, f"mapping options offer no account valid for {wanted}"
    expense_typed = [a for a in accounts if ev(a.account_type) == "Expense"]
    return (expense_typed or accounts)[0]


def pick_bank_account(mapping, currency: str | None, expense_type: str = "Payment"):
    banks = [a for a in (mapping.accounts or []) if a.is_bank_account]
    assert banks, "mapping options offer no bank account"
    if currency:
        same = [a for a in banks if a.currency == currency]
        banks = same or banks
    return banks[0]


def pick_zero_tax_rate(mapping, expense_type: str = "Payment"):
    rates = [
        r
        for r in (mapping.tax_rates or [])
        if not r.valid_transaction_types
        or expense_type in [ev(t) for t in r.valid_transaction_types]
    ]
    zero = [r for r in rates if (r.effective_tax_rate or Decimal(0)) == 0]
    return (zero or rates or [None])[0]


def link_company(sdk, platform_key: str, name: str | None = None) -> LinkedCompany:
    company = sdk.companies.create(
        request={"name": name or f"Contract {platform_key} {uuid.uuid4().hex[:6]}"}
    )
    connection = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": platform_key}}
    )
    assert connection.status == "PendingAuth"
    submit_link_form(connection.link_url, "approve")
    linked = sdk.connections.get(request={"company_id": company.id, "connection_id": connection.id})
    assert linked.status == "Linked", (
        f"Approve on the Link page left the connection {linked.status}"
    )
    partner = sdk.connections.create_partner_expense_connection(request={"company_id": company.id})
    assert partner.status == "Linked"

    mapping = sdk.mapping_options.get_mapping_options(request={"company_id": company.id})
    expense_account = pick_expense_account(mapping)
    bank_account = pick_bank_account(mapping, expense_account.currency)
    currency = bank_account.currency or expense_account.currency
    assert currency, "neither the bank account nor the expense account carries a currency"

    suppliers = sdk.suppliers.list(request={"company_id": company.id, "page_size": 100})
    assert suppliers.results, "the linked ledger has no suppliers"
    supplier = next(
        (
            s
            for s in suppliers.results
            if s.default_currency in (None, currency) and s.status == "Active"
        ),
        suppliers.results[0],
    )
    customers = sdk.customers.list(request={"company_id": company.id, "page_size": 100})
    assert customers.results, "the linked ledger has no customers"
    customer = next(
        (
            c
            for c in customers.results
            if c.default_currency in (None, currency) and c.status == "Active"
        ),
        customers.results[0],
    )
    sdk.configuration.set(
        request={
            "company_id": company.id,
            "company_configuration": {
                "bank_account": {"id": bank_account.id},
                "supplier": {"id": supplier.id},
                "customer": {"id": customer.id},
            },
        }
    )
    return LinkedCompany(
        platform_key=platform_key,
        company_id=company.id,
        connection_id=connection.id,
        partner_connection_id=partner.id,
        mapping=mapping,
        supplier=supplier,
        customer=customer,
        bank_account=bank_account,
        expense_account=expense_account,
        currency=currency,
        tax_rate=pick_zero_tax_rate(mapping),
    )


# --- transactions ---------------------------------------------------------------------------------


def today_iso() -> str:
    return time.strftime("%Y-%m-%dT00:00:00", time.gmtime())


def expense_line(lc: LinkedCompany, net: str = "42.50", expense_type: str = "Payment") -> dict:
    account = (
        lc.expense_account
        if expense_type == "Payment"
        else pick_expense_account(lc.mapping, expense_type)
    )
    line = {"net_amount": Decimal(net), "account_ref": {"id": account.id}}
    if lc.tax_rate is not None:
        rate = lc.tax_rate.effective_tax_rate or Decimal(0)
        line["tax_amount"] = (Decimal(net) * rate / 100).quantize(Decimal("0.01"))
        line["tax_rate_ref"] = {"id": lc.tax_rate.id}
    return line


def expense_body(lc: LinkedCompany, transaction_id: str | None = None, **overrides) -> dict:
    body = {
        "id": transaction_id or str(uuid.uuid4()),
        "type": "Payment",
        "issue_date": today_iso(),
        "currency": lc.currency,
        "merchant_name": "Contract Coffee Ltd",
        "notes": "contract suite",
        "lines": [expense_line(lc)],
    }
    body.update(overrides)
    return body


def update_expense_body(lc: LinkedCompany, net: str = "50.00") -> dict:
    return {
        "type": "Payment",
        "issue_date": today_iso(),
        "currency": lc.currency,
        "merchant_name": "Contract Coffee Ltd",
        "notes": "updated by the contract suite",
        "lines": [expense_line(lc, net)],
    }


def reimbursable_body(
    lc: LinkedCompany, transaction_id: str | None = None, with_id: bool = True
) -> dict:
    accounts = [
        a
        for a in lc.accounts_valid_for("reimbursable-expense-transactions")
        if not a.is_bank_account
    ]
    assert accounts, "mapping options offer no account valid for reimbursable-expense-transactions"
    body = {
        "contact_ref": {"id": lc.supplier.id},
        "issue_date": today_iso(),
        "due_date": today_iso(),
        "currency": lc.supplier.default_currency or lc.currency,
        "notes": "contract suite claim",
        "lines": [
            {
                "description": "Train ticket",
                "net_amount": Decimal("18.40"),
                "account_ref": {"id": accounts[0].id},
            }
        ],
    }
    if with_id:
        body["id"] = transaction_id or str(uuid.uuid4())
    return body


def transfer_accounts(lc: LinkedCompany):
    accounts = lc.accounts_valid_for("transfer-transactions")
    by_currency: dict[str, list] = {}
    for account in accounts:
        by_currency.setdefault(account.currency, []).append(account)
    pair = by_currency.get(lc.currency) or next(
        (v for v in by_currency.values() if len(v) >= 2), []
    )
    assert len(pair) >= 2, "mapping options offer no two same-currency accounts valid for transfers"
    return pair[0], pair[1]


def transfer_body(lc: LinkedCompany, amount: str = "100.00") -> dict:
    source, target = transfer_accounts(lc)
    return {
        "description": "Card top-up (contract suite)",
        "date_": today_iso(),
        "from_": {"account_ref": {"id": source.id}, "amount": Decimal(amount)},
        "to": {"account_ref": {"id": target.id}, "amount": Decimal(amount)},
    }


def adjustment_body(lc: LinkedCompany) -> dict:
    accounts = lc.accounts_valid_for("adjustment-transactions")
    assert len(accounts) >= 2, "mapping options offer fewer than two accounts valid for adjustments"
    same = [a for a in accounts if a.currency in (None, lc.currency)] or accounts
    debit, credit = same[0], same[1]
    return {
        "id": str(uuid.uuid4()),
        "date_": today_iso(),
        "currency": lc.currency,
        "reference": "ADJ-contract",
        "lines": [
            {
                "amount": Decimal("12.34"),
                "account_ref": {"id": debit.id},
                "description": "write-off",
            },
            {
                "amount": Decimal("-12.34"),
                "account_ref": {"id": credit.id},
                "description": "write-off",
            },
        ],
    }


def wait_for_sync(sdk, company_id: str, sync_id: str, timeout: float = SYNC_WAIT_SECONDS):
    """Poll get-sync-by-id until the sync leaves 1000/1010; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        status = sdk.sync.get(request={"company_id": company_id, "sync_id": sync_id})
        if status.sync_status_code not in IN_PROGRESS_CODES:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"sync {sync_id} still in progress after {timeout}s: {status}")
        time.sleep(0.1)


def assert_sync_succeeded(status):
    assert status.sync_status_code == 2000, (
        f"sync {status.sync_id} ended {status.sync_status_code} {status.sync_status}: "
        f"{status.error_message!r} {status.sync_exception_message!r}"
    )
    assert status.data_pushed is True


def push_expense(sdk, lc: LinkedCompany, transaction_id: str | None = None):
    """Create one expense and wait for its sync; return (transaction_id, sync_id)."""
    body = expense_body(lc, transaction_id)
    created = sdk.expenses.create(request={"company_id": lc.company_id, "request_body": [body]})
    final = wait_for_sync(sdk, lc.company_id, created.sync_id)
    assert_sync_succeeded(final)
    return body["id"], created.sync_id


def wait_for_push(
    sdk, company_id: str, push_operation_key: str, timeout: float = SYNC_WAIT_SECONDS
):
    """Poll get-push-operation until it leaves Pending; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        operation = sdk.push_operations.get(
            request={"company_id": company_id, "push_operation_key": push_operation_key}
        )
        if operation.status != "Pending":
            return operation
        if time.monotonic() > deadline:
            raise AssertionError(
                f"push operation {push_operation_key} still Pending after {timeout}s"
            )
        time.sleep(0.1)


def pending_connection(sdk, platform_key: str = "qhyg"):
    """A company whose accounting connection was created but never authorised in Link."""
    company = sdk.companies.create(request={"name": f"Contract pending {uuid.uuid4().hex[:6]}"})
    connection = sdk.connections.create(
        request={"company_id": company.id, "request_body": {"platform_key": platform_key}}
    )
    assert connection.status == "PendingAuth"
    return company, connection


def assert_create_on_pending_connection_is_400(sdk, create, **record):
    """Pushing a new record through a connection never authorised in Link is refused with a 400.
    `create` is the SDK's create method (e.g. `sdk.accounts.create`) and `record` its body
    argument (e.g. `account_prototype={...}`)."""
    company, connection = pending_connection(sdk)
    with raises_codat_error(400):
        create(request={"company_id": company.id, "connection_id": connection.id, **record})


def assert_create_model(options, record: str):
    """The create-model options of a data type describe the fields of the record to push."""
    assert options.type == "Object"
    assert options.display_name
    assert options.properties, f"the options describe the {record}'s fields"


def assert_paging(page, page_number: int | None = None, page_size: int | None = None):
    assert page.page_number >= 0
    assert page.total_results >= len(page.results or [])
    assert page.links.self_.href and page.links.current.href
    if page_number is not None:
        assert page.page_number == page_number
    if page_size is not None:
        assert page.page_size == page_size


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def assert_push_rejected(sdk, company_id: str, push):
    """Codat validates pushes against the platform's rules: either the request itself is refused
    (400 ErrorMessage with validation errors) or the push operation ends Failed with them."""
    try:
        created = push()
    except errors.ErrorMessage as err:
        assert err.status_code == 400, err.body
        assert err.data.validation and err.data.validation.errors, err.body
        return
    done = wait_for_push(sdk, company_id, created.push_operation_key)
    assert done.status == "Failed", f"invalid push ended {done.status}"
    assert done.validation and done.validation.errors, "a failed push names its validation errors"
    assert done.status_code == 400


def push_failure_text(operation) -> str:
    return f"{operation.error_message}: {operation.validation}"


def option_values(push_option, field_name: str) -> list[str]:
    """The allowed values the create-model options list for one field (empty if free-form)."""
    prop = (push_option.properties or {}).get(field_name)
    return [choice.value for choice in ((prop.options if prop else None) or []) if choice.value]


# The live server needs transactional DB access, so every test ends with a flush. Flushing only the
# sandbox's tables (and the contrib apps the request cycle touches) instead of the whole project
# keeps the suite fast; the sandbox never touches the portal's tables (it talks to it over HTTP).
CONTRACT_DB = pytest.mark.django_db(
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
