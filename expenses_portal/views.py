from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.companies.models import Company, Membership

from .celery import HEARTBEAT_CACHE_KEY
from .forms import LinkReturnForm

# Codat's Link status codes, in the words a customer should read.
LINK_OUTCOMES = {
    200: "Your accounting software is connected.",
    201: "Nothing changed: your accounting software was already connected.",
    403: "You cancelled connecting your accounting software.",
    500: "Codat could not connect your accounting software. Please try again.",
    501: "That accounting software is not supported.",
}


@login_required
def home(request):
    # Companies come only through the user's own memberships; there is no unscoped listing.
    # The role is read through the same join for_user() filters on, so this is one query.
    companies = (
        Company.objects.for_user(request.user).with_health().annotate(role=F("memberships__role"))
    )
    for company in companies:
        company.role_label = Membership.Role(company.role).label
    return render(request, "home.html", {"companies": companies})


@require_GET
def healthz(request):
    """For load balancers and people: the database answers, and when the worker last ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    stamp = cache.get(HEARTBEAT_CACHE_KEY)
    age = None
    if stamp:
        age = round((timezone.now() - datetime.fromisoformat(stamp)).total_seconds())
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "worker_heartbeat_age_seconds": age}
    )


@login_required
@require_GET
def link_return(request):
    """Where Codat Link sends the user back after they approve or cancel a connection.

    The company is looked up through the user's memberships only; an unknown or foreign company
    id gets the same answer as a malformed query string, so nothing leaks about other tenants.
    """
    form = LinkReturnForm(request.GET)
    company = None
    if form.is_valid():
        company = (
            Company.objects.for_user(request.user)
            .filter(codat_company_id=form.cleaned_data["companyId"])
            .first()
        )
    if company is None:
        return render(
            request,
            "link_return.html",
            {"outcome": "This link does not belong to any of your companies.", "ok": False},
            status=404,
        )
    code = form.cleaned_data["statusCode"]
    outcome = LINK_OUTCOMES.get(code, f"Codat answered with status {code}.")
    if code >= 400 and form.cleaned_data["errorMessage"]:
        outcome = f"{outcome} ({form.cleaned_data['errorMessage']})"
    return render(
        request, "link_return.html", {"company": company, "outcome": outcome, "ok": code < 400}
    )
