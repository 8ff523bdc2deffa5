"""The staff pages: what they show, their filters and search, actions, and pinned query counts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.companies.models import AuditEvent, Company, Connection
from integrations.syncs.models import CompanyHealth, ErrorCluster, Sync, SyncTransaction
from integrations.syncs.services import health
from integrations.transactions.models import Receipt, Transaction
from tests.models.factories import (
    make_company,
    make_connection,
    make_receipt,
    make_sync,
    make_transaction,
    make_user,
)

pytestmark = pytest.mark.django_db
Status = Transaction.Status


@pytest.fixture
def staff_client(client):
    client.force_login(make_user("sam", is_staff=True))
    return client


def failing_company(name="Failing Ltd", *, account="7400", platform="qhyg", n=2):
    """A linked company whose last sync failed with 5130 on `n` transactions."""
    company = make_company(name, codat_company_id=uuid.uuid4())
    make_connection(company, platform_key=platform, platform_name=platform.upper())
    sync = make_sync(
        company,
        send_state=Sync.SendState.ACCEPTED,
        status_code=5130,
        completed_at=timezone.now(),
        total_count=n,
        failed_count=n,
    )
    for _ in range(n):
        txn = make_transaction(company, status=Status.FAILED)
        SyncTransaction.objects.create(
            sync=sync,
            transaction=txn,
            status="PushError",
            message=f"Account '{account}' is archived and cannot be used.",
        )
    health.sync_closed(sync)
    return company, sync


def healthy_company(name="Healthy Ltd"):
    company = make_company(name, codat_company_id=uuid.uuid4())
    make_connection(company)
    sync = make_sync(company, send_state=Sync.SendState.ACCEPTED, status_code=2000)
    Sync.objects.filter(pk=sync.pk).update(completed_at=timezone.now())
    health.refresh_company_health(company.pk)
    return company


def test_overview_shows_totals_chart_and_clusters(staff_client):
    failing_company()
    healthy_company()
    response = staff_client.get(reverse("staff:overview"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'class="bar s-failed"' in body
    assert "Failing Ltd" in body
    assert "Account &#x27;&lt;value&gt;&#x27; is archived" in body
    totals = response.context["totals"]
    assert (totals.companies, totals.failing, totals.connected) == (2, 1, 2)


def test_liveness_is_its_own_partial(staff_client, monkeypatch):
    from integrations.staff import liveness

    monkeypatch.setattr(liveness, "_ping", lambda: 1)
    response = staff_client.get(reverse("staff:liveness"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="liveness"' in body and "Celery worker" in body
    assert "<html" not in body


def test_triage_orders_by_score_worst_first(staff_client):
    healthy_company()
    failing_company("Worse Ltd", n=4)
    failing_company("Bad Ltd", n=1)
    Connection.objects.filter(company__name="Worse Ltd").update(
        status=Connection.Status.DEAUTHORIZED
    )
    health.refresh_companies(Company.objects.values_list("pk", flat=True))
    response = staff_client.get(reverse("staff:triage"))
    names = [row.company.name for row in response.context["page"].object_list]
    assert names == ["Worse Ltd", "Bad Ltd", "Healthy Ltd"]
    scores = [row.score for row in response.context["page"].object_list]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"health": "failing", "platform": "qhyg"}, ["Failing Ltd"]),
        ({"health": "ok"}, ["Healthy Ltd"]),
        ({"platform": "gbol"}, ["Xero Co"]),
        ({"code": "5130"}, ["Failing Ltd", "Xero Co"]),
        ({"connection": "Linked", "q": "heal"}, ["Healthy Ltd"]),
        ({"connection": "none"}, ["Onboarding Ltd"]),
        ({"q": "xero"}, ["Xero Co"]),
    ],
)
def test_triage_filters_and_search(staff_client, query, expected):
    failing_company()
    failing_company("Xero Co", platform="gbol")
    healthy_company()
    make_company("Onboarding Ltd")
    health.rebuild_all()
    response = staff_client.get(reverse("staff:triage"), query)
    assert sorted(r.company.name for r in response.context["page"].object_list) == expected


def test_triage_finds_a_company_by_codat_ids(staff_client):
    company, sync = failing_company()
    healthy_company()
    for value in (company.codat_company_id, sync.codat_sync_id):
        response = staff_client.get(reverse("staff:triage"), {"q": str(value)})
        assert [r.company for r in response.context["page"].object_list] == [company]


def test_triage_date_range_and_bad_range(staff_client):
    failing_company()
    today = timezone.localdate()
    response = staff_client.get(reverse("staff:triage"), {"since": str(today + timedelta(days=1))})
    assert list(response.context["page"].object_list) == []
    response = staff_client.get(
        reverse("staff:triage"), {"since": str(today), "until": str(today - timedelta(days=1))}
    )
    assert "The end of the range is before its start." in response.content.decode()


def test_triage_polls_its_own_partial_with_the_filters(staff_client):
    failing_company()
    response = staff_client.get(reverse("staff:triage"), {"health": "failing"})
    body = response.content.decode()
    assert 'hx-get="/staff/companies/?health=failing"' in body
    assert 'hx-trigger="every 5s"' in body
    partial = staff_client.get(
        reverse("staff:triage"), {"health": "failing"}, headers={"HX-Request": "true"}
    )
    text = partial.content.decode()
    assert text.lstrip().startswith('<div id="triage-list"') and "Failing Ltd" in text


def _count_queries(client, url, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(n):
    for i in range(n):
        failing_company(f"Failing {i}", account=str(i), n=1)
        healthy_company(f"Healthy {i}")


@pytest.mark.parametrize(
    "url",
    [
        reverse("staff:overview"),
        reverse("staff:triage"),
        reverse("staff:clusters"),
        reverse("staff:legend"),
    ],
)
def test_list_pages_cost_the_same_at_two_sizes(staff_client, url, django_assert_max_num_queries):
    _grow(3)
    small = _count_queries(staff_client, url, django_assert_max_num_queries)
    _grow(25)
    assert _count_queries(staff_client, url, django_assert_max_num_queries) == small


def test_pinned_query_counts(staff_client, django_assert_num_queries):
    _grow(5)
    company = Company.objects.filter(name="Failing 0").get()
    cluster = ErrorCluster.objects.first()
    # Session, user and the portal's company switcher (3), then each page's own reads.
    for url, queries in [
        (reverse("staff:overview"), 8),
        (reverse("staff:triage"), 5),
        (reverse("staff:clusters"), 5),
        (reverse("staff:cluster", args=[cluster.pk]), 5),
        (reverse("staff:company", args=[company.pk]), 16),
    ]:
        with django_assert_num_queries(queries):
            assert staff_client.get(url).status_code == 200


def test_company_drill_down_shows_why(staff_client):
    from tests.models.factories import make_category

    company, sync = failing_company()
    make_category(company, name="Travel")
    response = staff_client.get(reverse("staff:company", args=[company.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert str(sync.codat_sync_id) in body
    assert 'href="/staff/status-codes/#code-5130"' in body
    assert "Open error clusters" in body
    # Where a member of staff fixes a mapping (the admin records who changed it).
    assert "/admin/ledger/categorymapping/add/?category=" in body


def test_legend_lists_every_code_with_an_anchor(staff_client):
    body = staff_client.get(reverse("staff:legend")).content.decode()
    for code in (1000, 1010, 2000, 2040, 4000, 4040, 4220, 4260, 5000, 5080, 5120, 5130):
        assert f'id="code-{code}"' in body


# --- Actions: confirmed, effective, audited ------------------------------------------------------


def test_an_action_asks_first_and_does_nothing_on_get(staff_client):
    company, _ = failing_company()
    url = reverse("staff:company-action", args=[company.pk, "retry-failed"])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Retry failed?" in response.content.decode()
    assert Transaction.objects.filter(company=company, status=Status.FAILED).count() == 2
    # A POST without the confirmation changes nothing either.
    assert staff_client.post(url, {}).status_code == 400
    assert Transaction.objects.filter(company=company, status=Status.FAILED).count() == 2


def test_retry_failed_sends_them_back_and_is_audited(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.syncs import tasks

    queued = []
    monkeypatch.setattr(tasks.preflight_company, "delay", queued.append)
    company, _ = failing_company()
    url = reverse("staff:company-action", args=[company.pk, "retry-failed"])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert Transaction.objects.filter(company=company, status=Status.READY).count() == 2
    assert queued == [company.pk]
    event = AuditEvent.objects.get(action="staff.retry_failed")
    assert (event.actor_label, event.company) == ("sam", company)
    assert event.changes == {"transactions": {"before": None, "after": 2}}


def test_poll_now_and_resend_receipts(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.syncs import tasks

    followed, uploads = [], []
    monkeypatch.setattr(tasks.follow_sync, "delay", followed.append)
    monkeypatch.setattr(tasks.upload_receipts, "delay", uploads.append)
    company, _ = failing_company()
    open_sync = make_sync(company, send_state=Sync.SendState.ACCEPTED)
    txn = make_transaction(company, status=Status.COMPLETED)
    make_receipt(txn, upload_status=Receipt.UploadStatus.FAILED, error="timeout")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("staff:company-action", args=[company.pk, "poll-now"]), {"confirm": "on"}
        )
        staff_client.post(
            reverse("staff:company-action", args=[company.pk, "resend-receipts"]),
            {"confirm": "on"},
        )
    assert followed == [open_sync.pk]
    assert uploads == [str(txn.pk)]
    assert Receipt.objects.get().upload_status == Receipt.UploadStatus.PENDING
    actions = set(AuditEvent.objects.values_list("action", "actor_label"))
    assert {("staff.poll_now", "sam"), ("staff.resend_receipts", "sam")} <= actions


def test_refresh_ledger_asks_for_a_read(staff_client, monkeypatch):
    from integrations.ledger import services as ledger_services

    monkeypatch.setattr(ledger_services, "_enqueue", lambda *a, **k: None)
    company, _ = failing_company()
    staff_client.post(
        reverse("staff:company-action", args=[company.pk, "refresh-ledger"]), {"confirm": "on"}
    )
    assert company.ledger_reads.filter(reason="manual").exists()
    assert AuditEvent.objects.filter(action="staff.refresh_ledger", actor_label="sam").exists()


def test_unlink_with_nothing_linked_says_so(staff_client):
    company = make_company("Never Connected")
    response = staff_client.post(
        reverse("staff:company-action", args=[company.pk, "unlink"]), {"confirm": "on"}, follow=True
    )
    assert "There is no accounting software connected." in response.content.decode()


def test_cluster_retry_all_retries_every_affected_company(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.syncs import tasks

    queued = []
    monkeypatch.setattr(tasks.preflight_company, "delay", queued.append)
    a, _ = failing_company("A Ltd", account="1")
    b, _ = failing_company("B Ltd", account="2")
    cluster = ErrorCluster.objects.get()
    assert (cluster.companies_count, cluster.transactions_count) == (2, 4)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("staff:cluster-action", args=[cluster.pk, "retry"]), {"confirm": "on"}
        )
    assert sorted(queued) == sorted([a.pk, b.pk])
    assert not Transaction.objects.filter(status=Status.FAILED).exists()
    event = AuditEvent.objects.get(action="staff.cluster_retry")
    assert event.actor_label == "sam"
    assert event.changes["transactions"]["after"] == 4


def test_unknown_action_is_404(staff_client):
    company, _ = failing_company()
    assert staff_client.get(f"/staff/companies/{company.pk}/explode/").status_code == 404


def test_summary_row_exists_for_every_company_after_rebuild():
    make_company()
    failing_company()
    health.rebuild_all()
    assert CompanyHealth.objects.count() == Company.objects.count()
