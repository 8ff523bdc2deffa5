"""The ledger viewer: what landed in each company's fake accounting software, shown the way a
bookkeeper would see it, plus the fault-injection switches for that company."""

from collections import defaultdict
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..forms import AccountStatusForm, ConnectionActionForm, FaultSettingsForm
from ..models import (
    FaultSettings,
    LedgerRecord,
    SandboxAttachment,
    SandboxCompany,
    SandboxConnection,
    SandboxSync,
)

# Records written by syncs, in the order a bookkeeper scans them.
WRITTEN_TYPES = (
    ("expenses", "Card spend (expenses)"),
    ("bills", "Bills (reimbursable expenses)"),
    ("transfers", "Transfers"),
    ("journals", "Journals (adjustments)"),
)


def staff_only_unless_debug(view):
    """Outside debug mode the viewer is for signed-in staff: it shows every company's ledger and
    its switches can make the API fail for everyone. (The API keeps its own Basic key auth, and
    Link stays open because end users reach it from a linkUrl.)"""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.DEBUG:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.is_staff:
                # Not a redirect to the login page: it would send a signed-in user straight back.
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


@staff_only_unless_debug
@require_GET
def index(request):
    companies = SandboxCompany.objects.annotate(
        record_count=Count("ledger", distinct=True), sync_count=Count("syncs", distinct=True)
    ).order_by("-created")
    connections = {
        c.company_id: c
        for c in SandboxConnection.objects.filter(
            source_type=SandboxConnection.SourceType.ACCOUNTING
        )
    }
    rows = [(company, connections.get(company.id)) for company in companies]
    return render(request, "codat_sandbox/ledger_index.html", {"rows": rows})


def _names(ledger: dict, data_type: str, field: str) -> dict[str, str]:
    return {rid: (record.get(field) or rid) for rid, record in ledger.get(data_type, {}).items()}


@staff_only_unless_debug
@require_GET
def company_ledger(request, company_id):
    company = get_object_or_404(SandboxCompany, pk=company_id)
    conn = company.accounting_connection()
    ledger = services.ledger_dict(company)
    info = services.company_information(company) or {}
    names = {
        "account": _names(ledger, "chartOfAccounts", "name"),
        "supplier": _names(ledger, "suppliers", "supplierName"),
        "customer": _names(ledger, "customers", "customerName"),
        "bank": {
            **_names(ledger, "chartOfAccounts", "name"),
            **_names(ledger, "bankAccounts", "accountName"),
        },
        "tax": _names(ledger, "taxRates", "name"),
    }
    attachments = defaultdict(list)
    for attachment in (
        SandboxAttachment.objects.filter(company=company)
        .select_related("transaction")
        .defer("content")
    ):
        attachments[attachment.transaction.transaction_id].append(attachment)
    written = []
    for data_type, title in WRITTEN_TYPES:
        rows = []
        for record in ledger.get(data_type, {}).values():
            rows.append(_display(data_type, record, names, attachments))
        written.append({"key": data_type, "title": title, "rows": rows})
    faults = FaultSettings.objects.filter(company=company).first()
    context = {
        "company": company,
        "connection": conn,
        "info": info,
        "written": written,
        "accounts": list(ledger.get("chartOfAccounts", {}).values()),
        "tax_rates": list(ledger.get("taxRates", {}).values()),
        "tracking": list(ledger.get("trackingCategories", {}).values()),
        "suppliers": list(ledger.get("suppliers", {}).values()),
        "customers": list(ledger.get("customers", {}).values()),
        "bank_accounts": list(ledger.get("bankAccounts", {}).values()),
        "syncs": SandboxSync.objects.filter(company=company).order_by("-created")[:20],
        "fault_form": FaultSettingsForm(instance=faults),
        "connection_form": ConnectionActionForm(),
        "config_names": _config_names(company.expense_config or {}, names),
    }
    return render(request, "codat_sandbox/ledger.html", context)


def _config_names(config: dict, names: dict) -> dict[str, str]:
    """The company configuration's ids as names (falling back to the id if it left the ledger)."""
    resolved = {}
    for key, field, lookup in (
        ("bank", "bankAccount", "bank"),
        ("supplier", "supplier", "supplier"),
        ("customer", "customer", "customer"),
    ):
        record_id = (config.get(field) or {}).get("id")
        if record_id:
            resolved[key] = names[lookup].get(record_id, record_id)
    return resolved


def _display(data_type: str, record: dict, names: dict, attachments: dict) -> dict:
    """One ledger row with ids turned into the names a bookkeeper reads."""
    lines = []
    for line in record.get("lines") or []:
        account_id = (line.get("accountRef") or {}).get("id")
        tax_id = (line.get("taxRateRef") or {}).get("id")
        lines.append(
            {
                "account": names["account"].get(account_id, account_id or "—"),
                "description": line.get("description") or "",
                "net": line.get("netAmount", line.get("amount")),
                "tax": line.get("taxAmount"),
                "tax_rate": names["tax"].get(tax_id, tax_id) if tax_id else "",
            }
        )
    contact = record.get("contactRef") or record.get("supplierRef") or {}
    contact_id = contact.get("id")
    if contact.get("type") == "Customer":
        contact_name = names["customer"].get(contact_id, contact_id)
    else:
        contact_name = names["supplier"].get(contact_id, contact_id) if contact_id else ""
    bank_id = (record.get("bankAccountRef") or {}).get("id")
    side = {}
    for key in ("from", "to"):
        part = record.get(key) or {}
        account_id = (part.get("accountRef") or {}).get("id")
        if account_id:
            side[key] = {
                "account": names["bank"].get(account_id, account_id),
                "amount": part.get("amount"),
            }
    return {
        "id": record.get("id"),
        "transaction_id": record.get("transactionId"),
        "type": record.get("type") or "",
        "date": (record.get("issueDate") or record.get("date") or "")[:10],
        "due": (record.get("dueDate") or "")[:10],
        "currency": record.get("currency") or "",
        "merchant": record.get("merchantName") or record.get("description") or "",
        "reference": record.get("reference") or "",
        "contact": contact_name or "",
        "bank": names["bank"].get(bank_id, bank_id) if bank_id else "",
        "lines": lines,
        "total": record.get("totalAmount", record.get("totalDebit")),
        "net": record.get("netAmount"),
        "tax": record.get("taxAmount"),
        "draft": bool(record.get("postAsDraft")),
        "side": side,
        "attachments": attachments.get(record.get("transactionId"), []),
        "amount_is_negative": isinstance(record.get("totalAmount"), Decimal)
        and record["totalAmount"] < 0,
    }


@staff_only_unless_debug
@require_GET
def download_attachment(request, company_id, attachment_id):
    attachment = SandboxAttachment.objects.filter(company_id=company_id, pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such attachment.")
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    safe_name = attachment.filename.replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_only_unless_debug
@require_POST
def faults(request, company_id):
    company = get_object_or_404(SandboxCompany, pk=company_id)
    if "account_status" in request.POST:
        return _set_account_status(request, company)
    if "action" in request.POST:
        form = ConnectionActionForm(request.POST)
        conn = company.accounting_connection()
        if form.is_valid() and conn is not None:
            with transaction.atomic():
                if form.cleaned_data["action"] == "deauthorize":
                    services.deauthorize(conn)
                else:
                    services.approve_link(conn)
            messages.success(request, f"Connection is now {conn.status}.")
        return redirect("codat_sandbox:ledger", company_id=company.id)
    instance = FaultSettings.objects.filter(company=company).first() or FaultSettings(
        company=company
    )
    form = FaultSettingsForm(request.POST, instance=instance)
    if form.is_valid():
        form.save()
        messages.success(request, "Fault settings saved.")
    else:
        messages.error(request, "Fault settings were not saved. " + form.error_summary())
    return redirect("codat_sandbox:ledger", company_id=company.id)


def _set_account_status(request, company):
    form = AccountStatusForm(request.POST)
    record = None
    if form.is_valid():
        record = LedgerRecord.objects.filter(
            company=company, data_type="chartOfAccounts", record_id=form.cleaned_data["account_id"]
        ).first()
    if record is None:
        messages.error(request, "No such account in this ledger; nothing changed.")
        return redirect("codat_sandbox:ledger", company_id=company.id)
    status = form.cleaned_data["account_status"]
    metadata = {**(record.data.get("metadata") or {}), "isDeleted": False}
    record.data = {**record.data, "status": status, "metadata": metadata}
    record.modified = timezone.now()
    record.save(update_fields=["data", "modified"])
    verb = "archived" if status == "Archived" else "restored"
    messages.success(request, f"Account {record.data.get('name', record.record_id)} {verb}.")
    return redirect("codat_sandbox:ledger", company_id=company.id)
