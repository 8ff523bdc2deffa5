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
