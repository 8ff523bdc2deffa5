"""Day to day: the transactions list (filters, status chips, "Sync now", live progress), one
transaction's page (lines, the mapping it resolves to, its sync history) and its receipts.

The list's table body and the receipts box are named partials of their pages; while anything
moves they poll themselves every 3 seconds, and stop (HTTP 286) once nothing does.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseStopPolling

from integrations.syncs.models import SyncTransaction
from integrations.syncs.services import attach, preflight
from integrations.syncs.services.manual import SyncNowError, sync_now
from integrations.syncs.services.push import can_push
from integrations.transactions.models import Receipt, Transaction

from ..access import Capability, company_access
from ..forms.transactions import (
    STATUS_ORDER,
    ReceiptUploadForm,
    SyncNowForm,
    TransactionFilterForm,
)

PAGE_SIZE = 50
POLL_SECONDS = 3
Plain = Transaction.PlainStatus
Screen = Transaction.Screen

# Where each problem's screen is fixed, and what the link says. "The ledger itself" has no
# page of ours: the transaction's page says what to change there.
FIX_LINKS = {
    Screen.CATEGORY_MAPPING: ("portal:categories", "Map the category"),
    Screen.CARD_MAPPING: ("portal:accounts", "Choose the card's account"),
    Screen.COMPANY_DEFAULTS: ("portal:accounts", "Set the defaults"),
    Screen.CONNECTION: ("portal:connection", "Open the connection"),
    Screen.TRANSACTION: ("portal:transaction", "Open the transaction"),
    Screen.LEDGER: ("portal:transaction", "What to do"),
}
MOVING = (Plain.QUEUED, Plain.SYNCING)
# Rows a person may send (failed ones are retried).
SENDABLE = (
    Transaction.Status.READY,
    Transaction.Status.NEEDS_ATTENTION,
    Transaction.Status.FAILED,
)


def fix_link(txn: Transaction) -> tuple[str, str] | None:
    """The page that fixes what is wrong with `txn`, as (url, words), or None."""
    if txn.status not in (Transaction.Status.NEEDS_ATTENTION, Transaction.Status.FAILED):
        return None
    name, words = FIX_LINKS.get(txn.attention_screen, FIX_LINKS[Screen.TRANSACTION])
    if name == "portal:transaction":
        return reverse(name, args=[txn.company_id, txn.pk]), words
    return reverse(name, args=[txn.company_id]), words


def _query(params: dict, **changes) -> str:
    """The query string `params` with `changes` applied (None removes a key)."""
    merged = {k: v for k, v in params.items() if v not in ("", None)}
    for key, value in changes.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = value
    return "?" + urlencode(merged) if merged else "?"


def _status_counts(rows) -> dict:
    """Every plain status's count within `rows`, in one query."""
    counts = rows.aggregate(
        **{
            plain.value: Count("pk", filter=Transaction.plain_status_filter(plain))
            for plain in Plain
        }
    )
    return {Plain(k): v for k, v in counts.items()}


def _list_context(request, membership):
    company = membership.company
    form = TransactionFilterForm(request.GET or None)
    values = form.values()
    raw = {name: request.GET.get(name, "") for name in form.fields}
    base = (
        Transaction.objects.filter(company=company)
        .with_receipt_state()
        .annotate(total=F("net_amount") + F("tax_amount"))
    )
    within = form.filter_without_status(base, values)
    counts = _status_counts(within)
    status = values.get("status")
    rows = within.filter(Transaction.plain_status_filter(status)) if status else within
    rows = rows.select_related("category").order_by("-issue_date", "-created_at", "pk")
    paginator = Paginator(rows, PAGE_SIZE)
    # The chips have counted every status already: the pager needs no COUNT of its own.
    paginator.count = counts[Plain(status)] if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    selected = set(request.GET.getlist("ids"))
    for txn in page.object_list:
        txn.fix = fix_link(txn)
        txn.sendable = txn.status in SENDABLE
        txn.selected = str(txn.pk) in selected
    chips = [
        {
            "status": plain,
            "count": counts[plain],
            "url": _query(raw, status=plain.value, page=None),
            "current": status == plain.value,
        }
        for plain in STATUS_ORDER
        if counts[plain] or status == plain.value
    ]
    moving = any(counts[p] for p in MOVING)
    here = _query(raw, page=page.number if page.number > 1 else None)
    return {
        "membership": membership,
        "company": company,
        "section": "transactions",
        "form": form,
        "page": page,
        "chips": chips,
        "total": sum(counts.values()),
        "ready_count": counts[Plain.READY],
        "failed_count": counts[Plain.FAILED],
        "filtered": bool(values),
        "moving": moving,
        "poll_seconds": POLL_SECONDS,
        "here": here,
        "all_url": _query({}),
        "any_status_url": _query(raw, status=None, page=None),
        "current_status": status or "",
        "prev_url": _query(raw, page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": _query(raw, page=page.next_page_number()) if page.has_next() else "",
        "filter_values": {k: v for k, v in raw.items() if v},
        # The tick boxes and buttons: only for people who may sync, once there is a ledger.
        "can_sync": membership.can_edit and can_push(company),
    }


@login_required
def transactions(request, company_id):
    membership = company_access(request, company_id, Capability.VIEW)
    context = _list_context(request, membership)
    if request.htmx and request.htmx.target == "txn-rows":
        # The poll: the rows and the chips (out of band) as they are now; polling stops
        # once nothing is queued or syncing.
        body = render(request, "portal/transactions.html#rows", context).content
        oob = {**context, "oob": True}
        body += render(request, "portal/transactions.html#chips", oob).content
        if context["can_sync"]:
            # The buttons' counts ("Sync everything ready (3)") move with the rows.
            body += render(request, "portal/transactions.html#syncbar", oob).content
        response_class = HttpResponse if context["moving"] else HttpResponseStopPolling
        return response_class(body)
    return render(request, "portal/transactions.html", context)


@login_required
def transactions_sync(request, company_id):
    membership = company_access(request, company_id, Capability.MAP)
    # After the access check, so another company's id reads 404 whatever the method.
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    company = membership.company
    back = reverse("portal:transactions", args=[company.pk]) + _query(
        {k: request.POST.get(k, "") for k in TransactionFilterForm.base_fields}
    )
    form = SyncNowForm(request.POST, company=company)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        result = sync_now(
            company,
            transaction_ids=form.chosen_ids(),
            actor=request.user,
            retry_failed=form.retry_failed,
        )
    except SyncNowError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if result.queued:
        messages.success(
            request,
            f"{_count(result.queued)} sent to the ledger's queue; "
            "the list below updates as they sync.",
        )
    if result.needs_attention:
        verb = "needs" if result.needs_attention == 1 else "need"
        messages.warning(
            request,
            f"{_count(result.needs_attention)} {verb} attention first: "
            "each says why and where to fix it.",
        )
    if not result.queued and not result.needs_attention:
        messages.info(request, "Nothing was ready to sync.")
    return redirect(back)


def _count(n: int) -> str:
    return "1 transaction" if n == 1 else f"{n} transactions"


# --- One transaction -----------------------------------------------------------------------------


def _transaction(membership, transaction_id):
    # The transaction is looked up inside the member's company only.
    return get_object_or_404(
        membership.company.transactions.select_related(
            "category", "card", "supplier", "from_bank_account", "to_bank_account"
        ),
        pk=transaction_id,
    )


def _receipts_context(membership, txn, form=None):
    platform = attach.platform_of(membership.company)
    receipts = list(txn.receipts.all())
    moving = any(
        r.upload_status in (Receipt.UploadStatus.PENDING, Receipt.UploadStatus.UPLOADING)
        for r in receipts
    )
    limits = attach.limits_for(platform, txn)
    return {
        "receipts": receipts,
        # Waiting for the transaction to reach the ledger is not progress worth polling for.
        "receipts_moving": moving and txn.status == Transaction.Status.COMPLETED,
        "limits": limits,
        "platform": platform,
        "upload_form": form or ReceiptUploadForm(transaction=txn, platform=platform),
        "can_upload": membership.can_edit and limits.accepted,
        "poll_seconds": POLL_SECONDS,
    }


def _history(txn):
    items = (
        SyncTransaction.objects.filter(transaction=txn)
        .select_related("sync")
        .order_by("-sync__requested_at", "-pk")
    )
    return list(items)


def _mapping(company, txn):
    """The ledger records the transaction goes to, resolved from the mapping as it is now
    (what the next push would send; for one already in the ledger, what it was sent with
    unless the mapping changed since)."""
    if txn.kind == Transaction.Kind.TRANSFER:
        return None
    return preflight.resolve(txn, preflight.load_context(company))


@login_required
def transaction_detail(request, company_id, transaction_id):
    membership = company_access(request, company_id, Capability.VIEW)
    txn = _transaction(membership, transaction_id)
    context = {
        "membership": membership,
        "company": membership.company,
        "txn": txn,
        **_status_context(membership, txn),
        **_receipts_context(membership, txn),
    }
    if request.htmx and request.htmx.target == "txn-status":
        # The status box's poll while the transaction syncs; it stops once it has landed.
        body = render(request, "portal/transaction.html#status", context).content
        return HttpResponse(body) if context["moving"] else HttpResponseStopPolling(body)
    context.update(
        section="transactions",
        history=_history(txn),
        mapping=_mapping(membership.company, txn),
    )
    return render(request, "portal/transaction.html", context)


def _status_context(membership, txn):
    plain = txn.plain_status
    return {
        "plain": plain,
        "moving": plain in MOVING,
        "fix": fix_link(txn),
        "can_sync": membership.can_edit and txn.status in SENDABLE,
    }


@login_required
def transaction_receipts(request, company_id, transaction_id):
    """GET: the receipts box (polled while an upload runs). POST: add a receipt."""
    membership = company_access(request, company_id, Capability.VIEW)
    txn = _transaction(membership, transaction_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    status = 200
    form = None
    if request.method == "POST":
        platform = attach.platform_of(membership.company)
        form = ReceiptUploadForm(request.POST, request.FILES, transaction=txn, platform=platform)
        if form.is_valid():
            attach.attach_receipt(
                txn, form.cleaned_data["file"], form.file_type, actor=request.user
            )
            form = None
            if not request.htmx:
                messages.success(request, "Receipt added.")
                return redirect("portal:transaction", company_id, txn.pk)
        elif not request.htmx:
            # (htmx swaps only 2xx answers, so the box with the error comes back as 200.)
            status = 400
    if form is None:
        # A receipt was added: read the transaction again, its plain status may have moved on.
        txn = _transaction(membership, transaction_id)
    context = {
        "membership": membership,
        "company": membership.company,
        "txn": txn,
        **_status_context(membership, txn),
        **_receipts_context(membership, txn, form),
    }
    if request.method == "POST" and form is not None and not request.htmx:
        # Without JavaScript: the whole page again, with the form's error.
        context.update(
            section="transactions",
            history=_history(txn),
            mapping=_mapping(membership.company, txn),
        )
        return render(request, "portal/transaction.html", context, status=status)
    # The status box at the top says "receipt missing" until a receipt arrives, so it travels
    # with the receipts box (out of band) and never contradicts it.
    body = (
        render(request, "portal/transaction.html#receipts", context).content
        + render(request, "portal/transaction.html#status", {**context, "status_oob": True}).content
    )
    if request.method == "GET" and not context["receipts_moving"]:
        return HttpResponseStopPolling(body)
    return HttpResponse(body, status=status)


@login_required
def transaction_sync(request, company_id, transaction_id):
    """Sync (or retry) this one transaction now."""
    membership = company_access(request, company_id, Capability.MAP)
    txn = _transaction(membership, transaction_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = sync_now(
            membership.company, transaction_ids=[txn.pk], actor=request.user, retry_failed=True
        )
    except SyncNowError as exc:
        messages.error(request, str(exc))
    else:
        if result.queued:
            messages.success(request, "Sent to the ledger's queue.")
        elif result.needs_attention:
            messages.warning(request, "It needs attention first: see why below.")
        else:
            messages.info(request, "Nothing to send: it is not ready.")
    return redirect("portal:transaction", company_id, txn.pk)
