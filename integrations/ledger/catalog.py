"""The partner's own expense categories and cards, kept in step with its systems by reference.

Upserts by the partner's key (a category's code, a card's reference) so the partner can send
its whole catalog again at any time; archiving keeps the row (spend points at it) but hides it
from new spend and mapping.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from integrations.companies.models import AuditEvent, Company

from .models import Card, ExpenseCategory

CATEGORY_FIELDS = ["name", "is_active"]
CARD_FIELDS = ["name", "cardholder", "last_four", "currency", "is_active"]


def _upsert(model, lookup: dict, fields: list, values: dict, *, actor_label: str, action: str):
    with transaction.atomic():
        try:
            with transaction.atomic():
                obj, created = model.objects.select_for_update().get_or_create(
                    **lookup, defaults=values
                )
        except IntegrityError:  # a concurrent upsert of the same key won; take its row
            obj, created = model.objects.select_for_update().get(**lookup), False
        before = {} if created else AuditEvent.snapshot(obj, fields)
        if not created:
            for field, value in values.items():
                setattr(obj, field, value)
            obj.save(update_fields=list(values))
        after = AuditEvent.snapshot(obj, fields)
        if created or before != after:
            AuditEvent.record(
                None, action, obj=obj, actor_label=actor_label, before=before, after=after
            )
    return obj, created


def upsert_category(
    company: Company, code: str, *, name: str, active: bool = True, actor_label: str = ""
) -> tuple[ExpenseCategory, bool]:
    return _upsert(
        ExpenseCategory,
        {"company": company, "code": code},
        CATEGORY_FIELDS,
        {"name": name, "is_active": active},
        actor_label=actor_label,
        action="category.upsert",
    )


def upsert_card(
    company: Company,
    reference: str,
    *,
    name: str,
    cardholder: str,
    last_four: str,
    currency: str,
    active: bool = True,
    actor_label: str = "",
) -> tuple[Card, bool]:
    return _upsert(
        Card,
        {"company": company, "reference": reference},
        CARD_FIELDS,
        {
            "name": name,
            "cardholder": cardholder,
            "last_four": last_four,
            "currency": currency,
            "is_active": active,
        },
        actor_label=actor_label,
        action="card.upsert",
    )


def archive(obj: ExpenseCategory | Card, *, actor_label: str = ""):
    """Take a category or card out of use; its spend keeps pointing at it."""
    if obj.is_active:
        obj.is_active = False
        obj.save(update_fields=["is_active"])
        AuditEvent.record(
            None,
            f"{obj._meta.model_name}.archive",
            obj=obj,
            actor_label=actor_label,
            before={"is_active": True},
            after={"is_active": False},
        )
    return obj
