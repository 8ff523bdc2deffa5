import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expenses_portal.settings")

app = Celery("expenses_portal")
# Every Celery setting lives in Django settings under the CELERY_ prefix, read from the environment.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
