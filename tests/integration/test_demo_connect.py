"""`connect_demo` against the sandbox over real HTTP: the demo companies end linked, each to
its own platform, with every mapping resolving, and a second run changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from integrations.companies.models import AuditEvent, Company, Connection
from integrations.demo import connect, simulator
from integrations.ledger import resolve
from integrations.ledger.models import (
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    LedgerRead,
)
from integrations.transactions.models import Transaction

from .helpers import API_KEY

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _portal_talks_to_the_sandbox(settings, sandbox_url, tmp_path):
    settings.CODAT_SANDBOX_URL = sandbox_url
    settings.CODAT_BASE_URL = sandbox_url
    settings.CODAT_API_KEY = API_KEY
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """The worker's share (partner connection, read checks) is left undone: connect_demo
    must not need a worker."""
    calls = []
    monkeypatch.setattr(
        "celery.app.task.Task.apply_async", lambda task, *args, **kw: calls.append(task.name)
    )
    return calls


def state():
    """Every row connect_demo writes, with when it last changed."""
    return {
        "connections": set(Connection.objects.values_list("pk", "status", "updated_at")),
        "categories": set(CategoryMapping.objects.values_list("pk", "account", "updated_at")),
        "cards": set(CardMapping.objects.values_list("pk", "bank_account", "updated_at")),
        "configuration": set(CompanyConfiguration.objects.values_list("pk", "updated_at")),
        "reads": LedgerRead.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_connect_demo_links_and_maps_the_demo_companies_once(codat, capsys):
    call_command("seed_demo")

    call_command("connect_demo", "--timeout", "10")

    expected = {"Acme Coffee Ltd": ("gbol", "GBP"), "Globex Outdoor Inc": ("qhyg", "USD")}
    for name, (platform_key, currency) in expected.items():
        company = Company.objects.get(name=name)
        connection = company.accounting_connection()
        assert (connection.platform_key, connection.status) == (platform_key, "Linked")
        assert company.connections.filter(source_type="Expense", status="Linked").exists()
        assert CompanyInfo.objects.get(company=company).base_currency == currency
        # What pre-flight asks: nothing of the company needs attention ...
        assert resolve.mappings_needing_attention(company) == []
        # Spend abroad can be booked against the default supplier: it deals in any currency.
        assert company.configuration.default_supplier.currency == ""
        # Synced at the demo's pace, so a person watching sees the spend land.
        assert company.auto_sync_enabled
        assert company.auto_sync_interval_minutes == connect.DEMO_AUTO_SYNC_MINUTES
        # ... and each category takes both kinds of spend the simulator makes.
        for category in company.expense_categories.all():
            for key, spend_type in zip(connect.SPEND_KEYS, connect.SPEND_TYPES, strict=True):
                assert resolve.category_problem(category.mapping, key, spend_type) is None
            assert category.mapping.tax_rate is not None
        for card in company.cards.all():
            bank = resolve.bank_account_for_card(card, company.configuration)
            assert card.mapping.bank_account == bank and bank.currency in ("", card.currency)
        # Codat holds the same defaults as the portal.
        configuration = company.configuration
        assert codat.get_company_configuration(str(company.codat_company_id)) == {
            "bankAccount": {"id": configuration.default_bank_account.codat_id},
            "supplier": {"id": configuration.default_supplier.codat_id},
            "customer": {"id": configuration.default_customer.codat_id},
        }
        changes = AuditEvent.objects.filter(company=company, action=connect.AUDIT_ACTION)
        assert changes.count() == (1 + company.expense_categories.count() + company.cards.count())
        assert not changes.filter(actor__isnull=False).exists(), "no person is named"
    acme = Company.objects.get(name="Acme Coffee Ltd")
    travel = acme.expense_categories.get(code="TRAVEL").mapping
    assert "travel" in travel.account.name.lower() and travel.tax_rate.effective_rate == 0
    assert acme.expense_categories.get(code="MEALS").mapping.tax_rate.effective_rate == 20

    before = state()
    capsys.readouterr()
    call_command("connect_demo", "--timeout", "10")
    assert state() == before
    assert capsys.readouterr().out.count("already connected and mapped") == 2

    # The simulator now finds both companies linked, and its spend resolves.
    spends = simulator.simulate_spend(simulator.demo_companies(), count=3, seed=1)
    assert {s.company.name for s in spends} == set(expected)
    assert all(s.status == Transaction.Status.READY for s in spends)


def test_without_the_sandbox_connect_demo_does_nothing(settings, capsys):
    call_command("seed_demo")
    settings.CODAT_BASE_URL = "https://api.codat.io"

    call_command("connect_demo")

    assert "does not use the sandbox" in capsys.readouterr().out
    assert not Connection.objects.exists()
