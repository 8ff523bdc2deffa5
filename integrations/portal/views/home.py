"""Home: for each of the user's companies, what needs them now.

One query reads every company with its health, the user's role, the accounting platform and
the last successful sync; one more counts every company's transactions by what they need. A
company still being set up also asks `onboarding.progress` (the one place that decides which
steps are done); a company through onboarding needs no more queries, as anything that breaks
later shows up here as transactions needing attention, each with its fix.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.shortcuts import render
from django.urls import reverse

from integrations.companies.models import Company, Connection, Membership
from integrations.syncs.models import Sync
from integrations.transactions.models import Transaction

from .. import onboarding

Plain = Transaction.PlainStatus

# What the home page counts for each company, in the order it lists them, with the words.
NEEDS = (
    (Plain.NEEDS_ATTENTION, "need attention", "needs attention"),
    (Plain.FAILED, "failed", "failed"),
    (Plain.RECEIPT_MISSING, "are missing a receipt", "is missing a receipt"),
)


def _companies(user):
    accounting = Connection.objects.filter(
        company=OuterRef("pk"), source_type=Connection.SourceType.ACCOUNTING
    ).order_by("-created_at", "-pk")
    succeeded = Sync.objects.filter(
        company=OuterRef("pk"), status_code__gte=2000, status_code__lt=3000
    ).order_by("-completed_at", "-pk")
    # for_user() joins the memberships, so the role is read through the same join.
    return (
        Company.objects.for_user(user)
        .with_health()
        .annotate(
            role=F("memberships__role"),
            platform_name=Subquery(accounting.values("platform_name")[:1]),
            last_synced_at=Subquery(succeeded.values("completed_at")[:1]),
        )
        .order_by("name", "pk")
    )


def _counts(company_ids) -> dict:
    """{company id: {plain status: count}} for what home shows, in one query."""
    moving = Q(status__in=Transaction.IN_FLIGHT_STATUSES)
    rows = (
        Transaction.objects.filter(company__in=company_ids)
        .with_receipt_state()
        .values("company")
        .annotate(
            **{
                plain.value: Count("pk", filter=Transaction.plain_status_filter(plain))
                for plain in (
                    Plain.NEEDS_ATTENTION,
                    Plain.FAILED,
                    Plain.RECEIPT_MISSING,
                    Plain.READY,
                )
            },
            moving=Count("pk", filter=moving),
        )
        .order_by()
    )
    return {row.pop("company"): row for row in rows}


def _setup(company):
    """The onboarding checklist summed up, or None before it starts (never connected) and once
    the company is through it (linked, reviewed, automatic sync chosen)."""
    through = (
        company.accounting_status == Connection.Status.LINKED
        and company.onboarding_reviewed_at is not None
        and company.auto_sync_chosen_at is not None
    )
    # Never connected: the page says "Connect your accounting software", the first step.
    if through or company.accounting_status is None:
        return None
    return onboarding.progress(company)


def summary(company, counts: dict) -> dict:
    """What one company's card on home says, from the annotated row and its counts."""
    list_url = reverse("portal:transactions", args=[company.pk])
    needs = []
    for plain, many, one in NEEDS:
        n = counts.get(plain.value, 0)
        if n:
            needs.append(
                {
                    "count": n,
                    "words": one if n == 1 else many,
                    "status": plain,
                    "url": f"{list_url}?status={plain.value}",
                }
            )
    role = Membership.Role(company.role)
    membership = Membership(role=role)
    return {
        "company": company,
        "role": role,
        "can_edit": membership.can_edit,
        "can_connect": membership.can_connect,
        "connected": company.accounting_status is not None,
        "needs_auth": company.accounting_status
        in (Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED),
        "pending_auth": company.accounting_status == Connection.Status.PENDING_AUTH,
        "setup": _setup(company),
        "needs": needs,
        "ready": counts.get(Plain.READY.value, 0),
        "moving": counts.get("moving", 0),
        "list_url": list_url,
    }


@login_required
def home(request):
    # Companies come only through the user's own memberships; there is no unscoped listing.
    companies = list(_companies(request.user))
    counts = _counts([c.pk for c in companies])
    cards = [summary(company, counts.get(company.pk, {})) for company in companies]
    return render(request, "portal/home.html", {"cards": cards})
