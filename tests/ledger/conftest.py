"""A stand-in Codat client for the ledger services' own logic (the sandbox tests cover HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.codat.errors import CodatTransientError, CodatValidationError
from integrations.ledger.models import LedgerRefresh


def ledger_of(size: int) -> dict:
    """Codat's answers for a ledger with `size` records of each list kind."""
    accounts = [
        {
            "id": f"A{i}",
            "nominalCode": str(4000 + i),
            "name": f"Account {i}",
            "currency": "GBP",
            "accountType": "Expense",
            "fullyQualifiedCategory": "Expense.Travel",
            "isBankAccount": False,
            "validTransactionTypes": ["Payment"],
            "validFor": ["expense-transactions.Payment"],
        }
        for i in range(size)
    ] + [
        {
            "id": "BANK",
            "name": "Company card",
            "currency": "GBP",
            "accountType": "Liability",
            "isBankAccount": True,
            "validFor": [],
        }
    ]
    contacts = [
        {"id": f"C{i}", "status": "Active", "defaultCurrency": "GBP", "metadata": {}}
        for i in range(size)
    ]
    return {
        "mapping": {
            "accounts": accounts,
            "taxRates": [
                {"id": f"T{i}", "name": f"VAT {i}", "effectiveTaxRate": 20, "totalTaxRate": 20}
                for i in range(size)
            ],
            "trackingCategories": [{"id": "DEPT", "name": "Departments", "hasChildren": True}]
            + [
                {"id": f"D{i}", "name": f"Dept {i}", "hasChildren": False, "parentId": "DEPT"}
                for i in range(size)
            ],
        },
        "suppliers": [{**c, "supplierName": f"Supplier {c['id']}"} for c in contacts],
        "customers": [{**c, "customerName": f"Customer {c['id']}"} for c in contacts],
        "info": {"companyName": "Acme", "baseCurrency": "GBP", "ledgerLockDate": "2026-01-31"},
        "config": {
            "bankAccount": {"id": "BANK"},
            "supplier": {"id": "C0"},
            "customer": {"id": "C0"},
        },
    }


class FakeCodat:
    def __init__(self, ledger: dict | None = None):
        self.ledger = ledger or ledger_of(3)
        self.calls: list[str] = []
        self.fail_with: Exception | None = None
        self.data_status: dict = {}
        self.created_company_id = "3f1c1d2e-7a5b-4c9d-8e0f-0a1b2c3d4e5f"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def _call(self, name):
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    def refresh_all_data_types(self, company_id):
        self._call("refresh_all_data_types")

    def get_data_status(self, company_id):
        self._call("get_data_status")
        return self.data_status

    def get_mapping_options(self, company_id):
        self._call("get_mapping_options")
        return self.ledger["mapping"]

    def paginate(self, method, company_id, page_size):
        return iter(method(company_id))

    def list_suppliers(self, company_id):
        self._call("list_suppliers")
        return self.ledger["suppliers"]

    def list_customers(self, company_id):
        self._call("list_customers")
        return self.ledger["customers"]

    def get_company_info(self, company_id):
        self._call("get_company_info")
        return self.ledger["info"]

    def get_company_configuration(self, company_id):
        self._call("get_company_configuration")
        return self.ledger["config"]

    def create_company(self, body):
        self._call("create_company")
        return {"id": self.created_company_id, "name": body["name"]}

    def delete_company(self, company_id):
        self._call(f"delete_company {company_id}")


def all_complete(when: datetime) -> dict:
    stamp = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        t: {"dataType": t, "currentStatus": "Complete", "lastSuccessfulSync": stamp}
        for t in LedgerRefresh.DataType.values
    }


TRANSIENT = CodatTransientError("timed out", method="POST", path="/x", status_code=503)
REFUSED = CodatValidationError("nope", method="POST", path="/x", status_code=400)


@pytest.fixture
def fake_codat(monkeypatch):
    fake = FakeCodat()
    monkeypatch.setattr("integrations.ledger.services.codat_client", lambda: fake)
    monkeypatch.setattr("integrations.companies.services.codat_client", lambda: fake)
    return fake


@pytest.fixture
def enqueued(monkeypatch):
    calls: list[tuple[str, tuple]] = []

    def capture(task, args=None, kwargs=None, **options):
        calls.append((task.name.rsplit(".", 1)[-1], tuple(args or ())))

    monkeypatch.setattr("celery.app.task.Task.apply_async", capture)
    return calls
