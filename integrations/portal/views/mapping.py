"""Onboarding steps 2 and 3: where spend lands in the ledger.

Accounts and contacts (each card's bank account, the company's defaults, and new records created
in the ledger from any chooser) and categories (the partner's expense categories against
account, tax rate and tracking). Both stay locked until the ledger has been read once
(`onboarding.ledger_ready`). Viewers see the pages read-only; `company_access` refuses their
POSTs.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django_htmx.http import HttpResponseStopPolling

from integrations.codat.errors import CodatError
from integrations.ledger import mapping as mapping_service
from integrations.ledger import resolve, writes
from integrations.ledger.models import (
    BankAccount,
    Card,
    CategoryMapping,
    CompanyConfiguration,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    Supplier,
    TaxRate,
    TrackingCategory,
)
from integrations.syncs.models import WriteOperation

from .. import onboarding
from ..access import Capability, company_access
from ..forms.mapping import (
    BulkApplyForm,
    CardsForm,
    CategoryFilterForm,
    CategoryRowForm,
    DefaultsForm,
    LedgerRecordForm,
)

PAGE_SIZE = 50
DataType = WriteOperation.DataType
# Where each kind of new record is chosen, to send the person back to it.
CREATED_FROM = {
    DataType.SUPPLIERS: "accounts",
    DataType.CUSTOMERS: "accounts",
    DataType.BANK_ACCOUNTS: "accounts",
    DataType.ACCOUNTS: "categories",
}


def _locked(request, membership, section, title):
    return render(
        request,
        "portal/mapping_locked.html",
        {
            "membership": membership,
            "company": membership.company,
            "section": section,
            "title": title,
        },
    )


def _usable(model, company, **extra):
    return [r for r in model.objects.filter(company=company, **extra) if r.is_usable]


# --- Accounts and contacts -----------------------------------------------------------------------


@login_required
def accounts(request, company_id):
    membership = company_access(request, company_id, Capability.VIEW)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    company = membership.company
    if not onboarding.ledger_ready(company):
        return _locked(request, membership, "accounts", "Accounts and contacts")
    configuration = (
        CompanyConfiguration.objects.filter(company=company)
        .select_related("default_bank_account", "default_supplier", "default_customer")
        .first()
    )
    bank_accounts = _usable(BankAccount, company)
    suppliers = _usable(Supplier, company)
    customers = _usable(Customer, company)
    cards = list(
        Card.objects.filter(company=company, is_active=True).select_related("mapping__bank_account")
    )
    action = request.POST.get("action") if request.method == "POST" else None

    initial = {}
    if configuration is not None:
        initial = {
            "bank_account": configuration.default_bank_account_id,
            "supplier": configuration.default_supplier_id,
            "customer": configuration.default_customer_id,
        }
    # A record just created in the ledger comes back preselected in its chooser.
    picked = _picked(request, company)
    initial.update(picked)
    defaults_form = DefaultsForm(
        request.POST if action == "defaults" else None,
        initial=initial,
        bank_accounts=bank_accounts,
        suppliers=suppliers,
        customers=customers,
    )
    card_initial = {
        f"card_{c.pk}": getattr(getattr(c, "mapping", None), "bank_account_id", None) for c in cards
    }
    cards_form = CardsForm(
        request.POST if action == "cards" else None,
        initial=card_initial,
        cards=cards,
        bank_accounts=bank_accounts,
    )
    if action == "defaults" and defaults_form.is_valid():
        data = defaults_form.cleaned_data
        try:
            mapping_service.save_defaults(
                company,
                bank_account=data["bank_account"],
                supplier=data["supplier"],
                customer=data["customer"],
                actor=request.user,
            )
        except mapping_service.MappingError as exc:
            defaults_form.add_error(None, str(exc))
        else:
            messages.success(request, "Defaults saved.")
            return redirect("portal:accounts", company.pk)
    elif action == "cards" and cards_form.is_valid():
        changed = mapping_service.save_card_mappings(
            company, cards_form.wanted(), actor=request.user
        )
        messages.success(
            request,
            f"{changed} card{'s' if changed != 1 else ''} updated." if changed else "No changes.",
        )
        return redirect("portal:accounts", company.pk)
    elif action not in (None, "defaults", "cards"):
        return HttpResponse("Unknown action.", status=400)

    config_problem = resolve.configuration_problem(configuration)
    card_rows = [
        (card, field, resolve.card_problem(card, configuration))
        for card, field in cards_form.rows()
    ]
    return render(
        request,
        "portal/accounts.html",
        {
            "membership": membership,
            "company": company,
            "section": "accounts",
            "configuration": configuration,
            "config_problem": config_problem,
            "defaults_form": defaults_form,
            "cards_form": cards_form,
            "card_rows": card_rows,
            "current": _current_defaults(configuration),
            "can_edit": membership.can_edit,
            "DataType": DataType,
        },
    )


def _current_defaults(configuration):
    """The saved defaults that the ledger no longer offers, to say so beside their chooser."""
    if configuration is None:
        return {}
    current = {
        "bank_account": configuration.default_bank_account,
        "supplier": configuration.default_supplier,
        "customer": configuration.default_customer,
    }
    return {name: record for name, record in current.items() if record and not record.is_usable}


def _picked(request, company) -> dict:
    write_id = request.GET.get("created")
    if not write_id or not write_id.isdigit():
        return {}
    write = WriteOperation.objects.filter(
        company=company, pk=int(write_id), status=WriteOperation.Status.SUCCESS
    ).first()
    record = writes.created_record(write) if write else None
    if record is None:
        return {}
    field = {
        DataType.SUPPLIERS: "supplier",
        DataType.CUSTOMERS: "customer",
        DataType.BANK_ACCOUNTS: "bank_account",
    }.get(write.data_type)
    return {field: record.pk} if field else {}


# --- New records in the ledger -------------------------------------------------------------------


def _data_type(data_type: str) -> str:
    if data_type not in DataType.values:
        raise Http404("No such kind of ledger record.")
    return data_type


@login_required
def record_new(request, company_id, data_type):
    membership = company_access(request, company_id, Capability.MAP)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    company = membership.company
    data_type = _data_type(data_type)
    if not onboarding.ledger_ready(company):
        return _locked(request, membership, CREATED_FROM[data_type], "Create in the ledger")
    context = {
        "membership": membership,
        "company": company,
        "section": CREATED_FROM[data_type],
        "data_type": data_type,
        "noun": writes.NOUNS[data_type],
        "back": reverse(f"portal:{CREATED_FROM[data_type]}", args=[company.pk]),
        "platform": company.accounting_connection(),
    }
    try:
        specs = writes.load_fields(company, data_type)
    except writes.WriteError as exc:
        context["model_error"] = str(exc)
        return render(request, "portal/record_new.html", context)
    form = LedgerRecordForm(request.POST or None, specs=specs)
    if request.method == "POST" and form.is_valid():
        try:
            write = writes.start_write(company, data_type, form.record(), actor=request.user)
        except writes.WriteError as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("portal:record-write", args=[company.pk, write.pk])
            if request.htmx:
                return _write_response(request, membership, write)
            return redirect(url)
    context["form"] = form
    template = "portal/record_new.html"
    if request.htmx and request.method == "POST":
        template += "#record-form"
    return render(request, template, context)


@login_required
def record_write(request, company_id, write_id):
    membership = company_access(request, company_id, Capability.VIEW)
    write = get_object_or_404(WriteOperation, pk=write_id, company=membership.company)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    if not write.is_terminal:
        # The person is watching: ask Codat now rather than wait for the follower task. If
        # Codat cannot answer, the task keeps trying and the page keeps polling.
        with contextlib.suppress(CodatError):
            write = writes.follow_write(write.pk) or write
    return _write_response(request, membership, write)


def _write_response(request, membership, write):
    company = membership.company
    context = {
        "membership": membership,
        "company": company,
        "section": CREATED_FROM[write.data_type],
        "write": write,
        "noun": writes.NOUNS[write.data_type],
        "label": writes.record_label(write.data_type, write.request_body),
        "back": reverse(f"portal:{CREATED_FROM[write.data_type]}", args=[company.pk]),
        "data_type": write.data_type,
    }
    if write.status == WriteOperation.Status.SUCCESS:
        context["record"] = writes.created_record(write)
    elif write.is_terminal:
        # Show the form again with what was typed and Codat's reasons on the fields.
        try:
            specs = writes.load_fields(company, write.data_type)
        except writes.WriteError as exc:
            context["model_error"] = str(exc)
        else:
            form = LedgerRecordForm(write.request_body, specs=specs)
            form.is_valid()
            by_field, general = writes.field_errors(write, form.fields)
            form.add_codat_errors(by_field, general)
            context["form"] = form
    if request.htmx:
        response = render(request, "portal/record_write.html#write-status", context)
        if write.is_terminal and request.headers.get("HX-Trigger") == "write-status":
            # A poll that sees the end: swap in the outcome and stop polling.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "portal/record_write.html", context)


# --- Categories ----------------------------------------------------------------------------------

_ACCOUNT_GONE = Q(mapping__account__status="Archived") | Q(
    mapping__account__missing_since__isnull=False
)
_TAX_GONE = Q(mapping__tax_rate__missing_since__isnull=False)
_UNMAPPED = Q(mapping__isnull=True) | Q(mapping__account__isnull=True)
_ATTENTION = ~_UNMAPPED & (_ACCOUNT_GONE | _TAX_GONE)


def _options(company):
    """What the category choosers offer (three queries), shared by every row of the page."""
    all_accounts = list(LedgerAccount.objects.filter(company=company))
    rates = list(TaxRate.objects.filter(company=company))
    tracking = list(TrackingCategory.objects.filter(company=company).select_related("parent"))
    leaves = mapping_service.tracking_for(tracking)
    groups: dict[str, list] = {}
    for leaf in leaves:
        groups.setdefault(leaf.parent.name if leaf.parent_id else "Tracking", []).append(leaf)
    return {
        "accounts": mapping_service.accounts_for(all_accounts),
        "tax_rates": mapping_service.tax_rates_for(rates),
        "tracking": leaves,
        # One chooser per tracking category (Department, Region…), a value of each at most.
        "tracking_groups": sorted(groups.items()),
    }


def _counts(company):
    return ExpenseCategory.objects.filter(company=company, is_active=True).aggregate(
        total=Count("pk"),
        unmapped=Count("pk", filter=_UNMAPPED),
        attention=Count("pk", filter=_ATTENTION),
    )


def _with_mapped(counts):
    counts["mapped"] = counts["total"] - counts["unmapped"] - counts["attention"]
    return counts


def _rows(categories, options, mapped_examples):
    account_ids = {a.pk for a in options["accounts"]}
    rows = []
    for category in categories:
        mapping = getattr(category, "mapping", None)
        problem = resolve.category_problem(mapping, mapping_service.CARD_SPEND)
        suggestion = None
        if mapping is None or mapping.account_id is None or mapping.account_id not in account_ids:
            suggestion = mapping_service.suggest_account(
                category.name, options["accounts"], mapped_examples
            )
        rows.append(_row(category, mapping, problem, suggestion, options))
    return rows


def _row(category, mapping, problem, suggestion, options, form=None, saved=False):
    accounts_by_pk = {a.pk: a for a in options["accounts"]}
    chosen_tracking = (
        {t.pk for t in mapping.tracking_categories.all()} if mapping is not None else set()
    )
    if form is not None and form.is_bound:
        # Show what the person chose, not what is saved, when their choice was refused.
        data = form.data
        account_value = data.get("account", "")
        tax_value = data.get("tax_rate", "")
        tracking_values = set(data.getlist("tracking")) if hasattr(data, "getlist") else set()
    else:
        account_value = str(mapping.account_id) if mapping and mapping.account_id else ""
        tax_value = str(mapping.tax_rate_id) if mapping and mapping.tax_rate_id else ""
        tracking_values = {str(pk) for pk in chosen_tracking}
    account = mapping.account if mapping is not None else None
    return {
        "category": category,
        "mapping": mapping,
        "account": account,
        # The saved account when the chooser no longer offers it (archived, gone, not valid).
        "stale_account": account if account and account.pk not in accounts_by_pk else None,
        "problem": problem,
        "suggestion": suggestion,
        "suggested": accounts_by_pk.get(suggestion.account_id) if suggestion else None,
        "account_value": account_value,
        "tax_value": tax_value,
        "tracking_values": tracking_values,
        "form": form,
        "saved": saved,
        "state": "unmapped" if account is None else ("attention" if problem else "mapped"),
    }


def _mapped_examples(company):
    return list(
        CategoryMapping.objects.filter(
            category__company=company, account__isnull=False
        ).values_list("category__name", "account_id")
    )


def _categories_context(request, membership, filters=None, bulk_form=None):
    company = membership.company
    filters = filters or CategoryFilterForm(request.GET or None)
    query = ExpenseCategory.objects.filter(company=company, is_active=True)
    if filters.is_valid():
        q = filters.cleaned_data.get("q")
        state = filters.cleaned_data.get("state")
        if q:
            query = query.filter(Q(name__icontains=q) | Q(code__icontains=q))
        if state == "unmapped":
            query = query.filter(_UNMAPPED)
        elif state == "attention":
            query = query.filter(_ATTENTION)
        elif state == "mapped":
            query = query.filter(~_UNMAPPED).exclude(_ATTENTION)
        page_number = filters.cleaned_data.get("page") or 1
    else:
        page_number = 1
    query = (
        query.select_related("mapping__account", "mapping__tax_rate")
        .prefetch_related("mapping__tracking_categories")
        .order_by("name", "pk")
    )
    page = Paginator(query, PAGE_SIZE).get_page(page_number)
    options = _options(company)
    counts = _with_mapped(_counts(company))
    rows = _rows(page.object_list, options, _mapped_examples(company))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "membership": membership,
        "company": company,
        "section": "categories",
        "filters": filters,
        "page": page,
        "page_query": params.urlencode(),
        "rows": rows,
        "counts": counts,
        "can_edit": membership.can_edit,
        "bulk_form": bulk_form
        or BulkApplyForm(
            company=company, accounts=options["accounts"], tax_rates=options["tax_rates"]
        ),
        **options,
    }


@login_required
def categories(request, company_id):
    membership = company_access(request, company_id, Capability.VIEW)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    if not onboarding.ledger_ready(membership.company):
        return _locked(request, membership, "categories", "Categories")
    context = _categories_context(request, membership)
    template = "portal/categories.html"
    if request.htmx and request.headers.get("HX-Target") == "category-table":
        template += "#category-table"
    return render(request, template, context)


@login_required
def category_save(request, company_id, category_id):
    """Save one row (inline, with HTMX): the row comes back, with its error when refused, and
    the counts above the table are swapped in beside it."""
    membership = company_access(request, company_id, Capability.MAP)
    company = membership.company
    category = get_object_or_404(
        ExpenseCategory.objects.select_related("mapping__account", "mapping__tax_rate"),
        pk=category_id,
        company=company,
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not onboarding.ledger_ready(company):
        return _locked(request, membership, "categories", "Categories")
    options = _options(company)
    form = CategoryRowForm(
        request.POST,
        accounts=options["accounts"],
        tax_rates=options["tax_rates"],
        tracking=options["tracking"],
    )
    saved = False
    if form.is_valid():
        data = form.cleaned_data
        mapping_service.save_category_mapping(
            category,
            account=data["account"],
            tax_rate=data["tax_rate"],
            tracking=data["tracking"],
            actor=request.user,
        )
        category = ExpenseCategory.objects.select_related(
            "mapping__account", "mapping__tax_rate"
        ).get(pk=category.pk)
        saved = True
        form = None
    if not request.htmx:
        if saved:
            messages.success(request, f"“{category.name}” saved.")
            return redirect(f"{reverse('portal:categories', args=[company.pk])}#cat-{category.pk}")
        # Without JavaScript: the whole page, with this row showing what was chosen and why
        # it was refused (the row is put first so it is seen whatever page it was on).
        context = _categories_context(request, membership, filters=CategoryFilterForm())
        refused = _row(
            category,
            getattr(category, "mapping", None),
            resolve.category_problem(
                getattr(category, "mapping", None), mapping_service.CARD_SPEND
            ),
            None,
            options,
            form=form,
        )
        context["rows"] = [refused] + [
            r for r in context["rows"] if r["category"].pk != category.pk
        ]
        return render(request, "portal/categories.html", context)
    mapping = getattr(category, "mapping", None)
    problem = resolve.category_problem(mapping, mapping_service.CARD_SPEND)
    suggestion = None
    if mapping is None or mapping.account_id is None:
        suggestion = mapping_service.suggest_account(
            category.name, options["accounts"], _mapped_examples(company)
        )
    row = _row(category, mapping, problem, suggestion, options, form=form, saved=saved)
    context = {
        "membership": membership,
        "company": company,
        "row": row,
        "can_edit": True,
        **options,
    }
    html = render_to_string("portal/categories.html#category-row", context, request=request)
    html += render_to_string(
        "portal/categories.html#category-counts",
        {"counts": _with_mapped(_counts(company)), "oob": True, "company": company},
        request=request,
    )
    return HttpResponse(html)


@login_required
def categories_bulk(request, company_id):
    membership = company_access(request, company_id, Capability.MAP)
    company = membership.company
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not onboarding.ledger_ready(company):
        return _locked(request, membership, "categories", "Categories")
    options = _options(company)
    form = BulkApplyForm(
        request.POST,
        company=company,
        accounts=options["accounts"],
        tax_rates=options["tax_rates"],
    )
    back = request.POST.get("back", "")
    target = reverse("portal:categories", args=[company.pk])
    if back.startswith("?"):
        target += back  # only a query string of this page: never an open redirect
    if form.is_valid():
        data = form.cleaned_data
        changed = mapping_service.apply_to_categories(
            company,
            data["categories"],
            account=data["account"],
            tax_rate=data["tax_rate"],
            actor=request.user,
        )
        messages.success(
            request,
            f"{changed} categor{'ies' if changed != 1 else 'y'} updated."
            if changed
            else "Those categories already had that mapping.",
        )
        return redirect(target)
    messages.error(
        request,
        "Nothing was changed: " + " ".join(str(e) for errs in form.errors.values() for e in errs),
    )
    return redirect(target)
