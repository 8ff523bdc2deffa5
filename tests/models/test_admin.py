from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.companies.models import AuditEvent, Company
from integrations.ledger.models import ExpenseCategory
from integrations.transactions.models import Transaction

from .factories import make_company, make_full_graph, make_transaction

pytestmark = pytest.mark.django_db

APP_LABELS = ["companies", "ledger", "transactions", "syncs"]
MODELS = [m for label in APP_LABELS for m in apps.get_app_config(label).get_models()]
READ_ONLY = {
    "auditevent",
    "invitation",
    "ledgerread",
    "sync",
    "synctransaction",
    "writeoperation",
    "webhookevent",
    "requestlease",
    "companyhealth",
    "synchour",
    "errorcluster",
    "errorclustermember",
}


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_it_registers_every_model():
    missing = [m.__name__ for m in MODELS if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_renders_the_changelist_and_change_page(admin_client, model):
    make_full_graph()
    obj = model.objects.order_by("pk").first()
    assert obj is not None, "make_full_graph must make a row of every model"
    response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_renders_add_pages_only_for_editable_models(admin_client, model):
    expected = 403 if model._meta.model_name in READ_ONLY else 200
    assert admin_client.get(url(model, "add")).status_code == expected


def test_it_searches_by_codat_id(admin_client):
    company = make_full_graph()
    make_company("Other Ltd")
    response = admin_client.get(url(Company, "changelist"), {"q": company.codat_company_id})
    assert list(response.context["cl"].result_list) == [company]


def test_it_filters_transactions_by_status(admin_client):
    company = make_company()
    ready = make_transaction(company, status="ready")
    make_transaction(company, status="draft")
    response = admin_client.get(url(Transaction, "changelist"), {"status__exact": "ready"})
    assert list(response.context["cl"].result_list) == [ready]


def test_it_audits_an_operators_change(admin_client, admin_user):
    txn = make_transaction(net_amount=Decimal("10.00"))
    response = admin_client.get(url(Transaction, "change", txn.pk))
    data = response.context["adminform"].form.initial | {
        "net_amount": "12.50",
        "receipts-TOTAL_FORMS": "0",
        "receipts-INITIAL_FORMS": "0",
    }
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["company"] = txn.company_id
    response = admin_client.post(url(Transaction, "change", txn.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    event = AuditEvent.objects.get()
    assert event.actor == admin_user
    assert event.action == "admin.change"
    assert event.company == txn.company
    assert event.changes == {"net_amount": {"before": "10.0000", "after": "12.50"}}


def test_it_audits_an_operators_delete(admin_client):
    company = make_company()
    category = ExpenseCategory.objects.create(company=company, name="Travel", code="T")
    response = admin_client.post(url(ExpenseCategory, "delete", category.pk), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.object_label, event.company) == ("admin.delete", "Travel", company)


def test_it_refuses_edits_to_sync_history(admin_client):
    make_full_graph()
    for model in MODELS:
        if model._meta.model_name in READ_ONLY:
            obj = model.objects.order_by("pk").first()
            response = admin_client.post(url(model, "change", obj.pk), {})
            assert response.status_code == 403, model


def test_it_audits_members_added_on_the_company_page(admin_client):
    company = make_company("Acme")
    bob = get_user_model().objects.create_user("bob")
    data = {
        "name": "Acme",
        "auto_sync_enabled": "on",
        "auto_sync_interval_minutes": "15",
        "created_at_0": "2026-01-01",
        "created_at_1": "09:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": bob.pk,
        "memberships-0-role": "viewer",
        "memberships-0-created_at_0": "2026-01-01",
        "memberships-0-created_at_1": "09:00:00",
        "connections-TOTAL_FORMS": "0",
        "connections-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url(Company, "change", company.pk), data)
    assert response.status_code == 302, response.context["errors"]
    added = AuditEvent.objects.get(action="admin.add")
    assert added.company == company
    assert added.object_label == "bob at Acme (Viewer)"
    assert added.changes["role"] == {"before": None, "after": "viewer"}
    assert added.changes["user"] == {"before": None, "after": bob.pk}
