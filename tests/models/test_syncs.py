import uuid

import pytest
from django.db import IntegrityError, transaction

from integrations.syncs.models import Sync, SyncTransaction, WebhookEvent, WriteOperation

from .factories import make_company, make_connection, make_sync, make_transaction

pytestmark = pytest.mark.django_db

# (code, terminal, success): every code codat-api.md 4.7 lists, plus unlisted ones that must
# still be classified by their leading digit.
CODES = [
    (None, False, False),
    (1000, False, False),
    (1010, False, False),
    (2000, True, True),
    (2040, True, True),
    (4000, True, False),
    (4040, True, False),
    (4220, True, False),
    (4260, True, False),
    (5000, True, False),
    (5080, True, False),
    (5120, True, False),
    (5130, True, False),
    (1500, False, False),
    (2999, True, True),
    (4999, True, False),
]


@pytest.mark.parametrize(("code", "terminal", "success"), CODES)
def test_it_classifies_sync_status_codes(code, terminal, success):
    sync = Sync(status_code=code)
    assert sync.is_terminal is terminal
    assert sync.is_success is success
    assert sync.is_failure is (terminal and not success)


def test_it_lists_every_documented_code():
    assert sorted(Sync.StatusCode.values) == [
        1000,
        1010,
        2000,
        2040,
        4000,
        4040,
        4220,
        4260,
        5000,
        5080,
        5120,
        5130,
    ]


def test_it_flags_long_running_and_duplicate_syncs():
    assert Sync(status_code=1010).is_long_running
    assert not Sync(status_code=1000).is_long_running
    assert Sync(status_code=5080).is_duplicate
    assert not Sync(status_code=5130).is_duplicate


def test_it_labels_known_unknown_and_unacknowledged_codes():
    assert Sync(status_code=5080).status_label == "Duplication protection"
    assert Sync(status_code=5999).status_label == "Code 5999"
    assert Sync(status_code=None).status_label == "Sending"
    assert Sync(status_code=None, send_state="unknown").status_label == "Outcome unknown"


def test_it_finds_open_syncs():
    company = make_company()
    requested = make_sync(company, codat_sync_id=None, status_code=None)
    running = make_sync(company, status_code=1000)
    stuck = make_sync(company, status_code=1010)
    make_sync(company, status_code=2000)
    make_sync(company, status_code=5130)
    refused = make_sync(company, codat_sync_id=None, status_code=None, send_state="rejected")
    assert set(Sync.objects.open()) == {requested, running, stuck}
    assert refused.is_terminal and not requested.is_terminal
    assert Sync.objects.finished().count() == 2


def test_it_only_takes_a_status_for_a_sync_codat_has_named():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_sync(codat_sync_id=None, status_code=1000)


def test_it_keeps_counts_within_the_total():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_sync(total_count=2, completed_count=2, failed_count=1)
    make_sync(total_count=3, completed_count=2, failed_count=1)


def test_it_rejects_a_duplicate_sync_id_or_idempotency_key():
    sync = make_sync()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_sync(codat_sync_id=sync.codat_sync_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_sync(idempotency_key=sync.idempotency_key)


def test_it_gives_each_sync_a_fresh_idempotency_key():
    assert make_sync().idempotency_key != make_sync().idempotency_key


def test_it_records_a_transaction_once_per_sync():
    txn = make_transaction()
    sync = make_sync(txn.company)
    SyncTransaction.objects.create(sync=sync, transaction=txn)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncTransaction.objects.create(sync=sync, transaction=txn)
    # A resend after a failure is a new sync and a new row.
    SyncTransaction.objects.create(sync=make_sync(txn.company), transaction=txn)
    assert txn.sync_items.count() == 2


def test_it_rejects_a_redelivered_webhook():
    WebhookEvent.objects.create(webhook_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", event_type="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(webhook_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", event_type="x")
    assert WebhookEvent.objects.count() == 1


def test_it_rejects_a_duplicate_push_operation_key():
    connection = make_connection()
    key = uuid.uuid4()
    fields = {"company": connection.company, "connection": connection, "data_type": "suppliers"}
    WriteOperation.objects.create(push_operation_key=key, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        WriteOperation.objects.create(push_operation_key=key, **fields)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [("Pending", False), ("Success", True), ("Failed", True), ("TimedOut", True)],
)
def test_it_knows_when_a_write_operation_is_finished(status, terminal):
    assert WriteOperation(status=status).is_terminal is terminal
