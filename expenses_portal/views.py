from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
def home(request):
    # Companies come through the user's memberships only; there is no unscoped listing.
    memberships = (
        request.user.memberships.select_related("company").order_by("company__name")
        if hasattr(request.user, "memberships")
        else []
    )
    return render(request, "home.html", {"memberships": memberships})


@require_GET
def healthz(request):
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
