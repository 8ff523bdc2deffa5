from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .celery import HEARTBEAT_CACHE_KEY


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
