"""The demo's failing company, and the connection hooks that keep a summary current."""

from __future__ import annotations

import uuid
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from integrations.companies import services as company_services
from integrations.companies.models import Company, Connection
from integrations.syncs.models import CompanyHealth, ErrorCluster
from integrations.syncs.services import health
from tests.models.factories import make_company, make_connection

pytestmark = pytest.mark.django_db


def test_the_health_story_gives_staff_a_failing_company_once():
    call_command("seed_demo", stdout=StringIO())
    first = call_command("seed_health_story", stdout=StringIO())
    assert "Initech Supplies Ltd is failing" in first
    company = Company.objects.get(name="Initech Supplies Ltd")
    row = CompanyHealth.objects.get(company=company)
    assert (row.health, row.failed_count, row.unmapped_categories) == ("failing", 3, 2)
    assert row.score == CompanyHealth.objects.order_by("-score").first().score
    cluster = ErrorCluster.objects.get()
    assert (cluster.status_code, cluster.transactions_count) == (5130, 3)
    assert CompanyHealth.objects.count() == Company.objects.count() == 4  # 3 demo + Initech

    again = call_command("seed_health_story", stdout=StringIO())
    assert "was there" in again
    assert ErrorCluster.objects.get().transactions_count == 3
    assert Company.objects.filter(name="Initech Supplies Ltd").count() == 1


def test_a_connection_event_refreshes_the_summary(django_capture_on_commit_callbacks):
    company = make_company(codat_company_id=uuid.uuid4())
    connection = make_connection(company)
    health.refresh_company_health(company.pk)
    event = SimpleNamespace(
        data={"connection": {"id": str(connection.codat_connection_id), "status": "Deauthorized"}}
    )
    with django_capture_on_commit_callbacks(execute=True):
        company_services.on_connection_event(event)
    row = CompanyHealth.objects.get(company=company)
    assert (row.connection_status, row.health) == (Connection.Status.DEAUTHORIZED, "needs_auth")


def test_beat_repairs_the_summaries_every_five_minutes():
    from expenses_portal.celery import app
    from integrations.syncs.tasks import repair_health

    entry = app.conf.beat_schedule["sync-health-repair"]
    assert (entry["task"], entry["schedule"]) == (repair_health.name, 300.0)
    company = make_company()
    repair_health()
    assert CompanyHealth.objects.filter(company=company).exists()
