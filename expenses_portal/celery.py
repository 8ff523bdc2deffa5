import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expenses_portal.settings")
# `filesystem://` (the broker of `make run`) writes each message whole: see broker.py.
TRANSPORT_ALIASES["filesystem"] = "expenses_portal.broker:Transport"

app = Celery("expenses_portal")
# Every Celery setting lives in Django settings under the CELERY_ prefix, read from the environment.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_CACHE_KEY = "celery:worker-heartbeat"


@app.task(name="expenses_portal.heartbeat", ignore_result=True)
def heartbeat():
    """Beat sends this every 30 s; the worker stamps the shared cache.

    A web process cannot see the worker otherwise: /healthz/ reports how long ago this ran, so a
    dead worker or beat shows up as a stale timestamp instead of silently unsynced work.
    """
    from django.core.cache import cache
    from django.utils import timezone

    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)
