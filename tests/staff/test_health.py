"""Sync health summaries: the score, the normaliser, and staying right as syncs finish."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.companies.models import Company, Connection
from integrations.syncs.models import (
    CompanyHealth,
    ErrorCluster,
    ErrorClusterMember,
    Sync,
    SyncHour,
    SyncTransaction,
)
from integrations.syncs.services import follow, health
from integrations.transactions.models import Transaction
from tests.models.factories import make_company, make_connection, make_sync, make_transaction

Status = Transaction.Status


# --- The normaliser (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "pattern"),
    [
        (
            "Account '7400' is archived and cannot be used.",
            "Account '<value>' is archived and cannot be used",
        ),
        ('Supplier "Acme Ltd" was not found', "Supplier '<value>' was not found"),
        (
            "Supplier 8f14e45f-ceea-467f-a8f8-5d6c5f2f6b21 not found",
            "Supplier <id> not found",
        ),
        (
            "The issue date 2026-03-14 is on or before the ledger lock date 2026-03-31.",
            "The issue date <date> is on or before the ledger lock date <date>",
        ),
        (
            "Amount GBP 1,234.50 is over the limit of 1000",
            "Amount <amount> is over the limit of <n>",
        ),
        ("Amount £12.50 refused", "Amount <amount> refused"),
        ("Record 5f3a9c0d2e7b41aa99 rejected for ref INV-2041", "Record <id> rejected for ref <n>"),
        ("Contact bob@example.com is inactive", "Contact <email> is inactive"),
        (
            "Bank account 12 has currency GBP, which does not match the transaction (EUR)",
            "Bank account <n> has currency <currency>, which does not match the transaction "
            "(<currency>)",
        ),
        ("", "(no message)"),
    ],
)
def test_normalise_message_takes_out_what_differs(message, pattern):
    assert health.normalise_message(message) == pattern


def test_two_customers_with_one_cause_share_a_key():
    a = health.normalise_message("Account '7400' is archived and cannot be used.")
    b = health.normalise_message("Account '310-2' is archived and cannot be used.")
    assert health.cluster_key(5130, "PushError", a) == health.cluster_key(5130, "PushError", b)
    assert health.cluster_key(4000, "PushError", a) != health.cluster_key(5130, "PushError", a)


# --- The score (pure) ---------------------------------------------------------------------------


def _score(**overrides):
    now = timezone.now()
    values = {
        "connection_status": Connection.Status.LINKED,
        "health": Company.Health.OK,
        "stuck": False,
        "last_success_at": now - timedelta(minutes=5),
        "syncs_7d": 10,
        "failed_syncs_7d": 0,
        "oldest_waiting_at": None,
        "failed_count": 0,
        "unmapped_categories": 0,
        "receipts_failing": 0,
        "now": now,
    }
    values.update(overrides)
    return health.health_score(**values)


def test_the_score_orders_companies_by_urgency():
    now = timezone.now()
    healthy = _score()
    unmapped = _score(unmapped_categories=2)
    failing = _score(health=Company.Health.FAILING, failed_syncs_7d=5, failed_count=3)
    deauthorised = _score(
        connection_status=Connection.Status.DEAUTHORIZED,
        health=Company.Health.NEEDS_AUTH,
        oldest_waiting_at=now - timedelta(days=3),
    )
    assert healthy == 0
    assert healthy < unmapped < failing < deauthorised <= 100


def test_the_score_stays_within_0_and_100():
    now = timezone.now()
    worst = _score(
        connection_status=Connection.Status.DEAUTHORIZED,
        health=Company.Health.FAILING,
        stuck=True,
        last_success_at=now - timedelta(days=30),
        failed_syncs_7d=10,
        oldest_waiting_at=now - timedelta(days=30),
        failed_count=50,
        unmapped_categories=40,
        receipts_failing=40,
    )
    assert worst == 100


# --- Summaries as syncs finish ------------------------------------------------------------------


class FakeCodat:
    """The two reads following a sync makes: its status and its transactions' statuses."""

    def __init__(self, code, statuses):
        self.code, self.statuses = code, statuses

    def get_sync(self, company_id, sync_id):
        return {"syncStatusCode": self.code, "syncStatus": "Done", "dataPushed": self.code == 2000}

    def list_sync_transactions(self, *args, **kwargs):
        raise AssertionError("read through paginate")

    def paginate(self, list_page, *args, **kwargs):
        return iter(self.statuses)


def _company_sending(n=2, **company_fields):
    company = make_company(codat_company_id=uuid.uuid4(), **company_fields)
    make_connection(company)
    txns = [make_transaction(company, status=Status.SYNCING) for _ in range(n)]
    sync = make_sync(
        company,
        send_state=Sync.SendState.ACCEPTED,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        total_count=n,
    )
    for txn in txns:
        SyncTransaction.objects.create(sync=sync, transaction=txn)
    return company, txns, sync


def _finish(sync, code, statuses, capture):
    with capture(execute=True):
        follow.follow_sync(sync.pk, client=FakeCodat(code, statuses))


def _failed(txn, account):
    return {
        "transactionId": str(txn.pk),
        "status": "PushError",
        "message": f"Account '{account}' is archived and cannot be used.",
    }


def _completed(txn):
    return {"transactionId": str(txn.pk), "status": "Completed", "message": f"rec-{txn.pk}"}


@pytest.mark.django_db
def test_a_failed_sync_files_a_cluster_and_marks_the_company_failing(
    django_capture_on_commit_callbacks,
):
    company, txns, sync = _company_sending(2)
    _finish(
        sync,
        5130,
        [_failed(txns[0], "7400"), _failed(txns[1], "7410")],
        django_capture_on_commit_callbacks,
    )

    row = CompanyHealth.objects.get(company=company)
    assert row.health == Company.Health.FAILING
    assert (row.failed_count, row.waiting_count, row.last_failure_code) == (2, 2, 5130)
    assert row.failed_syncs_7d == row.syncs_7d == 1
    assert row.score > 0
    cluster = ErrorCluster.objects.get()
    assert cluster.status_code == 5130
    assert cluster.pattern == "Account '<value>' is archived and cannot be used"
    assert (cluster.state, cluster.transactions_count, cluster.companies_count) == ("open", 2, 1)
    assert SyncHour.objects.get().outcome == SyncHour.Outcome.FAILED


@pytest.mark.django_db
def test_one_cause_across_customers_is_one_cluster(django_capture_on_commit_callbacks):
    for account in ("7400", "8100"):
        _, txns, sync = _company_sending(1)
        _finish(sync, 5130, [_failed(txns[0], account)], django_capture_on_commit_callbacks)
    cluster = ErrorCluster.objects.get()
    assert (cluster.transactions_count, cluster.companies_count) == (2, 2)


@pytest.mark.django_db
def test_a_cluster_resolves_itself_when_its_transactions_are_synced(
    django_capture_on_commit_callbacks,
):
    company, txns, sync = _company_sending(2)
    _finish(sync, 5130, [_failed(t, "7400") for t in txns], django_capture_on_commit_callbacks)
    cluster = ErrorCluster.objects.get()

    # The fix, then a retry that carries the first transaction only: still open.
    Transaction.objects.filter(pk__in=[t.pk for t in txns]).update(status=Status.SYNCING)
    retry = make_sync(
        company,
        send_state=Sync.SendState.ACCEPTED,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        total_count=1,
    )
    SyncTransaction.objects.create(sync=retry, transaction=txns[0])
    _finish(retry, 2000, [_completed(txns[0])], django_capture_on_commit_callbacks)
    cluster.refresh_from_db()
    assert (cluster.state, cluster.transactions_count) == ("open", 1)

    last = make_sync(
        company,
        send_state=Sync.SendState.ACCEPTED,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        total_count=1,
    )
    SyncTransaction.objects.create(sync=last, transaction=txns[1])
    _finish(last, 2000, [_completed(txns[1])], django_capture_on_commit_callbacks)
    cluster.refresh_from_db()
    assert (cluster.state, cluster.transactions_count, cluster.total_transactions) == (
        "resolved",
        0,
        2,
    )
    assert cluster.resolved_at is not None
    row = CompanyHealth.objects.get(company=company)
    assert (row.health, row.failed_count, row.waiting_count) == ("ok", 0, 0)
    assert row.last_success_at is not None
    assert dict(SyncHour.objects.values_list("outcome", "count")) == {"failed": 1, "success": 2}


@pytest.mark.django_db
def test_previously_processed_is_not_a_failure():
    _, txns, sync = _company_sending(1)
    message = f"One or more transactions have previously been processed: {txns[0].pk}"
    SyncTransaction.objects.filter(sync=sync).update(status="ValidationError", message=message)
    assert health.file_failures(Sync.objects.get(pk=sync.pk)) == set()
    assert not ErrorCluster.objects.exists()


@pytest.mark.django_db
def test_a_new_failure_with_another_cause_moves_the_transaction(
    django_capture_on_commit_callbacks,
):
    company, txns, sync = _company_sending(1)
    _finish(sync, 5130, [_failed(txns[0], "7400")], django_capture_on_commit_callbacks)
    Transaction.objects.filter(pk=txns[0].pk).update(status=Status.SYNCING)
    again = make_sync(
        company,
        send_state=Sync.SendState.ACCEPTED,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        total_count=1,
    )
    SyncTransaction.objects.create(sync=again, transaction=txns[0])
    locked = {
        "transactionId": str(txns[0].pk),
        "status": "PushError",
        "message": "The issue date 2026-01-02 is on or before the ledger lock date 2026-01-31.",
    }
    _finish(again, 5130, [locked], django_capture_on_commit_callbacks)
    states = dict(ErrorCluster.objects.values_list("pattern", "state"))
    assert states == {
        "Account '<value>' is archived and cannot be used": "resolved",
        "The issue date <date> is on or before the ledger lock date <date>": "open",
    }
    # rebuild_all, from the rows alone, comes to the same.
    ErrorCluster.objects.all().delete()
    health.rebuild_all()
    assert dict(ErrorCluster.objects.values_list("pattern", "state")) == states


@pytest.mark.django_db
def test_rebuild_all_matches_what_the_hooks_kept(django_capture_on_commit_callbacks):
    _, txns, sync = _company_sending(2)
    _finish(
        sync, 5130, [_failed(txns[0], "1"), _completed(txns[1])], django_capture_on_commit_callbacks
    )
    make_company()  # never connected, never synced
    kept = {
        r.company_id: (r.health, r.score, r.failed_count, r.waiting_count)
        for r in CompanyHealth.objects.all()
    }
    clusters = list(ErrorCluster.objects.values_list("key", "state", "transactions_count"))
    hours = list(SyncHour.objects.values_list("hour", "outcome", "count"))

    CompanyHealth.objects.all().delete()
    ErrorCluster.objects.all().delete()
    SyncHour.objects.all().delete()
    assert health.rebuild_all() == 2

    rebuilt = {
        r.company_id: (r.health, r.score, r.failed_count, r.waiting_count)
        for r in CompanyHealth.objects.all()
    }
    assert {k: v for k, v in rebuilt.items() if k in kept} == kept
    assert len(rebuilt) == 2
    assert list(ErrorCluster.objects.values_list("key", "state", "transactions_count")) == clusters
    assert list(SyncHour.objects.values_list("hour", "outcome", "count")) == hours


@pytest.mark.django_db
def test_repair_heals_a_missed_hook():
    company, txns, sync = _company_sending(1)
    # The pipeline moved without the hook (a crash between its commit and ours).
    now = timezone.now()
    Sync.objects.filter(pk=sync.pk).update(status_code=5130, completed_at=now)
    SyncTransaction.objects.filter(sync=sync).update(status="PushError", message="Boom 42")
    Transaction.objects.filter(pk=txns[0].pk).update(status=Status.FAILED, status_changed_at=now)
    ErrorClusterMember.objects.all().delete()

    health.repair()
    row = CompanyHealth.objects.get(company=company)
    assert (row.health, row.failed_count) == ("failing", 1)
    assert SyncHour.objects.get().count == 1


@pytest.mark.django_db
def test_overview_figures_come_from_the_summaries(django_capture_on_commit_callbacks):
    _, txns, sync = _company_sending(1)
    _finish(sync, 2000, [_completed(txns[0])], django_capture_on_commit_callbacks)
    _, txns, sync = _company_sending(1)
    _finish(sync, 5130, [_failed(txns[0], "1")], django_capture_on_commit_callbacks)
    totals = health.totals()
    assert (totals.companies, totals.connected, totals.failing, totals.waiting) == (2, 2, 1, 1)
    rates = health.success_rates()
    assert (rates.day, rates.week, rates.day_total) == (0.5, 0.5, 2)
    days = health.syncs_per_day(14)
    assert len(days) == 14 and days[-1]["success"] == 1 and days[-1]["failed"] == 1
