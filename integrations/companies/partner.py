"""Companies provisioned by the partner's systems (the partner API calls these).

A company made this way starts with its owner invited by email, the same invitation an owner
sends a teammate from the portal, so the customer signs in and connects their ledger themselves.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .models import AuditEvent, Company, Membership
from .services import invite

AUDITED = ["name", "partner_reference"]


class ReferenceTaken(Exception):
    """Another company already carries this partner reference."""

    def __init__(self, reference: str):
        super().__init__(f"Another company already has the reference {reference!r}.")
        self.reference = reference


def create_for_partner(
    *, name: str, owner_email: str, partner_reference: str | None = None, actor_label: str = ""
) -> Company:
    """Create the company and invite its owner; a reference already in use changes nothing."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                company = Company.objects.create(
                    name=name, partner_reference=partner_reference or None
                )
        except IntegrityError:
            raise ReferenceTaken(partner_reference) from None
        AuditEvent.record(
            None,
            "company.create",
            obj=company,
            actor_label=actor_label,
            after=AuditEvent.snapshot(company, AUDITED),
        )
        invite(company, owner_email, Membership.Role.OWNER)
    return company


def update_for_partner(company: Company, *, actor_label: str = "", **changes) -> Company:
    """Change the name and/or the partner reference (only the keys given)."""
    before = AuditEvent.snapshot(company, AUDITED)
    for field, value in changes.items():
        if field not in AUDITED:
            raise TypeError(f"{field} cannot be changed here")
        setattr(company, field, (value or None) if field == "partner_reference" else value)
    with transaction.atomic():
        try:
            with transaction.atomic():
                company.save(update_fields=list(changes))
        except IntegrityError:
            company.refresh_from_db(fields=AUDITED)
            raise ReferenceTaken(changes.get("partner_reference")) from None
        AuditEvent.record(
            None,
            "company.change",
            obj=company,
            actor_label=actor_label,
            before=before,
            after=AuditEvent.snapshot(company, AUDITED),
        )
    return company
