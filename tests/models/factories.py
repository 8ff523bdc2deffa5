"""Small make_* helpers: each builds one valid row; keyword arguments override what a test needs."""

import itertools
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, IntegrityError

from integrations.companies.models import AuditEvent, Company, Connection, Invitation, Membership
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
    LedgerRefresh,
    Supplier,
    TaxRate,
    TrackingCategory,
)
from integrations.syncs.models import (
    CompanyHealth,
    ErrorCluster,
    ErrorClusterMember,
    RequestLease,
    Sync,
    SyncHour,
    SyncTransaction,
    WebhookEvent,
    WriteOperation,
)
from integrations.transactions.models import Receipt, Transaction

_seq = itertools.count(1)

# What a database raises when a row breaks a rule: SQLite does not enforce max_length, so it
# reports our CHECK constraint; PostgreSQL stops an over-long value first, as a DataError.
REFUSED = (IntegrityError, DataError)


def make_user(username=None, **fields):
    return get_user_model().objects.create_user(username=username or f"user{next(_seq)}", **fields)


def make_company(name=None, **fields):
    return Company.objects.create(name=name or f"Company {next(_seq)}", **fields)


def make_membership(user=None, company=None, role=Membership.Role.OWNER):
    return Membership.objects.create(
        user=user or make_user(), company=company or make_company(), role=role
    )


def make_connection(company=None, **fields):
    values = {
        "codat_connection_id": uuid.uuid4(),
        "platform_key": "qhyg",
        "platform_name": "QuickBooks Online",
        "source_type": Connection.SourceType.ACCOUNTING,
        "status": Connection.Status.LINKED,
        "link_url": "https://link-api.codat.io/companies/x/connections/y/start",
    }
    values.update(fields)
    return Connection.objects.create(company=company or make_company(), **values)


def _codat_id():
    return str(next(_seq))


def make_ledger_account(company, **fields):
    values = {
        "codat_id": _codat_id(),
        "name": "Travel",
        "nominal_code": "7400",
        "account_type": LedgerAccount.Type.EXPENSE,
        "currency": "GBP",
        "valid_transaction_types": ["Payment", "Refund"],
        "valid_for": ["expense-transactions.Payment", "expense-transactions.Refund"],
    }
    values.update(fields)
    return LedgerAccount.objects.create(company=company, **values)


def make_tax_rate(company, **fields):
    values = {
        "codat_id": _codat_id(),
        "name": "Standard",
        "code": "20",
        "effective_rate": Decimal("20"),
        "total_rate": Decimal("20"),
    }
    values.update(fields)
    return TaxRate.objects.create(company=company, **values)


def make_tracking_category(company, **fields):
    values = {"codat_id": _codat_id(), "name": "Marketing"}
    values.update(fields)
    return TrackingCategory.objects.create(company=company, **values)


def make_supplier(company, **fields):
    values = {"codat_id": _codat_id(), "name": "Card spend supplier", "currency": "GBP"}
    values.update(fields)
    return Supplier.objects.create(company=company, **values)


def make_customer(company, **fields):
    values = {"codat_id": _codat_id(), "name": "Refunds customer", "currency": "GBP"}
    values.update(fields)
    return Customer.objects.create(company=company, **values)


def make_bank_account(company, **fields):
    values = {
        "codat_id": _codat_id(),
        "name": "Company card",
        "account_type": BankAccount.Type.CREDIT,
        "currency": "GBP",
    }
    values.update(fields)
    return BankAccount.objects.create(company=company, **values)


def make_category(company, **fields):
    n = next(_seq)
    values = {"code": f"CAT{n}", "name": f"Category {n}"}
    values.update(fields)
    return ExpenseCategory.objects.create(company=company, **values)


def make_card(company, **fields):
    values = {
        "reference": f"card-{next(_seq)}",
        "name": "Company card",
        "cardholder": "Alice Archer",
        "last_four": "4242",
        "currency": "GBP",
    }
    values.update(fields)
    return Card.objects.create(company=company, **values)


def make_transaction(company=None, **fields):
    values = {
        "kind": Transaction.Kind.EXPENSE,
        "expense_type": Transaction.ExpenseType.PAYMENT,
        "merchant_name": "Pret A Manger",
        "issue_date": date(2026, 3, 14),
        "currency": "GBP",
        "net_amount": Decimal("10.00"),
        "tax_amount": Decimal("2.00"),
    }
    values.update(fields)
    return Transaction.objects.create(company=company or make_company(), **values)


def make_receipt(transaction, **fields):
    values = {
        "file": SimpleUploadedFile("lunch.pdf", b"%PDF-1.4 receipt", "application/pdf"),
        "original_filename": "lunch.pdf",
        "size": 16,
        "content_type": "application/pdf",
    }
    values.update(fields)
    return Receipt.objects.create(transaction=transaction, **values)


def make_sync(company=None, **fields):
    values = {
        "kind": Sync.Kind.EXPENSE,
        "codat_sync_id": uuid.uuid4(),
        "status_code": Sync.StatusCode.IN_PROGRESS,
    }
    values.update(fields)
    return Sync.objects.create(company=company or make_company(), **values)


def make_full_graph():
    """One row of every model in the four apps, wired together as the portal would."""
    user = make_user("olive", email="olive@example.com")
    company = make_company("Acme Coffee Ltd", codat_company_id=uuid.uuid4())
    make_membership(user, company)
    Invitation.objects.create(
        company=company,
        email="bookkeeper@example.com",
        token_hash=uuid.uuid4().hex,
        expires_at=company.created_at + timedelta(days=7),
    )
    connection = make_connection(company)
    account = make_ledger_account(company)
    tax_rate = make_tax_rate(company)
    parent = make_tracking_category(company, name="Departments", has_children=True)
    tracking = make_tracking_category(company, name="Marketing", parent=parent)
    supplier = make_supplier(company)
    customer = make_customer(company)
    bank_account = make_bank_account(company)
    CompanyInfo.objects.create(
        company=company, legal_name="Acme Coffee Limited", base_currency="GBP"
    )
    LedgerRefresh.objects.create(company=company, data_type=LedgerRefresh.DataType.ACCOUNTS)
    LedgerRead.objects.create(company=company, reason=LedgerRead.Reason.LINK)
    category = make_category(company, name="Travel", code="TRAVEL")
    mapping = CategoryMapping.objects.create(
        category=category, account=account, tax_rate=tax_rate, updated_by=user
    )
    mapping.tracking_categories.add(tracking)
    card = make_card(company)
    CardMapping.objects.create(card=card, bank_account=bank_account, updated_by=user)
    CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=bank_account,
        default_supplier=supplier,
        default_customer=customer,
        updated_by=user,
    )
    txn = make_transaction(company, card=card, category=category, status="completed")
    make_receipt(txn)
    sync = make_sync(company, status_code=Sync.StatusCode.SUCCESS, total_count=1, completed_count=1)
    SyncTransaction.objects.create(
        sync=sync, transaction=txn, status=SyncTransaction.Status.COMPLETED, ledger_record_id="99"
    )
    WriteOperation.objects.create(
        company=company,
        connection=connection,
        push_operation_key=uuid.uuid4(),
        data_type=WriteOperation.DataType.SUPPLIERS,
    )
    WebhookEvent.objects.create(
        webhook_id="msg_1", event_type="expenses.sync.successful", company=company
    )
    RequestLease.objects.create(codat_company_id=str(company.codat_company_id), slot=0)
    # The health summaries (derived rows the staff pages read).
    CompanyHealth.objects.create(company=company, health=Company.Health.OK)
    SyncHour.objects.create(
        hour=sync.requested_at.replace(minute=0, second=0, microsecond=0), outcome="success"
    )
    cluster = ErrorCluster.objects.create(key="graph", status_code=5130, pattern="Account <n>")
    ErrorClusterMember.objects.create(cluster=cluster, transaction=txn, company=company, sync=sync)
    AuditEvent.record(user, "mapping.change", obj=mapping, company=company)
    return company
