"""Stage 1 against the sandbox over real HTTP: connect, Link, read the ledger, keep it fresh.

The portal's services run for real (their Codat client points at the live sandbox); only the
Celery hand-offs are captured, and the test runs each step itself, so every state in between
can be looked at. Webhooks are the sandbox's real signed deliveries, caught by a stand-in
receiver and handed to the handler the way the webhook processor will.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from codat_sandbox import engine
from codat_sandbox.models import LedgerRecord
from integrations.companies import services as connect
from integrations.companies.models import AuditEvent, Company, Connection
from integrations.ledger import resolve
from integrations.ledger import services as ledger
from integrations.ledger.models import (
    BankAccount,
    CategoryMapping,
    CompanyInfo,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    LedgerRead,
    LedgerRefresh,
    Supplier,
    TaxRate,
    TrackingCategory,
)

from .helpers import (
    API_KEY,
    PLATFORM_KEY,
    WAIT_SECONDS,
    approve_link,
    pick_contact,
    redirect_query,
    wait_for_push,
)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CACHED = (LedgerAccount, BankAccount, TaxRate, TrackingCategory, Supplier, Customer)


@pytest.fixture(autouse=True)
def _portal_talks_to_the_sandbox(settings, sandbox_url):
    settings.CODAT_SANDBOX_URL = sandbox_url
    settings.CODAT_BASE_URL = sandbox_url
    settings.CODAT_API_KEY = API_KEY


@pytest.fixture
def enqueued(monkeypatch):
    """Celery hand-offs, captured instead of sent: (task name, args)."""
    calls: list[tuple[str, tuple]] = []

    def capture(task, args=None, kwargs=None, **options):
        calls.append((task.name.rsplit(".", 1)[-1], tuple(args or ())))

    monkeypatch.setattr("celery.app.task.Task.apply_async", capture)
    return calls


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


def read_completed(capture, event_type: str, codat_company_id: str) -> dict:
    """The payload of the sandbox's delivery of `event_type` for the company, once it lands."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        engine.advance()
        for delivery in capture.snapshot():
            envelope = json.loads(delivery.body)
            payload = envelope["payload"]
            if (
                envelope["eventType"] == event_type
                and payload["referenceCompany"]["id"] == codat_company_id
            ):
                return payload
        time.sleep(0.05)
    pytest.fail(f"no {event_type} delivered within {WAIT_SECONDS}s")


def counts(company) -> dict[str, int]:
    return {model.__name__: model.objects.filter(company=company).count() for model in CACHED}


def link(company, alice, enqueued) -> Connection:
    connection = connect.connect_accounting(company, PLATFORM_KEY, actor=alice)
    redirect = redirect_query(approve_link(connection.link_url))
    linked = connect.record_link_outcome(
        company,
        status_code=int(redirect["statusCode"]),
        connection_id=redirect["connectionId"],
        error_message=redirect.get("errorMessage", ""),
        actor=alice,
    )
    assert ("connect_partner_expense", (company.pk,)) in enqueued
    connect.connect_partner_expense(company)
    return linked


def test_connect_link_and_first_read_fill_the_cache(codat, alice, enqueued, webhook_capture):
    company = Company.objects.create(name="Ledger & Sons (UK)")

    connection = connect.connect_accounting(company, PLATFORM_KEY, actor=alice)
    company.refresh_from_db()
    assert company.codat_company_id, "the Codat company is created on first connect"
    assert codat.get_company(str(company.codat_company_id))["name"] == "Ledger & Sons UK"
    assert connection.status == Connection.Status.PENDING_AUTH
    assert connection.link_url.startswith("http")
    # Pressing Connect twice hands back the same Link URL, and makes nothing new at Codat.
    assert connect.connect_accounting(company, PLATFORM_KEY, actor=alice) == connection
    assert codat.list_connections(str(company.codat_company_id))["totalResults"] == 1

    redirect = redirect_query(approve_link(connection.link_url))
    linked = connect.record_link_outcome(
        company,
        status_code=int(redirect["statusCode"]),
        connection_id=redirect["connectionId"],
        actor=alice,
    )
    assert linked.status == Connection.Status.LINKED
    assert [e.action for e in AuditEvent.objects.filter(company=company).order_by("at")] == [
        "connection.create",
        "connection.link",
    ]
    assert AuditEvent.objects.filter(company=company, actor=alice).count() == 2

    partner = connect.connect_partner_expense(company)
    assert partner.source_type == Connection.SourceType.EXPENSE
    assert partner.status == Connection.Status.LINKED
    assert connect.connect_partner_expense(company) == partner

    # Codat reads the ledger by itself after Link; the portal waits for that read.
    read = LedgerRead.objects.get(company=company)
    assert (read.status, read.reason) == (LedgerRead.Status.READING, LedgerRead.Reason.LINK)
    assert ("check_read", (read.pk,)) in enqueued
    payload = read_completed(
        webhook_capture, "read.completed.initial", str(company.codat_company_id)
    )
    ledger.on_read_completed(SimpleNamespace(data=payload, company=None))
    read.refresh_from_db()
    assert read.status == LedgerRead.Status.IMPORTING
    assert ledger.import_read(read.pk)
    read.refresh_from_db()
    assert read.status == LedgerRead.Status.DONE and not read.error

    cached = counts(company)
    assert all(cached.values()), cached
    expense_accounts = LedgerAccount.objects.filter(
        company=company, account_type=LedgerAccount.Type.EXPENSE
    )
    assert any(a.is_valid_for("expense-transactions.Payment") for a in expense_accounts)
    assert BankAccount.objects.filter(company=company, account_type="Credit").exists()
    # The sandbox seeds one deleted (and archived) supplier and customer: never offered.
    cid = str(company.codat_company_id)
    for model, listed in (
        (Supplier, list(codat.paginate(codat.list_suppliers, cid))),
        (Customer, list(codat.paginate(codat.list_customers, cid))),
    ):
        deleted = {r["id"] for r in listed if r["metadata"]["isDeleted"]}
        assert deleted
        cached_ids = set(model.objects.filter(company=company).values_list("codat_id", flat=True))
        assert cached_ids == {r["id"] for r in listed} - deleted
    children = TrackingCategory.objects.filter(company=company, parent__isnull=False)
    assert children.exists(), "the tracking tree was kept"
    info = CompanyInfo.objects.get(company=company)
    expected_info = codat.get_company_info(str(company.codat_company_id))
    assert info.base_currency == expected_info["baseCurrency"]
    assert info.ledger_lock_date.isoformat() == expected_info["ledgerLockDate"][:10]
    assert set(
        LedgerRefresh.objects.filter(company=company).values_list("data_type", flat=True)
    ) == set(LedgerRefresh.DataType.values)


def test_refresh_marks_archived_and_gone_records_and_flags_mappings(
    codat, alice, enqueued, webhook_capture
):
    company = Company.objects.create(name="Archive Ltd")
    connection = link(company, alice, enqueued)
    read = LedgerRead.objects.get(company=company)
    # The polling fallback: no webhook needed to notice Codat has finished.
    assert ledger.check_read(read.pk)
    assert ledger.import_read(read.pk)
    cid = str(company.codat_company_id)

    account = LedgerAccount.objects.filter(
        company=company, account_type="Expense", is_bank_account=False
    ).first()
    tax_rate = TaxRate.objects.filter(company=company).first()
    category = ExpenseCategory.objects.create(company=company, name="Travel", code="TRAVEL")
    mapping = CategoryMapping.objects.create(category=category, account=account, tax_rate=tax_rate)
    suppliers = list(codat.paginate(codat.list_suppliers, cid))
    customers = list(codat.paginate(codat.list_customers, cid))
    info = CompanyInfo.objects.get(company=company)
    bank = BankAccount.objects.filter(company=company, currency=info.base_currency).first()
    supplier_id = pick_contact(suppliers, info.base_currency)
    codat.set_company_configuration(
        cid,
        {
            "bankAccount": {"id": bank.codat_id},
            "supplier": {"id": supplier_id},
            "customer": {"id": pick_contact(customers, info.base_currency)},
        },
    )
    assert resolve.category_problem(mapping, "expense-transactions.Payment") is None

    # In the ledger: the default supplier is archived (through Codat's write API), and the
    # bookkeeper archives the mapped account and deletes a tax rate (in the accounting
    # software itself, which is the sandbox's own ledger table).
    pushed = codat.update_supplier(
        cid,
        str(connection.codat_connection_id),
        supplier_id,
        {"supplierName": "Closed Supplier", "status": "Archived"},
    )
    assert wait_for_push(codat, cid, pushed["pushOperationKey"])["status"] == "Success"
    record = LedgerRecord.objects.get(
        company_id=cid, data_type="chartOfAccounts", record_id=account.codat_id
    )
    record.data = {**record.data, "status": "Archived"}
    record.save()
    LedgerRecord.objects.filter(
        company_id=cid, data_type="taxRates", record_id=tax_rate.codat_id
    ).delete()

    before = counts(company)
    refresh = ledger.request_refresh(company, reason=LedgerRead.Reason.MANUAL, actor=alice)
    assert ledger.request_refresh(company) == refresh, "one open read per company"
    assert ledger.start_read(refresh.pk)
    assert not ledger.start_read(refresh.pk), "a step runs once"
    payload = read_completed(webhook_capture, "read.completed", cid)
    ledger.on_read_completed(SimpleNamespace(data=payload, company=company))
    assert ledger.import_read(refresh.pk)

    assert counts(company) == before, "nothing deleted, nothing duplicated"
    account.refresh_from_db()
    assert account.missing_since is not None and not account.is_usable
    tax_rate.refresh_from_db()
    assert tax_rate.missing_since is not None
    supplier = Supplier.objects.get(company=company, codat_id=supplier_id)
    assert supplier.status == "Archived" and supplier.name == "Closed Supplier"

    mapping.refresh_from_db()
    problem = resolve.category_problem(mapping, "expense-transactions.Payment")
    assert problem.code == resolve.ProblemCode.ACCOUNT_MISSING
    assert problem.screen == resolve.Screen.CATEGORIES
    assert str(account) in problem.message
    configuration = company.configuration
    assert configuration.default_supplier == supplier
    assert resolve.configuration_problem(configuration).code == (
        resolve.ProblemCode.SUPPLIER_ARCHIVED
    )
    flagged = {type(obj).__name__: p.code for obj, p in resolve.mappings_needing_attention(company)}
    assert flagged == {
        "CompanyConfiguration": resolve.ProblemCode.SUPPLIER_ARCHIVED,
        "ExpenseCategory": resolve.ProblemCode.ACCOUNT_MISSING,
    }
    assert AuditEvent.objects.filter(company=company, action="ledger.refresh", actor=alice).exists()


def test_a_refresh_run_twice_leaves_the_same_rows(codat, alice, enqueued):
    company = Company.objects.create(name="Twice Ltd")
    link(company, alice, enqueued)
    read = LedgerRead.objects.get(company=company)
    assert ledger.check_read(read.pk) and ledger.import_read(read.pk)
    first = {model.__name__: set(model.objects.values_list("pk", "codat_id")) for model in CACHED}

    for _ in range(2):
        again = ledger.request_refresh(company)
        assert ledger.start_read(again.pk)
        assert ledger.check_read(again.pk)
        assert ledger.import_read(again.pk)
    second = {model.__name__: set(model.objects.values_list("pk", "codat_id")) for model in CACHED}
    assert second == first
    assert not any(
        model.objects.filter(company=company, missing_since__isnull=False).exists()
        for model in CACHED
    )
    assert LedgerRead.objects.filter(company=company, status="done").count() == 3


def test_unlink_ends_the_connection_at_codat_and_keeps_history(codat, alice, enqueued):
    company = Company.objects.create(name="Unlink Ltd")
    connection = link(company, alice, enqueued)

    unlinked = connect.unlink_accounting(company, actor=alice)

    assert unlinked.pk == connection.pk
    assert unlinked.status == Connection.Status.UNLINKED
    remote = codat.get_connection(
        str(company.codat_company_id), str(connection.codat_connection_id)
    )
    assert remote["status"] == "Unlinked"
    assert AuditEvent.objects.filter(
        company=company, action="connection.unlink", actor=alice
    ).exists()
    with pytest.raises(connect.ConnectError):
        connect.unlink_accounting(company, actor=alice)
    # Connecting the same software again authorises the connection Codat kept.
    again = connect.connect_accounting(company, PLATFORM_KEY, actor=alice)
    assert again.pk == connection.pk and again.link_url
    redirect = redirect_query(approve_link(again.link_url))
    assert redirect["statusCode"] == "200"
    relinked = connect.record_link_outcome(
        company, status_code=200, connection_id=redirect["connectionId"], actor=alice
    )
    assert relinked.status == Connection.Status.LINKED


def test_a_cancelled_link_changes_nothing_but_is_recorded(codat, alice, enqueued):
    company = Company.objects.create(name="Cancel Ltd")
    connection = connect.connect_accounting(company, PLATFORM_KEY, actor=alice)

    outcome = connect.record_link_outcome(
        company,
        status_code=403,
        connection_id=connection.codat_connection_id,
        error_message="User cancelled.",
        actor=alice,
    )

    assert outcome.status == Connection.Status.PENDING_AUTH
    event = AuditEvent.objects.get(company=company, action="connection.link_failed")
    assert "403" in event.object_label and "User cancelled." in event.object_label
    assert not LedgerRead.objects.filter(company=company).exists()
    assert not enqueued


def test_a_forged_success_in_the_query_string_is_not_believed(codat, alice, enqueued):
    company = Company.objects.create(name="Forged Ltd")
    connection = connect.connect_accounting(company, PLATFORM_KEY, actor=alice)

    outcome = connect.record_link_outcome(
        company, status_code=200, connection_id=connection.codat_connection_id, actor=alice
    )

    assert outcome.status == Connection.Status.PENDING_AUTH
    assert not LedgerRead.objects.filter(company=company).exists()


def test_switching_software_after_unlink_replaces_the_old_connection(codat, alice, enqueued):
    company = Company.objects.create(name="Switch Ltd")
    old = link(company, alice, enqueued)
    connect.unlink_accounting(company, actor=alice)

    new = connect.connect_accounting(company, "gbol", actor=alice)

    assert new.pk != old.pk and new.platform_key == "gbol"
    assert new.status == Connection.Status.PENDING_AUTH
    remote = codat.list_connections(str(company.codat_company_id))["results"]
    accounting = [c["id"] for c in remote if c["sourceType"] == "Accounting"]
    assert accounting == [str(new.codat_connection_id)]
