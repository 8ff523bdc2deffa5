"""The ledger read's state machine: one open read per company, claimed steps, the poll
fallback, the sweeper and the schedule. Codat is a stand-in here; the sandbox tests in
tests/integration/test_ledger_connect_refresh.py cover the same steps over HTTP."""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.codat.errors import CodatTransientError
from integrations.ledger import services, upsert
from integrations.ledger.models import (
    CompanyConfiguration,
    LedgerAccount,
    LedgerRead,
    Supplier,
    TrackingCategory,
)
from tests.models.factories import make_company, make_connection

from .conftest import REFUSED, TRANSIENT, FakeCodat, all_complete, ledger_of

pytestmark = pytest.mark.django_db

Status = LedgerRead.Status


@pytest.fixture
def company():
    company = make_company(codat_company_id=uuid.uuid4())
    make_connection(company)
    return company


def test_a_second_request_gets_the_open_read(company, fake_codat, enqueued):
    first = services.request_refresh(company)
    assert services.request_refresh(company) == first
    assert LedgerRead.objects.filter(company=company).count() == 1


def test_the_database_refuses_two_open_reads(company):
    LedgerRead.objects.create(company=company, reason="schedule")
    with pytest.raises(IntegrityError):
        LedgerRead.objects.create(company=company, reason="manual", status=Status.READING)


def test_a_step_is_run_once(company, fake_codat, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        read = services.request_refresh(company)
        assert services.start_read(read.pk)
        assert not services.start_read(read.pk)
    assert fake_codat.calls == ["refresh_all_data_types"]
    read.refresh_from_db()
    assert read.status == Status.READING and read.asked_at and read.lease_until is None
    assert enqueued == [("start_read", (read.pk,)), ("check_read", (read.pk,))]


def test_a_transient_error_frees_the_step_for_a_retry(company, fake_codat, enqueued):
    read = services.request_refresh(company)
    fake_codat.fail_with = TRANSIENT
    with pytest.raises(CodatTransientError):
        services.start_read(read.pk)
    read.refresh_from_db()
    assert (read.status, read.lease_until, read.attempts) == (Status.REQUESTED, None, 1)
    fake_codat.fail_with = None
    assert services.start_read(read.pk)


def test_a_refusal_fails_the_read_visibly(company, fake_codat, enqueued):
    read = services.request_refresh(company)
    fake_codat.fail_with = REFUSED
    with pytest.raises(type(REFUSED)):
        services.start_read(read.pk)
    read.refresh_from_db()
    assert read.status == Status.FAILED and "Codat refused" in read.error


def test_a_killed_worker_is_taken_over_after_its_lease(
    company, fake_codat, enqueued, django_capture_on_commit_callbacks
):
    read = services.request_refresh(company)
    # A worker claims the step and dies before finishing it.
    assert services._claim(read.pk, Status.REQUESTED) is not None
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_reads() == 0, "a live lease is left alone"
        later = timezone.now() + services.LEASE + timedelta(seconds=1)
        assert services.sweep_reads(later) == 1
    assert enqueued == [("start_read", (read.pk,))]


def test_the_sweeper_gives_up_after_bounded_attempts(company):
    read = LedgerRead.objects.create(
        company=company, reason="schedule", attempts=services.MAX_ATTEMPTS
    )
    services.sweep_reads()
    read.refresh_from_db()
    assert read.status == Status.FAILED and "Gave up" in read.error


def test_polling_waits_for_pulls_that_started_after_the_request(company, fake_codat, enqueued):
    read = services.await_initial_read(company)
    fake_codat.data_status = all_complete(read.asked_at - timedelta(hours=1))
    assert not services.check_read(read.pk), "an old Complete is not our read"
    read.refresh_from_db()
    assert read.checks == 1 and read.next_check_at > read.asked_at
    fake_codat.data_status = all_complete(read.asked_at)
    assert services.check_read(read.pk)
    read.refresh_from_db()
    assert read.status == Status.IMPORTING


def test_a_read_that_never_finishes_times_out(company, fake_codat, enqueued, settings):
    read = services.await_initial_read(company)
    LedgerRead.objects.filter(pk=read.pk).update(
        asked_at=timezone.now() - timedelta(minutes=settings.LEDGER_READ_TIMEOUT_MINUTES + 1)
    )
    assert services.check_read(read.pk)
    read.refresh_from_db()
    assert read.status == Status.FAILED and "did not finish" in read.error


def test_codats_own_read_with_changes_is_imported(company, enqueued):
    event = SimpleNamespace(
        company=None,
        data={
            "referenceCompany": {"id": str(company.codat_company_id)},
            "dataTypes": [{"dataType": "suppliers", "recordsModified": True, "status": "Complete"}],
        },
    )
    services.on_read_completed(event)
    read = LedgerRead.objects.get(company=company)
    assert (read.status, read.reason) == (Status.IMPORTING, LedgerRead.Reason.CODAT)


@pytest.mark.parametrize(
    "payload",
    [
        {"dataTypes": [{"dataType": "suppliers", "recordsModified": False}]},
        {"dataTypes": [{"dataType": "invoices", "recordsModified": True}]},
        {"referenceCompany": {"id": "not-a-uuid"}},
    ],
)
def test_read_completed_without_news_for_us_does_nothing(company, enqueued, payload):
    payload = {"referenceCompany": {"id": str(company.codat_company_id)}} | payload
    services.on_read_completed(SimpleNamespace(company=None, data=payload))
    assert not LedgerRead.objects.exists()


def test_the_schedule_opens_reads_only_for_due_linked_companies(enqueued):
    due = make_company(codat_company_id=uuid.uuid4())
    make_connection(due)
    fresh = make_company(codat_company_id=uuid.uuid4())
    make_connection(fresh)
    LedgerRead.objects.create(company=fresh, reason="schedule", status=Status.DONE)
    busy = make_company(codat_company_id=uuid.uuid4())
    make_connection(busy)
    LedgerRead.objects.create(company=busy, reason="manual")
    unlinked = make_company(codat_company_id=uuid.uuid4())
    make_connection(unlinked, status="Unlinked")

    assert services.refresh_due_ledgers() == 1
    assert set(
        LedgerRead.objects.filter(status=Status.REQUESTED).values_list("company", flat=True)
    ) == {
        due.pk,
        busy.pk,
    }
    assert services.refresh_due_ledgers() == 0, "the opened read is not opened twice"


# --- The import -------------------------------------------------------------------------------


def _import(company, size):
    upsert.import_ledger(FakeCodat(ledger_of(size)), company, stamp=timezone.now())


def test_the_import_costs_the_same_queries_for_a_small_and_a_large_ledger(company):
    with CaptureQueriesContext(db_connection) as small:
        _import(company, 5)
    other = make_company(codat_company_id=uuid.uuid4())
    with CaptureQueriesContext(db_connection) as large:
        _import(other, 450)
    # Only the tree's parent update differs with the number of children that moved: it is
    # one UPDATE per batch either way.
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_import_query_count_is_pinned(company, django_assert_max_num_queries):
    # Per kind of record: one upsert per batch of 500 and one "mark the missing" UPDATE; plus
    # the tracking tree, company info, the configuration and the per-type summary.
    with django_assert_max_num_queries(28):
        _import(company, 400)
    with django_assert_max_num_queries(28):
        _import(company, 400)  # the second run updates in place


def test_the_import_is_idempotent_and_marks_what_disappeared(company):
    _import(company, 4)
    ids = set(LedgerAccount.objects.values_list("pk", flat=True))
    _import(company, 4)
    assert set(LedgerAccount.objects.values_list("pk", flat=True)) == ids
    assert TrackingCategory.objects.get(codat_id="D1").parent.codat_id == "DEPT"

    _import(company, 2)  # A2, A3, C2, C3 … are gone from the ledger
    assert LedgerAccount.objects.filter(company=company).count() == 5
    gone = LedgerAccount.objects.get(codat_id="A3")
    assert gone.missing_since is not None and not gone.is_usable
    assert Supplier.objects.get(codat_id="C3").missing_since is not None
    assert LedgerAccount.objects.get(codat_id="A1").missing_since is None

    _import(company, 4)  # …and back
    assert LedgerAccount.objects.get(codat_id="A3").missing_since is None


def test_the_configuration_follows_codat(company):
    _import(company, 2)
    configuration = CompanyConfiguration.objects.get(company=company)
    assert configuration.default_bank_account.codat_id == "BANK"
    assert configuration.default_supplier.codat_id == "C0"
    assert configuration.default_customer.codat_id == "C0"
    assert configuration.is_complete


def test_beat_runs_the_ledger_refresh():
    from expenses_portal.celery import app
    from integrations.ledger import tasks

    assert app.conf.beat_schedule["ledger-refresh"]["task"] == tasks.refresh_due_ledgers.name
