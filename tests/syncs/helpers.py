"""Build a portal company whose ledger cache mirrors a company linked in the sandbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest

from codat_sandbox.models import FaultSettings, LedgerRecord, SandboxCompany
from integrations.codat.client import CodatClient
from integrations.companies.models import Company
from integrations.ledger.models import (
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    LedgerAccount,
)
from integrations.transactions.models import Transaction
from tests.integration import helpers as integration_helpers
from tests.integration.helpers import PLATFORM_KEY, LinkedCompany, link_company
from tests.models.factories import (
    make_bank_account,
    make_card,
    make_category,
    make_company,
    make_connection,
    make_customer,
    make_ledger_account,
    make_supplier,
    make_transaction,
)

# Live-server tests need a transactional database; the portal's client talks to the sandbox.
PIPELINE = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("portal_on_sandbox")]


@dataclass
class Portal:
    company: Company
    linked: LinkedCompany
    account: LedgerAccount
    category: object
    card: object

    @property
    def codat_id(self) -> str:
        return self.linked.company_id

    def expense(self, **fields) -> Transaction:
        values = {
            "card": self.card,
            "category": self.category,
            "currency": self.linked.currency,
            "issue_date": date.today(),
            "status": Transaction.Status.READY,
            "tax_amount": 0,
        }
        return make_transaction(self.company, **(values | fields))

    def ledger_records(self, transaction: Transaction) -> list[LedgerRecord]:
        return [
            row
            for row in LedgerRecord.objects.filter(company_id=self.codat_id)
            if row.data.get("transactionId") == str(transaction.pk)
        ]

    def faults(self, **fields) -> FaultSettings:
        faults, _ = FaultSettings.objects.update_or_create(
            company=SandboxCompany.objects.get(pk=self.codat_id), defaults=fields
        )
        return faults

    def clear_faults(self) -> None:
        FaultSettings.objects.filter(company_id=self.codat_id).delete()


def linked_portal(codat: CodatClient, platform_key: str = PLATFORM_KEY) -> Portal:
    """A sandbox company linked over HTTP, and the portal's cache of its ledger."""
    with pytest.MonkeyPatch.context() as patch:
        # link_company links the integration suite's platform; any other is one switch away.
        patch.setattr(integration_helpers, "PLATFORM_KEY", platform_key)
        lc = link_company(codat)
    info = codat.get_company_info(lc.company_id)
    company = make_company(codat_company_id=uuid.UUID(lc.company_id))
    make_connection(company, platform_key=platform_key, codat_connection_id=lc.connection_id)
    CompanyInfo.objects.create(
        company=company,
        base_currency=lc.currency,
        ledger_lock_date=date.fromisoformat(info["ledgerLockDate"][:10])
        if info.get("ledgerLockDate")
        else None,
    )
    account = make_ledger_account(
        company, codat_id=lc.expense_account_id, currency="", name="Expenses"
    )
    bank = make_bank_account(company, codat_id=lc.bank_account_id, currency=lc.currency)
    supplier = make_supplier(company, codat_id=lc.supplier_id, currency="")
    customer = make_customer(company, codat_id=lc.customer_id, currency="")
    CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=bank,
        default_supplier=supplier,
        default_customer=customer,
    )
    category = make_category(company, name="Travel")
    CategoryMapping.objects.create(category=category, account=account)
    card = make_card(company, currency=lc.currency)
    CardMapping.objects.create(card=card, bank_account=bank)
    return Portal(company, lc, account, category, card)
