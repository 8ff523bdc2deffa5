"""Connecting the demo companies to the embedded sandbox without a person, for `make run`.

For each demo company not yet linked this does what a customer does in the browser, through
the same services: connect the accounting software (a different platform per company, so the
demo shows two ledgers' rules), approve the sandbox's Link page, record the outcome. Then it
waits for the first ledger read to be imported and chooses sensible mappings (expense account
and tax rate per category, a bank account per card, the company's defaults), so that spend
passes pre-flight. Running it again changes nothing: a linked company is not linked again and
a mapping that already resolves is left as it is, whoever chose it.

Development only: it refuses unless the portal talks to the embedded sandbox.
"""

from __future__ import annotations

import html.parser
import time
from urllib.parse import parse_qs, urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from integrations.codat.factory import codat_client
from integrations.companies import services as connect
from integrations.companies.models import AuditEvent, Company, Connection
from integrations.ledger import resolve
from integrations.ledger import services as ledger
from integrations.ledger.models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    LedgerRead,
    Supplier,
    TaxRate,
)

from .simulator import talks_to_sandbox

# The platform each demo company keeps its books in (keys from codat_sandbox/platforms.py):
# a UK company on Xero and a US one on QuickBooks Online, each in its platform's usual base
# currency.
DEMO_PLATFORMS = {"Acme Coffee Ltd": "gbol", "Globex Outdoor Inc": "qhyg"}

# The simulator makes payments and refunds, so a category's account and tax rate must take both.
SPEND_TYPES = ("Payment", "Refund")
SPEND_KEYS = tuple(f"expense-transactions.{t}" for t in SPEND_TYPES)

# Words looked for in account names, best first, per demo category code.
ACCOUNT_WORDS = {
    "TRAVEL": ("travel",),
    "MEALS": ("meals", "entertainment"),
    "SOFTWARE": ("software", "subscriptions", "computer"),
    "SUPPLIES": ("cost of goods", "cost of sales", "supplies", "materials"),
    "FUEL": ("fuel", "automobile", "travel"),
    "GEAR": ("equipment", "supplies", "office"),
}
FALLBACK_ACCOUNT_WORDS = ("general", "office")
# Passenger transport is zero-rated for VAT in the UK and airfare carries no US sales tax;
# everything else takes the ledger's standard (highest) rate.
ZERO_TAX_CATEGORIES = frozenset({"TRAVEL"})

# The simulator adds spend every minute; syncing each minute lets a person watching the
# sandbox's ledger viewer see it land within a minute or two (15 minutes is the default).
DEMO_AUTO_SYNC_MINUTES = 1

READ_POLL_SECONDS = 0.5
AUDIT_ACTION = "mapping.change"


class DemoConnectError(Exception):
    """A demo company could not be connected or mapped; the message says where it stopped."""


def connect_demo_companies(*, timeout: float = 120) -> dict[str, list[str]]:
    """Connect and map every demo company that exists; returns, per company, what was done.

    Raises DemoConnectError naming every company that failed (after trying them all).
    """
    if not talks_to_sandbox():
        raise DemoConnectError("The demo companies are only connected to the embedded sandbox.")
    done, failed = {}, []
    for name, platform_key in DEMO_PLATFORMS.items():
        company = Company.objects.filter(name=name).first()
        if company is None:
            continue
        try:
            done[name] = connect_demo_company(company, platform_key, timeout=timeout)
        except Exception as exc:  # one company's failure must not keep the other unconnected
            failed.append(f"{name}: {exc}")
    if failed:
        raise DemoConnectError("; ".join(failed))
    return done


def connect_demo_company(company: Company, platform_key: str, *, timeout: float) -> list[str]:
    """Link `company` (unless linked), wait for its ledger, map it; returns what changed."""
    done = []
    current = company.accounting_connection()
    if current is None or current.status != Connection.Status.LINKED:
        connection = connect.connect_accounting(company, platform_key)
        answer = approve_sandbox_link(connection.link_url)
        connection = connect.record_link_outcome(
            company,
            # Link's answer only picks the audit wording: the state is read back from Codat.
            status_code=int(answer.get("statusCode") or 200),
            connection_id=connection.codat_connection_id,
            error_message=answer.get("errorMessage", ""),
        )
        if connection is None or connection.status != Connection.Status.LINKED:
            raise DemoConnectError("the sandbox's Link page did not link the connection")
        done.append(f"linked {connection.platform_name or platform_key}")
    connect.connect_partner_expense(company)
    wait_for_ledger(company, timeout=timeout)
    done.extend(map_demo_company(company))
    if schedule_demo_sync(company):
        done.append(f"automatic sync every {DEMO_AUTO_SYNC_MINUTES} minute(s)")
    return done


def schedule_demo_sync(company: Company) -> bool:
    """Turn on the demo company's automatic sync at the demo's pace, due at once; False when
    it already runs so (a re-run leaves its schedule alone)."""
    return bool(
        Company.objects.filter(pk=company.pk)
        .exclude(auto_sync_enabled=True, auto_sync_interval_minutes=DEMO_AUTO_SYNC_MINUTES)
        .update(
            auto_sync_enabled=True,
            auto_sync_interval_minutes=DEMO_AUTO_SYNC_MINUTES,
            auto_sync_due_at=None,
        )
    )


# --- Link, as the customer's browser ------------------------------------------------------------


class _LinkForm(html.parser.HTMLParser):
    """The hidden inputs and buttons of the Link page's POST form."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.hidden: dict[str, str] = {}
        self.buttons: set[tuple[str, str]] = set()

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self.in_form = True
        elif self.in_form and tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs.get("name", "")] = attrs.get("value", "")
        elif self.in_form and tag == "button":
            self.buttons.add((attrs.get("name", ""), attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def approve_sandbox_link(link_url: str) -> dict[str, str]:
    """Open the sandbox's Link page and press Approve; returns the redirect's query parameters.

    This plays the customer's browser, so it is plain HTTP rather than the Codat client (the
    Link page is a web page, not Codat's API), and it only ever opens the sandbox's own pages.
    """
    if not link_url.startswith(settings.CODAT_SANDBOX_URL.rstrip("/") + "/"):
        raise DemoConnectError(f"not a sandbox Link page: {link_url}")
    # A client of its own keeps the CSRF cookie from the GET for the POST, as a browser does.
    with httpx.Client(timeout=settings.CODAT_TIMEOUT_SECONDS, follow_redirects=False) as browser:
        page = browser.get(link_url)
        page.raise_for_status()
        form = _LinkForm()
        form.feed(page.text)
        if ("decision", "approve") not in form.buttons:
            raise DemoConnectError("the Link page offers no Approve button")
        answer = browser.post(str(page.url), data={**form.hidden, "decision": "approve"})
    if not answer.is_redirect:
        raise DemoConnectError(f"the Link page answered {answer.status_code} to Approve")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


# --- The first ledger read ----------------------------------------------------------------------


def wait_for_ledger(company: Company, *, timeout: float) -> LedgerRead | None:
    """Drive the company's open ledger read to Done, doing each step here rather than waiting
    for the worker (whichever takes a step first, the other finds it taken). Returns None when
    a read was already imported, so there is nothing to wait for."""
    reads = LedgerRead.objects.filter(company=company)
    if reads.filter(status=LedgerRead.Status.DONE).exists():
        return None
    read = reads.filter(status__in=LedgerRead.OPEN_STATUSES).first() or ledger.request_refresh(
        company
    )
    steps = {
        LedgerRead.Status.REQUESTED: ledger.start_read,
        LedgerRead.Status.READING: ledger.check_read,
        LedgerRead.Status.IMPORTING: ledger.import_read,
    }
    deadline = time.monotonic() + timeout
    while True:
        read.refresh_from_db()
        if read.status == LedgerRead.Status.DONE:
            return read
        if read.status == LedgerRead.Status.FAILED:
            raise DemoConnectError(f"the ledger read failed: {read.error}")
        moved = steps[read.status](read.pk)
        if not moved:
            if time.monotonic() > deadline:
                raise DemoConnectError(f"the ledger was not read within {timeout:g} s")
            time.sleep(READ_POLL_SECONDS)


# --- Mappings -----------------------------------------------------------------------------------


def map_demo_company(company: Company) -> list[str]:
    """Map every category, card and default of `company` that does not resolve yet; returns
    what was set, in words. Mappings that already resolve are not touched.

    Each mapping is saved with its audit event on its own, with no transaction around the
    whole: setting the defaults calls Codat, and no database transaction is held open over
    an HTTP call. A run stopped half-way is finished by the next one.
    """
    info = CompanyInfo.objects.filter(company=company).first()
    base = info.base_currency if info is not None else ""
    done = []
    configuration = CompanyConfiguration.objects.filter(company=company).first()
    if resolve.configuration_problem(configuration) is not None:
        _set_configuration(company, configuration, base)
        done.append("set the default bank account, supplier and customer")
    categories = ExpenseCategory.objects.filter(company=company, is_active=True).order_by("pk")
    for category in categories:
        mapping = CategoryMapping.objects.filter(category=category).first()
        if not _category_problems(mapping):
            continue
        account = pick_account(company, category.code)
        if account is None:
            raise DemoConnectError(f"no expense account in the ledger suits {category}")
        tax_rate = pick_tax_rate(company, category.code)
        _save_mapping(
            company,
            mapping or CategoryMapping(category=category),
            account=account,
            tax_rate=tax_rate,
        )
        done.append(f"mapped {category} to {account}")
    for card in Card.objects.filter(company=company, is_active=True).order_by("pk"):
        mapping = CardMapping.objects.filter(card=card).first()
        if mapping is not None and not resolve.bank_account_problem(mapping.bank_account):
            continue
        bank = pick_bank_account(company, card.currency, base)
        if bank is None:
            raise DemoConnectError(f"no bank account in {card.currency} for {card}")
        _save_mapping(company, mapping or CardMapping(card=card), bank_account=bank)
        done.append(f"mapped {card} to {bank}")
    return done


def _category_problems(mapping: CategoryMapping | None) -> list[resolve.Problem]:
    problems = [
        resolve.category_problem(mapping, key, spend_type)
        for key, spend_type in zip(SPEND_KEYS, SPEND_TYPES, strict=True)
    ]
    return [p for p in problems if p is not None]


def _save_mapping(company: Company, mapping, **values) -> None:
    """Save a mapping the way the mapping pages do: the change and its author on the row, and
    an audit event; the author is nobody (the system), as no person chose it."""
    fields = list(values)
    before = AuditEvent.snapshot(mapping, fields) if mapping.pk else {}
    for name, value in values.items():
        setattr(mapping, name, value)
    mapping.updated_by = None
    mapping.full_clean()
    with transaction.atomic():
        mapping.save()
        AuditEvent.record(
            None,
            AUDIT_ACTION,
            obj=mapping,
            company=company,
            label=f"{mapping} (demo set-up)",
            before=before,
            after=AuditEvent.snapshot(mapping, fields),
        )


def _set_configuration(
    company: Company, configuration: CompanyConfiguration | None, base: str
) -> CompanyConfiguration:
    bank = pick_bank_account(company, base, base)
    supplier = _pick_contact(Supplier.objects.filter(company=company), base)
    customer = _pick_contact(Customer.objects.filter(company=company), base)
    if not (bank and supplier and customer):
        raise DemoConnectError("the ledger has no usable bank account, supplier and customer")
    # Codat applies these defaults when it writes the spend, so Codat is told first; our copy
    # follows only once Codat has accepted them.
    with codat_client() as client:
        client.set_company_configuration(
            str(company.codat_company_id),
            {
                "bankAccount": {"id": bank.codat_id},
                "supplier": {"id": supplier.codat_id},
                "customer": {"id": customer.codat_id},
            },
        )
    configuration = configuration or CompanyConfiguration(company=company)
    _save_mapping(
        company,
        configuration,
        default_bank_account=bank,
        default_supplier=supplier,
        default_customer=customer,
    )
    return configuration


def pick_account(company: Company, category_code: str) -> LedgerAccount | None:
    """A usable expense account that takes payments and refunds, chosen by name for the
    category (e.g. "Travel - National" for TRAVEL), else a general one, else the first."""
    accounts = LedgerAccount.objects.filter(
        company=company, is_bank_account=False, account_type=LedgerAccount.Type.EXPENSE
    ).order_by("nominal_code", "name", "pk")
    usable = [a for a in accounts if a.is_usable and all(a.is_valid_for(k) for k in SPEND_KEYS)]
    for word in (*ACCOUNT_WORDS.get(category_code, ()), *FALLBACK_ACCOUNT_WORDS):
        for account in usable:
            if word in account.name.lower():
                return account
    return usable[0] if usable else None


def pick_tax_rate(company: Company, category_code: str) -> TaxRate | None:
    """The ledger's standard (highest) rate, or a zero rate for zero-rated categories, among
    the rates that take payments and refunds."""
    rates = [
        rate
        for rate in TaxRate.objects.filter(company=company).order_by("name", "pk")
        if rate.is_usable
        and (
            not rate.valid_transaction_types
            or set(SPEND_TYPES) <= set(rate.valid_transaction_types)
        )
    ]
    if not rates:
        return None
    if category_code in ZERO_TAX_CATEGORIES:
        zero = [r for r in rates if r.effective_rate == 0]
        named = [r for r in zero if "zero" in r.name.lower()]
        return (named or zero or rates)[0]
    return max(rates, key=lambda r: r.effective_rate)


def pick_bank_account(company: Company, currency: str, base: str) -> BankAccount | None:
    """A usable bank account in `currency` (one that names none is in the base currency),
    preferring a credit card account, since the demo's cards are credit cards."""
    banks = [
        bank
        for bank in BankAccount.objects.filter(company=company).order_by("name", "pk")
        if bank.is_usable and (bank.currency or base) == currency
    ]
    credit = [b for b in banks if b.account_type == BankAccount.Type.CREDIT]
    return (credit or banks or [None])[0]


def _pick_contact(contacts: QuerySet, base: str):
    """A usable contact in the base currency, preferring one that deals in any currency: the
    simulator's spend abroad is booked against the default supplier, and a single-currency
    supplier would park every such expense in pre-flight."""
    usable = [
        contact
        for contact in contacts.order_by("name", "pk")
        if contact.is_usable and contact.currency in ("", base)
    ]
    usable.sort(key=lambda contact: contact.currency != "")
    return usable[0] if usable else None
