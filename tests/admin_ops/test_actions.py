"""The admin's actions for operators: each one's effect, and its audit record naming who."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.companies.models import AuditEvent
from integrations.syncs.models import ErrorCluster, ErrorClusterMember, Sync
from integrations.syncs.services import operator
from integrations.transactions.models import Transaction
from tests.models.factories import make_company, make_sync, make_transaction

pytestmark = pytest.mark.django_db

FAILED = {
    "status": "failed",
    "attention_code": "rejected_by_ledger",
    "needs_attention_reason": "Account 4031 is archived.",
    "attention_screen": "ledger",
}


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def act(client, model, action, objs, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objs], "index": "0"}
    return client.post(changelist(model), data | extra)


@pytest.fixture
def company():
    return make_company("Acme Coffee Ltd")


def test_retry_push_puts_failed_rows_back_to_ready_and_asks_for_a_preflight(
    admin_client, admin_user, company
):
    failed = make_transaction(company, **FAILED)
    completed = make_transaction(company, status="completed")
    with mock.patch.object(operator.tasks, "enqueue_preflight") as preflight:
        response = act(admin_client, Transaction, "retry_failed", [failed, completed])
    assert response.status_code == 302

    failed.refresh_from_db()
    assert (failed.status, failed.attention_code, failed.needs_attention_reason) == (
        "ready",
        "",
        "",
    )
    completed.refresh_from_db()
    assert completed.status == "completed"
    preflight.assert_called_once_with(company.pk)

    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_label, event.action) == (
        admin_user,
        admin_user.username,
        "transaction.retry",
    )
    assert (event.company, event.object_id) == (company, str(failed.pk))
    assert event.changes == {"status": {"before": "failed", "after": "ready"}}


def test_mark_handled_outside_asks_for_a_reason_first(admin_client, company):
    failed = make_transaction(company, **FAILED)
    response = act(admin_client, Transaction, "mark_handled_outside", [failed])
    assert response.status_code == 200
    assert b"Mark handled outside the portal" in response.content

    # No reason: the form says so and nothing changes.
    response = act(admin_client, Transaction, "mark_handled_outside", [failed], apply="1")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert not AuditEvent.objects.exists()


def test_mark_handled_outside_makes_rows_final_with_the_reason(admin_client, admin_user, company):
    failed = make_transaction(company, **FAILED)
    ready = make_transaction(company, status="ready")
    syncing = make_transaction(company, status="syncing")
    reason = "Entered in Xero by hand on 3 March"
    response = act(
        admin_client,
        Transaction,
        "mark_handled_outside",
        [failed, ready, syncing],
        apply="1",
        reason=reason,
    )
    assert response.status_code == 302

    for txn in (failed, ready):
        txn.refresh_from_db()
        assert (txn.status, txn.handled_reason, txn.attention_code) == ("handled", reason, "")
        assert txn.plain_status == Transaction.PlainStatus.HANDLED_OUTSIDE
        assert txn.plain_status.label == "Handled outside the portal"
    syncing.refresh_from_db()
    assert syncing.status == "syncing"  # in flight: left alone

    events = AuditEvent.objects.filter(action="transaction.handled_outside")
    assert {e.object_id for e in events} == {str(failed.pk), str(ready.pk)}
    assert {e.actor for e in events} == {admin_user}
    before = {e.object_id: e.changes["status"]["before"] for e in events}
    assert before == {str(failed.pk): "failed", str(ready.pk): "ready"}
    assert all(e.changes["handled_reason"]["after"] == reason for e in events)


def test_handled_rows_are_filtered_as_their_own_plain_status(company):
    make_transaction(company, status="handled", handled_reason="Written off")
    make_transaction(company, status="failed", **{k: v for k, v in FAILED.items() if k != "status"})
    rows = Transaction.objects.with_receipt_state().filter(
        Transaction.plain_status_filter(Transaction.PlainStatus.HANDLED_OUTSIDE)
    )
    assert [t.status for t in rows] == ["handled"]


def test_poll_now_queues_open_syncs_only(
    admin_client, admin_user, company, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(hours=1)
    open_sync = make_sync(company, send_state="accepted", next_attempt_at=later)
    finished = make_sync(company, send_state="accepted", status_code=2000, next_attempt_at=None)
    with (
        mock.patch.object(operator.tasks.follow_sync, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(admin_client, Sync, "poll_now", [open_sync, finished])
    assert response.status_code == 302
    delay.assert_called_once_with(open_sync.pk)

    open_sync.refresh_from_db()
    assert open_sync.next_attempt_at <= timezone.now()
    finished.refresh_from_db()
    assert finished.next_attempt_at is None
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_id) == (
        "sync.poll_now",
        admin_user,
        str(open_sync.pk),
    )


def make_cluster(company, txn):
    cluster = ErrorCluster.objects.create(
        key="k", status_code=5130, item_status="PushError", pattern="Account <n> is archived."
    )
    ErrorClusterMember.objects.create(cluster=cluster, transaction=txn, company=company)
    return cluster


def test_resolving_a_cluster_closes_its_open_members(admin_client, admin_user, company):
    txn = make_transaction(company, **FAILED)
    cluster = make_cluster(company, txn)
    response = act(admin_client, ErrorCluster, "resolve", [cluster])
    assert response.status_code == 302

    cluster.refresh_from_db()
    assert (cluster.state, cluster.transactions_count) == ("resolved", 0)
    assert cluster.resolved_at is not None
    assert not ErrorClusterMember.objects.filter(resolved_at__isnull=True).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_id) == (
        "cluster.resolve",
        admin_user,
        str(cluster.pk),
    )
    assert event.changes == {"state": {"before": "open", "after": "resolved"}}


def test_retry_all_in_a_cluster_retries_its_failed_transactions(admin_client, company):
    txn = make_transaction(company, **FAILED)
    other = make_transaction(company, **FAILED)  # failed, but in no cluster
    cluster = make_cluster(company, txn)
    with mock.patch.object(operator.tasks, "enqueue_preflight"):
        response = act(admin_client, ErrorCluster, "retry_all", [cluster])
    assert response.status_code == 302
    txn.refresh_from_db()
    other.refresh_from_db()
    assert (txn.status, other.status) == ("ready", "failed")
    assert AuditEvent.objects.get().action == "transaction.retry"


def test_a_view_only_operator_cannot_retry(client, company):
    from django.contrib.auth.models import Permission

    from tests.models.factories import make_user

    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_transaction"))
    client.force_login(viewer)
    failed = make_transaction(company, **FAILED)
    act(client, Transaction, "retry_failed", [failed])
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_setting_handled_by_hand_without_a_reason_is_a_form_error_not_a_crash(admin_client):
    txn = make_transaction(**FAILED)
    url = reverse("admin:transactions_transaction_change", args=[txn.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data |= {
        "company": txn.company_id,
        "status": "handled",
        "receipts-TOTAL_FORMS": "0",
        "receipts-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Say how it was handled outside the portal." in str(
        response.context["adminform"].form.errors
    )
    txn.refresh_from_db()
    assert txn.status == "failed"


def test_settling_by_hand_resolves_the_cluster_and_refreshes_the_summary(
    company, admin_user, django_capture_on_commit_callbacks
):
    from integrations.syncs.models import CompanyHealth

    txn = make_transaction(company, **FAILED)
    cluster = make_cluster(company, txn)
    with django_capture_on_commit_callbacks(execute=True):
        operator.mark_handled_outside(
            Transaction.objects.filter(pk=txn.pk), reason="Written off", actor=admin_user
        )
    cluster.refresh_from_db()
    assert cluster.state == "resolved"
    assert CompanyHealth.objects.filter(company=company).exists()
