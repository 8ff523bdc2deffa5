from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from integrations.companies.models import AuditEvent, Company
from integrations.ledger.models import Card, CompanyConfiguration, ExpenseCategory, LedgerRead
from integrations.syncs.models import ErrorClusterMember, WebhookEvent, WriteOperation
from integrations.syncs.services import fixes
from integrations.transactions.models import Receipt, Transaction

from ..access import staff_required
from .actions import confirm_and_run

SHOWN = 15


@staff_required
@require_GET
def company_detail(request, company_id):
    """Everything about one company's syncing, each list capped, in a fixed number of queries."""
    company = get_object_or_404(Company.objects.select_related("health_summary"), pk=company_id)
    summary = getattr(company, "health_summary", None)
    context = {
        "section": "triage",
        "company": company,
        "summary": summary,
        "connections": list(company.connections.order_by("-created_at", "-pk")),
        "configuration": CompanyConfiguration.objects.filter(company=company)
        .select_related(
            "default_bank_account", "default_supplier", "default_customer", "updated_by"
        )
        .first(),
        "categories": list(
            ExpenseCategory.objects.filter(company=company)
            .select_related("mapping__account", "mapping__tax_rate", "mapping__updated_by")
            .order_by("-is_active", "name")[:50]
        ),
        "cards": list(
            Card.objects.filter(company=company)
            .select_related("mapping__bank_account", "mapping__updated_by")
            .order_by("-is_active", "name")[:50]
        ),
        "syncs": list(company.syncs.order_by("-requested_at", "-pk")[:SHOWN]),
        "failed": list(
            Transaction.objects.filter(
                company=company,
                status__in=[Transaction.Status.FAILED, Transaction.Status.NEEDS_ATTENTION],
            ).order_by("-status_changed_at")[:SHOWN]
        ),
        "receipts": list(
            Receipt.objects.filter(
                transaction__company=company, upload_status__in=Receipt.LOST_STATUSES
            )
            .select_related("transaction")
            .order_by("-created_at")[:SHOWN]
        ),
        "webhooks": list(
            WebhookEvent.objects.filter(company=company).order_by("-received_at")[:SHOWN]
        ),
        "writes": list(
            WriteOperation.objects.filter(company=company).order_by("-requested_at")[:SHOWN]
        ),
        "reads": list(LedgerRead.objects.filter(company=company).order_by("-created_at")[:5]),
        "audit": list(AuditEvent.objects.filter(company=company).select_related("actor")[:30]),
        "clusters": list(
            ErrorClusterMember.objects.filter(company=company, resolved_at__isnull=True)
            .values("cluster_id", "cluster__status_code", "cluster__pattern")
            .order_by("cluster_id")
            .distinct()[:10]
        ),
    }
    return render(request, "staff/company.html", context)


COMPANY_ACTIONS = {
    "retry-failed": (
        "Retry failed",
        "Every failed transaction of this company goes back through pre-flight and is sent "
        "again. Do this after fixing the cause (mapping, ledger, connection).",
        fixes.retry_failed,
    ),
    "refresh-ledger": (
        "Refresh ledger data",
        "The company's ledger (accounts, tax rates, contacts, bank accounts) is read again "
        "from Codat.",
        fixes.refresh_ledger,
    ),
    "poll-now": (
        "Poll now",
        "Ask Codat now for the status of this company's open syncs.",
        fixes.poll_now,
    ),
    "resend-receipts": (
        "Re-send receipts",
        "Receipts whose upload failed go back to the upload queue (receipts the ledger refused "
        "for their size or type are not sent again).",
        fixes.resend_receipts,
    ),
    "unlink": (
        "Unlink",
        "The company's accounting software is unlinked at Codat. Nothing more is sent until "
        "the customer connects it again. Codat keeps what was written.",
        fixes.unlink,
    ),
}


@staff_required
@require_http_methods(["GET", "POST"])
def company_action(request, company_id, action):
    company = get_object_or_404(Company, pk=company_id)
    if action not in COMPANY_ACTIONS:
        raise Http404("No such action.")
    title, words, func = COMPANY_ACTIONS[action]
    return confirm_and_run(
        request,
        action=(title, words, lambda actor: func(company, actor=actor)),
        target=company.name,
        back=reverse("staff:company", args=[company.pk]),
        extra={"section": "triage", "company": company, "danger": action == "unlink"},
    )
