"""Onboarding and the connection: the overview checklist, connect, Link's return, review (with a
test post), the automatic sync and the connection page.

Every view starts with `company_access` (Link's return finds the company through the user's
memberships the same way); forms validate every input; the companies, ledger and syncs services
do the work. The "fetching your ledger" box and the test post's result are named partials of
their pages, polled every 2 s until there is nothing left to wait for.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling

from integrations.codat.errors import CodatError
from integrations.companies import services as connect_services
from integrations.companies.models import AuditEvent, Connection, Membership
from integrations.ledger import services as ledger_services
from integrations.ledger.models import LedgerRead, LedgerRefresh
from integrations.syncs.services import schedule
from integrations.syncs.services.manual import SyncNowError, sync_now
from integrations.syncs.services.platforms import PLATFORMS
from integrations.transactions.models import Transaction

from .. import links, onboarding
from ..access import Capability, company_access
from ..forms.onboarding import (
    LETTERMARKS,
    AutomaticSyncForm,
    ConnectForm,
    LinkReturnForm,
    TestPostForm,
    TestResultForm,
    UnlinkForm,
)

logger = logging.getLogger(__name__)

CODAT_UNAVAILABLE = (
    "Codat could not be reached just now, so nothing changed. Please try again in a minute."
)


# The methods the pages answer. Checked after the access helper, so a viewer's PUT is refused
# (403) like any other change rather than told the method is unknown.
ALLOWED = ["GET", "HEAD", "POST"]


def _context(membership, section, **extra):
    return {"membership": membership, "company": membership.company, "section": section, **extra}


def _for_method(request, unsafe_capability):
    # GET shows the page to everyone in the company; what changes it needs `unsafe_capability`.
    return Capability.VIEW if request.method in ("GET", "HEAD") else unsafe_capability


# --- Overview: the checklist and "fetching your ledger" ---


@login_required
def company_overview(request, company_id):
    membership = company_access(request, company_id, _for_method(request, Capability.MAP))
    if request.method not in ALLOWED:
        return HttpResponseNotAllowed(ALLOWED)
    company = membership.company
    if request.method == "POST":
        # "Try again" after a failed ledger read: a fresh read of the whole ledger.
        ledger_services.request_refresh(
            company, reason=LedgerRead.Reason.MANUAL, actor=request.user
        )
        messages.info(request, "Fetching your ledger again.")
        return redirect("portal:company", company.pk)

    fetch = _ledger_fetch(company)
    if request.htmx:
        # The "fetching your ledger" box polls here. Once the ledger is in, the whole page
        # reloads so the unlocked steps appear; a failed read stops the polling.
        if fetch is None or fetch["ready"]:
            return HttpResponseClientRefresh()
        response = render(
            request,
            "portal/onboarding/overview.html#ledger-progress",
            _context(membership, "overview", fetch=fetch),
        )
        if fetch["failed"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    progress = onboarding.progress(company)
    return render(
        request,
        "portal/onboarding/overview.html",
        _context(
            membership,
            "overview",
            progress=progress,
            fetch=fetch,
            connection=company.accounting_connection(),
        ),
    )


def _ledger_fetch(company):
    """What the "fetching your ledger" box shows, or None when there is no ledger to fetch
    (not linked) or it is in already and nothing is being read."""
    connection = company.accounting_connection()
    if connection is None or connection.status != Connection.Status.LINKED:
        return None
    ready = onboarding.ledger_ready(company)
    read = onboarding.ledger_read_in_progress(company)
    if ready:
        # A routine refresh of a ledger already in is no reason to hold anyone up (and the
        # polled box would reload the page for ever).
        return {"ready": True, "failed": False}
    partner_linked = company.connections.filter(
        source_type=Connection.SourceType.EXPENSE, status=Connection.Status.LINKED
    ).exists()
    since = read.created_at if read else None
    refreshes = {r.data_type: r for r in company.ledger_refreshes.all()}
    kinds = []
    for data_type, label in LedgerRefresh.DataType.choices:
        refresh = refreshes.get(data_type)
        done = bool(refresh and refresh.refreshed_at and since and refresh.refreshed_at >= since)
        kinds.append(
            {
                "label": label,
                "done": done,
                "count": refresh.record_count if done else None,
                "error": refresh.error if refresh else "",
            }
        )
    status = read.status if read else LedgerRead.Status.REQUESTED
    stages = [
        ("Accounting software connected", True),
        ("Partner expense connection created", partner_linked),
        (
            "Codat read your ledger",
            status in (LedgerRead.Status.IMPORTING, LedgerRead.Status.DONE) or ready,
        ),
        ("Copied into the portal", status == LedgerRead.Status.DONE or ready),
    ]
    finished = sum(done for _, done in stages) + sum(k["done"] for k in kinds)
    return {
        "ready": ready,
        "failed": read is not None and read.status == LedgerRead.Status.FAILED and not ready,
        "read": read,
        "stages": stages,
        "kinds": kinds,
        "finished": finished,
        "total": len(stages) + len(kinds),
    }


# --- Step 1: connect ---


def _platforms(form):
    return [
        {
            "key": key,
            "name": PLATFORMS[key].name,
            "mark": LETTERMARKS.get(key, key[:2].upper()),
            "widget": widget,
        }
        for (key, _), widget in zip(form.fields["platform"].choices, form["platform"], strict=True)
    ]


@login_required
def connect(request, company_id):
    membership = company_access(request, company_id, Capability.CONNECT)
    if request.method not in ALLOWED:
        return HttpResponseNotAllowed(ALLOWED)
    company = membership.company
    current = company.accounting_connection()
    if current is not None and current.status == Connection.Status.LINKED:
        messages.info(
            request,
            f"{current.platform_name or current.platform_key} is already connected. "
            "Disconnect it here before connecting other accounting software.",
        )
        return redirect("portal:connection", company.pk)

    initial = {}
    if current is not None and current.platform_key in PLATFORMS:
        initial["platform"] = current.platform_key
    form = ConnectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        response = _start_link(request, company, form.cleaned_data["platform"], form)
        if response is not None:
            return response
    response = render(
        request,
        "portal/onboarding/connect.html",
        _context(membership, "overview", form=form, platforms=_platforms(form), pending=current),
        status=400 if form.errors else 200,
    )
    return links.with_link_csp(request, response)


def _start_link(request, company, platform_key, form=None):
    """Create (or reuse) the connection and send the person to its Link URL; None with the
    reason on `form` (or in a message) when that cannot happen."""
    problem = None
    try:
        connection = connect_services.connect_accounting(company, platform_key, actor=request.user)
    except connect_services.ConnectError as exc:
        problem = str(exc)
    except CodatError as exc:
        logger.warning("Connect of company %s failed at Codat: %s", company.pk, exc)
        problem = CODAT_UNAVAILABLE
    else:
        url = links.safe_link_url(connection.link_url)
        if url is not None:
            return HttpResponseRedirect(url)
        logger.warning("Connection %s has a Link URL we do not follow", connection.pk)
        problem = "Codat did not give a usable link to authorise the connection. Please try again."
    if form is not None:
        form.add_error(None, problem)
    else:
        messages.error(request, problem)
    return None


# --- Codat Link's return ---

LINK_APPROVED = connect_services.LINK_APPROVED
LINK_CANCELLED = 403
LINK_FAILED = (500, 501)


@login_required
@require_GET
def link_return(request):
    """Where Codat Link sends the person back after they approve, cancel or fail a connection.

    The query string is a claim, not a fact: the company is found only through this user's
    memberships (404 otherwise, as for any other tenant's id), the connection must be that
    company's accounting connection, and statusCode must be one Codat sends. On success Codat is
    asked for the connection's real state (record_link_outcome), which also starts the
    partner-expense connection and the first ledger read. Every redirect is to a portal page.
    """
    form = LinkReturnForm(request.GET)
    if not form.is_valid():
        return _refuse(request, "This return link from Codat is incomplete or malformed.")
    data = form.cleaned_data
    membership = (
        Membership.objects.select_related("company")
        .filter(user=request.user, company__codat_company_id=data["companyId"])
        .first()
    )
    if membership is None:
        return _refuse(
            request, "This return link does not belong to any of your companies.", status=404
        )
    if not membership.can(Capability.CONNECT):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) cannot connect accounting software."
        )
    company = membership.company
    connection = company.connections.filter(
        source_type=Connection.SourceType.ACCOUNTING, codat_connection_id=data["connectionId"]
    ).first()
    if connection is None:
        return _refuse(request, f"This return link names a connection {company} does not have.")
    code = data["statusCode"]
    if code not in (*LINK_APPROVED, LINK_CANCELLED, *LINK_FAILED):
        return _refuse(request, f"Codat sent back a status the portal does not know ({code}).")

    if code in LINK_APPROVED and connection.status == Connection.Status.LINKED:
        # A return link opened again (reload, back button): it was recorded the first time,
        # and recording it again would start another ledger read for nothing.
        messages.info(request, f"{connection.platform_name or 'Your ledger'} is connected.")
        return redirect("portal:company", company.pk)
    try:
        connection = connect_services.record_link_outcome(
            company,
            status_code=code,
            connection_id=connection.codat_connection_id,
            error_message=data["errorMessage"],
            actor=request.user,
        )
    except CodatError as exc:
        logger.warning("Link outcome of company %s not recorded: %s", company.pk, exc)
        messages.error(request, CODAT_UNAVAILABLE)
        return redirect("portal:company", company.pk)

    platform = connection.platform_name or connection.platform_key
    if code in LINK_APPROVED:
        if connection.status == Connection.Status.LINKED:
            messages.success(request, f"{platform} is connected. Fetching your ledger now.")
            return redirect("portal:company", company.pk)
        # statusCode said yes, Codat says no: trust Codat.
        messages.error(
            request,
            f"Codat says {platform} is not authorised yet ({connection.get_status_display()}). "
            "Please authorise it again.",
        )
        return redirect("portal:connect", company.pk)
    if code == LINK_CANCELLED:
        messages.warning(
            request, f"You cancelled connecting {platform}. Nothing changed; connect when ready."
        )
        return redirect("portal:connect", company.pk)
    if code == 501:
        messages.error(request, f"Codat does not support {platform} for this company.")
    else:
        messages.error(request, f"Codat could not connect {platform}. Please try again.")
    return redirect("portal:connect", company.pk)


def _refuse(request, message, status=400):
    return render(
        request, "portal/onboarding/link_refused.html", {"message": message}, status=status
    )


# --- Step 4: review and the test post ---


@login_required
def review(request, company_id):
    membership = company_access(request, company_id, _for_method(request, Capability.MAP))
    if request.method not in ALLOWED:
        return HttpResponseNotAllowed(ALLOWED)
    company = membership.company
    ready = onboarding.ledger_ready(company)
    test_form = TestPostForm(
        request.POST if request.POST.get("action") == "test-post" else None, company=company
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            connect_services.confirm_onboarding_review(company, actor=request.user)
            messages.success(request, "Review done.")
            return redirect("portal:automatic-sync", company.pk)
        if action == "test-post" and ready and test_form.is_valid():
            txn = test_form.cleaned_data["transaction"]
            try:
                result = sync_now(
                    company, transaction_ids=[txn.pk], actor=request.user, test_post=True
                )
            except SyncNowError as exc:
                test_form.add_error(None, str(exc))
            else:
                if result.queued:
                    messages.info(request, "Sending the test transaction to your ledger now.")
                return redirect(f"{reverse('portal:review', args=[company.pk])}?test={txn.pk}")
        elif action not in ("confirm", "test-post"):
            messages.error(request, "That action is not one this page offers.")
            return redirect("portal:review", company.pk)

    test_txn = None
    result_form = TestResultForm(request.GET)
    if result_form.is_valid():
        # Looked up inside the member's company only; another company's id shows nothing.
        test_txn = company.transactions.filter(pk=result_form.cleaned_data["test"]).first()
    test = _test_result(company, test_txn)
    if request.htmx and test is not None:
        response = render(
            request,
            "portal/onboarding/review.html#test-result",
            _context(membership, "review", test=test),
        )
        if not test["moving"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response

    context = _context(
        membership,
        "review",
        ready=ready,
        summary=_mapping_summary(company) if ready else None,
        missing=onboarding.missing(company) if ready else [],
        test_form=test_form,
        test=test,
        progress=onboarding.progress(company),
    )
    return render(
        request,
        "portal/onboarding/review.html",
        context,
        status=400 if test_form.errors else 200,
    )


def _mapping_summary(company):
    from integrations.ledger.models import CompanyConfiguration

    configuration = (
        CompanyConfiguration.objects.select_related(
            "default_bank_account", "default_supplier", "default_customer"
        )
        .filter(company=company)
        .first()
    )
    categories = company.expense_categories.filter(is_active=True)
    cards = company.cards.filter(is_active=True)
    return {
        "configuration": configuration,
        "categories": categories.count(),
        "categories_mapped": categories.filter(mapping__account__isnull=False).count(),
        "cards": cards.count(),
        "cards_mapped": cards.filter(mapping__bank_account__isnull=False).count(),
        "ready_count": company.transactions.filter(status=Transaction.Status.READY).count(),
    }


def _test_result(company, txn):
    if txn is None:
        return None
    status = txn.plain_status
    moving = txn.status in (Transaction.Status.READY, *Transaction.IN_FLIGHT_STATUSES)
    fix_url = ""
    if txn.status == Transaction.Status.NEEDS_ATTENTION:
        fix_url = _screen_url(company, txn.attention_screen, txn)
    return {
        "transaction": txn,
        "status": status,
        "moving": moving,
        "in_ledger": txn.status == Transaction.Status.COMPLETED,
        "viewer_url": links.ledger_viewer_url(company.codat_company_id, txn.ledger_record_id)
        if txn.status == Transaction.Status.COMPLETED
        else "",
        "fix_url": fix_url,
        "transaction_url": reverse("portal:transaction", args=[company.pk, txn.pk]),
    }


# Transaction.Screen (where a transaction's problem is fixed) to the portal page.
TRANSACTION_SCREENS = {
    Transaction.Screen.CATEGORY_MAPPING: "portal:categories",
    Transaction.Screen.CARD_MAPPING: "portal:accounts",
    Transaction.Screen.COMPANY_DEFAULTS: "portal:accounts",
    Transaction.Screen.CONNECTION: "portal:connection",
}


def _screen_url(company, screen, txn):
    name = TRANSACTION_SCREENS.get(screen)
    if name is None:
        return reverse("portal:transaction", args=[company.pk, txn.pk])
    return reverse(name, args=[company.pk])


# --- Step 5: automatic sync and "Sync now" ---


@login_required
def automatic_sync(request, company_id):
    membership = company_access(request, company_id, _for_method(request, Capability.MAP))
    if request.method not in ALLOWED:
        return HttpResponseNotAllowed(ALLOWED)
    company = membership.company
    action = request.POST.get("action") if request.method == "POST" else None
    form = AutomaticSyncForm(request.POST if action == "save" else None, company=company)
    if action == "save" and form.is_valid():
        schedule.choose_schedule(
            company,
            enabled=form.cleaned_data["enabled"],
            interval_minutes=form.cleaned_data["interval"],
            actor=request.user,
        )
        if form.cleaned_data["enabled"]:
            words = onboarding.interval_words(form.cleaned_data["interval"])
            messages.success(request, f"Automatic sync is on: ready spend goes {words}.")
        else:
            messages.success(request, "Automatic sync is off: spend goes when you press Sync now.")
        return redirect("portal:automatic-sync", company.pk)
    if action == "sync-now":
        try:
            result = sync_now(company, actor=request.user)
        except SyncNowError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _sync_now_words(result))
        return redirect("portal:automatic-sync", company.pk)
    if action is not None and action != "save":
        messages.error(request, "That action is not one this page offers.")
        return redirect("portal:automatic-sync", company.pk)

    connection = company.accounting_connection()
    return render(
        request,
        "portal/onboarding/automatic_sync.html",
        _context(
            membership,
            "automatic-sync",
            form=form,
            linked=connection is not None and connection.status == Connection.Status.LINKED,
            ready_count=company.transactions.filter(status=Transaction.Status.READY).count(),
            attention_count=company.transactions.filter(
                status=Transaction.Status.NEEDS_ATTENTION
            ).count(),
        ),
        status=400 if form.errors else 200,
    )


def _sync_now_words(result) -> str:
    if not result.queued and not result.needs_attention:
        return "Nothing is ready to send: every transaction is in the ledger or on its way."
    parts = []
    if result.queued:
        noun = "transaction" if result.queued == 1 else "transactions"
        parts.append(f"{result.queued} {noun} on the way to your ledger")
    if result.needs_attention:
        noun = "needs" if result.needs_attention == 1 else "need"
        parts.append(f"{result.needs_attention} {noun} attention first (see Transactions)")
    return "Sync started: " + "; ".join(parts) + "."


# What each recorded event on the connection page's history means, in plain words.
HISTORY_WORDS = {
    "connection.create": "Connection started",
    "connection.reconnect": "Fresh authorisation link opened",
    "connection.link": "Authorised through Codat Link",
    "connection.link_failed": "Codat Link did not authorise",
    "connection.unlink": "Disconnected",
    "onboarding.review": "Setup reviewed",
}


# --- The connection ---


@login_required
def connection(request, company_id):
    # Refreshing the ledger's copy is a fix anyone who maps may make (pre-flight sends people
    # here for it); re-authorising and unlinking need the CONNECT capability.
    refreshing = request.method == "POST" and request.POST.get("action") == "refresh-ledger"
    membership = company_access(
        request,
        company_id,
        Capability.MAP if refreshing else _for_method(request, Capability.CONNECT),
    )
    if request.method not in ALLOWED:
        return HttpResponseNotAllowed(ALLOWED)
    company = membership.company
    current = company.accounting_connection()
    unlink_form = UnlinkForm(request.POST if request.POST.get("action") == "unlink" else None)
    confirming = request.GET.get("unlink") == "1" or unlink_form.is_bound

    if request.method == "POST":
        action = request.POST.get("action")
        if current is None:
            messages.error(request, "There is no accounting software connected.")
            return redirect("portal:connect", company.pk)
        if action == "refresh-ledger":
            if current.status != Connection.Status.LINKED:
                messages.error(request, "Connect the accounting software before refreshing.")
            else:
                ledger_services.request_refresh(
                    company, reason=LedgerRead.Reason.MANUAL, actor=request.user
                )
                messages.success(
                    request, "Fetching your ledger again; it usually takes under a minute."
                )
            return redirect("portal:connection", company.pk)
        if action == "reauthorise":
            response = _start_link(request, company, current.platform_key)
            if response is not None:
                return response
            return redirect("portal:connection", company.pk)
        if action == "unlink":
            if unlink_form.is_valid():
                try:
                    connect_services.unlink_accounting(company, actor=request.user)
                except connect_services.ConnectError as exc:
                    messages.error(request, str(exc))
                except CodatError as exc:
                    logger.warning("Unlink of company %s failed at Codat: %s", company.pk, exc)
                    messages.error(request, CODAT_UNAVAILABLE)
                else:
                    messages.success(
                        request,
                        f"{current.platform_name or current.platform_key} is disconnected. "
                        "Your mappings are kept for when you connect again.",
                    )
                return redirect("portal:connection", company.pk)
        else:
            messages.error(request, "That action is not one this page offers.")
            return redirect("portal:connection", company.pk)

    last_success = (
        company.syncs.filter(status_code__gte=2000, status_code__lt=3000)
        .order_by("-completed_at", "-pk")
        .values_list("completed_at", flat=True)
        .first()
    )
    history = (
        AuditEvent.objects.filter(company=company)
        .filter(Q(action__startswith="connection.") | Q(action="onboarding.review"))
        .order_by("-at", "-pk")[:10]
    )
    for event in history:
        event.words = HISTORY_WORDS.get(event.action, event.action)
    latest_sync = company.syncs.order_by("-requested_at", "-pk").first()
    response = render(
        request,
        "portal/onboarding/connection.html",
        _context(
            membership,
            "connection",
            connection=current,
            last_success=last_success,
            latest_sync=latest_sync,
            history=history,
            confirming=confirming
            and membership.can_connect
            and current is not None
            and current.is_active,
            unlink_form=unlink_form,
            health=company.health,
            ledger_read=onboarding.ledger_read_in_progress(company),
            mark=LETTERMARKS.get(current.platform_key, "") if current else "",
        ),
        status=400 if unlink_form.errors else 200,
    )
    return links.with_link_csp(request, response)
