from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType

from integrations.companies.models import AuditEvent
from integrations.ledger.models import CategoryMapping

from .factories import (
    make_category,
    make_company,
    make_ledger_account,
    make_tax_rate,
    make_tracking_category,
    make_transaction,
    make_user,
)

pytestmark = pytest.mark.django_db


def test_it_records_only_the_fields_that_changed():
    alice = make_user("alice")
    company = make_company()
    old, new = make_ledger_account(company), make_ledger_account(company)
    rate = make_tax_rate(company)
    mapping = CategoryMapping.objects.create(
        category=make_category(company), account=old, tax_rate=rate
    )
    before = AuditEvent.snapshot(mapping, ["account", "tax_rate"])
    mapping.account = new
    mapping.save()

    event = AuditEvent.record(
        alice,
        "mapping.change",
        obj=mapping,
        company=company,
        before=before,
        after=AuditEvent.snapshot(mapping, ["account", "tax_rate"]),
    )

    event.refresh_from_db()
    assert event.changes == {"account": {"before": old.pk, "after": new.pk}}
    assert event.actor == alice
    assert event.actor_label == "alice"
    assert event.company == company
    assert event.content_type == ContentType.objects.get_for_model(CategoryMapping)
    assert event.object_id == str(mapping.pk)
    assert event.object_label == str(mapping)
    assert str(event) == f"alice mapping.change {mapping}"


def test_it_snapshots_many_to_many_fields_as_sorted_ids():
    company = make_company()
    a, b = make_tracking_category(company), make_tracking_category(company)
    mapping = CategoryMapping.objects.create(category=make_category(company))
    mapping.tracking_categories.add(b, a)
    assert AuditEvent.snapshot(mapping, ["tracking_categories"]) == {
        "tracking_categories": sorted([a.pk, b.pk], key=str)
    }


def test_it_stores_money_and_ids_as_json_safe_strings():
    txn = make_transaction()
    event = AuditEvent.record(
        make_user(),
        "transaction.change",
        obj=txn,
        before={"net_amount": Decimal("10.00")},
        after={"net_amount": Decimal("12.50")},
    )
    event.refresh_from_db()
    assert event.changes == {"net_amount": {"before": "10.00", "after": "12.50"}}
    # The company is taken from the object when not given.
    assert event.company == txn.company
    assert event.object_id == str(txn.pk)


def test_it_records_nothing_as_changed_when_values_are_equal():
    event = AuditEvent.record(None, "noop", before={"a": 1}, after={"a": 1}, label="nothing")
    assert event.changes == {}
    assert str(event) == "system noop nothing"


def test_it_records_system_and_anonymous_changes_without_an_actor():
    event = AuditEvent.record(AnonymousUser(), "webhook.connection.deauthorized", label="x")
    assert event.actor is None
    assert event.actor_label == ""


def test_it_keeps_the_trail_after_the_user_and_company_are_deleted():
    bob = make_user("bob")
    company = make_company()
    event = AuditEvent.record(bob, "company.rename", obj=company, before={"name": "A"})
    bob.delete()
    company.delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.company is None
    assert event.actor_label == "bob"
    assert event.changes == {"name": {"before": "A", "after": None}}
