"""The transactions list, a transaction's page and receipt uploads, as a person uses them."""

import struct
import uuid
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from integrations.companies.models import Membership
from integrations.syncs.models import Sync, SyncTransaction
from integrations.syncs.services import manual
from integrations.transactions.models import Receipt, Transaction
from tests.models import factories

pytestmark = pytest.mark.django_db
Role = Membership.Role
Status = Transaction.Status
Screen = Transaction.Screen

BMP = (
    b"BM"
    + struct.pack("<IHHI", 58, 0, 0, 54)
    + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 2835, 2835, 0, 0)
    + b"\x00\x00\xff\x00"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def company():
    company = factories.make_company("Acme Coffee Ltd", codat_company_id=uuid.uuid4())
    factories.make_connection(company)  # QuickBooks Online, linked
    return company


def _member(company, role=Role.OWNER):
    user = factories.make_user()
    factories.make_membership(user, company, role)
    return user


@pytest.fixture
def owner_client(client, company):
    client.force_login(_member(company))
    return client


def _list(company, **params):
    return reverse("portal:transactions", args=[company.pk]), params


def get_list(client, company, **params):
    url, query = _list(company, **params)
    return client.get(url, query)


def _rows(response):
    return [str(t.pk) for t in response.context["page"].object_list]


# --- The list: filters, search, paging --------------------------------------------------------


def test_it_filters_by_status_kind_and_dates(owner_client, company):
    ready = factories.make_transaction(company, status=Status.READY, issue_date=date(2026, 3, 1))
    failed = factories.make_transaction(company, status=Status.FAILED, issue_date=date(2026, 3, 5))
    claim = factories.make_transaction(
        company, kind="reimbursable", expense_type="", issue_date=date(2026, 4, 1)
    )
    transfer = factories.make_transaction(
        company, kind="transfer", expense_type="", issue_date=date(2026, 4, 2)
    )
    assert _rows(get_list(owner_client, company, status="ready")) == [str(ready.pk)]
    assert _rows(get_list(owner_client, company, status="failed")) == [str(failed.pk)]
    assert _rows(get_list(owner_client, company, kind="reimbursable")) == [str(claim.pk)]
    assert _rows(get_list(owner_client, company, kind="transfer")) == [str(transfer.pk)]
    march = get_list(owner_client, company, date_from="2026-03-01", date_to="2026-03-31")
    assert set(_rows(march)) == {str(ready.pk), str(failed.pk)}


def test_a_bad_filter_is_reported_and_ignored(owner_client, company):
    factories.make_transaction(company)
    response = get_list(owner_client, company, date_from="2026-05-01", date_to="2026-04-01")
    assert b"The end date is before the start date." in response.content
    assert get_list(owner_client, company, status="nonsense").status_code == 200


@pytest.mark.parametrize(
    ("query", "hit"),
    [("bean", True), ("Roast beans", True), ("12.00", True), ("240.00", True), ("99.99", False)],
)
def test_it_searches_merchant_description_and_amount(owner_client, company, query, hit):
    txn = factories.make_transaction(
        company,
        merchant_name="Bean Bros Roasters",
        notes="Roast beans for the shop",
        net_amount=Decimal("240.00"),
        tax_amount=Decimal("0"),
    )
    other = factories.make_transaction(company, merchant_name="Pret A Manger")  # 10 + 2
    rows = _rows(get_list(owner_client, company, q=query))
    if query == "12.00":
        assert rows == [str(other.pk)]
    else:
        assert rows == ([str(txn.pk)] if hit else [])


def test_it_finds_a_transaction_by_its_id_or_the_start_of_it(owner_client, company):
    txn = factories.make_transaction(company)
    factories.make_transaction(company)
    assert _rows(get_list(owner_client, company, q=str(txn.pk))) == [str(txn.pk)]
    assert _rows(get_list(owner_client, company, q=txn.pk.hex[:8])) == [str(txn.pk)]


def test_filters_stay_in_the_query_string_of_chips_and_pages(owner_client, company):
    for _ in range(55):
        factories.make_transaction(company, status=Status.READY)
    response = get_list(owner_client, company, kind="expense", q="Pret")
    assert len(_rows(response)) == 50
    assert response.context["next_url"] == "?q=Pret&kind=expense&page=2"
    chip = next(c for c in response.context["chips"] if c["status"] == "ready")
    assert chip["url"] == "?q=Pret&kind=expense&status=ready"
    assert chip["count"] == 55
    second = get_list(owner_client, company, kind="expense", q="Pret", page=2)
    assert len(_rows(second)) == 5


@pytest.mark.parametrize("rows", [10, 500])
def test_the_list_costs_the_same_queries_at_10_and_500_rows(
    owner_client, company, rows, django_assert_num_queries
):
    factories.make_transaction(company)  # the session's company is remembered on first visit
    owner_client.get(reverse("portal:transactions", args=[company.pk]))
    Transaction.objects.bulk_create(
        [
            Transaction(
                company=company,
                merchant_name=f"Shop {n}",
                issue_date=date(2026, 1, 1 + n % 28),
                currency="GBP",
                status=[Status.READY, Status.COMPLETED, Status.FAILED][n % 3],
                expense_type="Payment",
            )
            for n in range(rows - 1)
        ]
    )
    # session, user, membership + company, the chips' counts (which the pager reuses), the
    # page's rows (with their categories), the connection (can sync?) and the layout's
    # company switcher.
    with django_assert_num_queries(7):
        response = owner_client.get(reverse("portal:transactions", args=[company.pk]))
    assert response.status_code == 200


# --- Each status in plain words, with its fix --------------------------------------------------


@pytest.mark.parametrize(
    ("screen", "route", "words"),
    [
        (Screen.CATEGORY_MAPPING, "portal:categories", "Map the category"),
        (Screen.CARD_MAPPING, "portal:accounts", "Choose the card&#x27;s account"),
        (Screen.COMPANY_DEFAULTS, "portal:accounts", "Set the defaults"),
        (Screen.CONNECTION, "portal:connection", "Open the connection"),
    ],
)
def test_needs_attention_says_why_and_links_to_the_page_that_fixes_it(
    owner_client, company, screen, route, words
):
    factories.make_transaction(
        company,
        status=Status.NEEDS_ATTENTION,
        **Transaction.attention(
            "category_not_mapped", "Travel is not mapped to an account.", screen
        ),
    )
    content = get_list(owner_client, company).content.decode()
    assert "Needs attention" in content
    assert "Travel is not mapped to an account." in content
    assert f'href="{reverse(route, args=[company.pk])}">{words}</a>' in content


def test_each_status_reads_in_plain_words(owner_client, company):
    factories.make_transaction(company, status=Status.READY)
    factories.make_transaction(company, status=Status.QUEUED)
    factories.make_transaction(company, status=Status.SYNCING)
    in_ledger = factories.make_transaction(
        company, status=Status.COMPLETED, ledger_record_id="purchase-00012345678901234567"
    )
    factories.make_receipt(in_ledger, upload_status=Receipt.UploadStatus.PENDING)
    missing = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="77")
    failed = factories.make_transaction(
        company,
        status=Status.FAILED,
        **Transaction.attention(
            "rejected_by_ledger",
            "A ledger record it uses is archived. The accounting software refused it: gone",
            Screen.TRANSACTION,
        ),
    )
    content = get_list(owner_client, company).content.decode()
    for words in ("Ready", "Queued", "Syncing", "In the ledger", "Receipt missing", "Failed"):
        assert f">{words}</span>" in content, words
    assert 'title="purchase-00012345678901234567"' in content  # the whole id, on one line
    assert "A ledger record it uses is archived." in content
    detail = reverse("portal:transaction", args=[company.pk, failed.pk])
    assert f'href="{detail}">Open the transaction</a>' in content
    receipts = reverse("portal:transaction", args=[company.pk, missing.pk]) + "#receipts"
    assert f'href="{receipts}">Add the receipt</a>' in content


def test_status_chips_count_each_status(owner_client, company):
    factories.make_transaction(company, status=Status.READY)
    factories.make_transaction(company, status=Status.READY)
    factories.make_transaction(company, status=Status.FAILED)
    chips = {
        c["status"].value: c["count"] for c in get_list(owner_client, company).context["chips"]
    }
    assert chips == {"ready": 2, "failed": 1}


def test_the_empty_states_say_what_to_do(owner_client, company):
    assert b"No transactions yet" in get_list(owner_client, company).content
    factories.make_transaction(company)
    assert b"Nothing matches these filters" in get_list(owner_client, company, q="zzz").content


# --- Sync now ----------------------------------------------------------------------------------


def _sync(client, company, **data):
    return client.post(reverse("portal:transactions-sync", args=[company.pk]), data, follow=True)


@pytest.fixture
def sync_now():
    result = manual.PreflightResult(queued=1, needs_attention=0)
    with mock.patch("integrations.portal.views.transactions.sync_now", return_value=result) as m:
        yield m


def test_sync_selected_sends_only_the_ticked_rows(owner_client, company, sync_now):
    chosen = factories.make_transaction(company, status=Status.READY)
    factories.make_transaction(company, status=Status.READY)
    response = _sync(owner_client, company, action="selected", ids=[chosen.pk], status="ready")
    assert sync_now.call_args.kwargs["transaction_ids"] == [chosen.pk]
    assert sync_now.call_args.kwargs["retry_failed"] is True
    assert b"1 transaction sent to the ledger" in response.content
    # Back to the list as it was filtered.
    assert response.redirect_chain[-1][0].endswith("?status=ready")


def test_sync_everything_ready(owner_client, company, sync_now):
    factories.make_transaction(company, status=Status.READY)
    _sync(owner_client, company, action="ready")
    assert sync_now.call_args.kwargs["transaction_ids"] is None
    assert sync_now.call_args.kwargs["retry_failed"] is False


def test_another_companys_ids_are_refused(owner_client, company, sync_now):
    theirs = factories.make_transaction(factories.make_company(), status=Status.READY)
    response = _sync(owner_client, company, action="selected", ids=[theirs.pk])
    assert not sync_now.called
    assert b"not this company" in response.content
    response = _sync(owner_client, company, action="selected", ids=["not-an-id"])
    assert not sync_now.called
    response = _sync(owner_client, company, action="selected")
    assert b"Tick the transactions to sync first." in response.content
    assert not sync_now.called


def test_sync_now_says_when_the_ledger_is_not_connected(client):
    company = factories.make_company()
    txn = factories.make_transaction(company, status=Status.READY)
    client.force_login(_member(company))
    response = _sync(client, company, action="selected", ids=[txn.pk])
    assert b"Connect your accounting software before syncing." in response.content
    # The list offers the connect page instead of the sync buttons.
    content = get_list(client, company).content.decode()
    assert reverse("portal:connect", args=[company.pk]) in content
    assert 'name="ids"' not in content


def test_retrying_makes_failed_rows_ready_for_pre_flight(company):
    failed = factories.make_transaction(company, status=Status.FAILED)
    untouched = factories.make_transaction(company, status=Status.FAILED)
    result = manual.PreflightResult(queued=1, needs_attention=0)
    with (
        mock.patch.object(manual, "preflight_company", return_value=result) as preflight,
        mock.patch.object(manual.tasks, "enqueue_push"),
    ):
        manual.sync_now(company, transaction_ids=[failed.pk], retry_failed=True)
    preflight.assert_called_once_with(company.pk, transaction_ids=[str(failed.pk)])
    failed.refresh_from_db()
    untouched.refresh_from_db()
    assert (failed.status, untouched.status) == (Status.READY, Status.FAILED)


def test_sync_now_runs_pre_flight_for_real(owner_client, company):
    # No category: pre-flight parks it with the reason and the page that fixes it.
    txn = factories.make_transaction(company, status=Status.READY)
    with mock.patch.object(manual.tasks, "enqueue_push") as push:
        response = _sync(owner_client, company, action="ready")
    txn.refresh_from_db()
    assert txn.status == Status.NEEDS_ATTENTION
    assert not push.called
    assert b"1 transaction needs attention first" in response.content
    assert escape(txn.needs_attention_reason) in response.content.decode()


# --- Live progress -----------------------------------------------------------------------------


def _poll(client, company, **params):
    url = reverse("portal:transactions", args=[company.pk])
    return client.get(url, params, headers={"HX-Request": "true", "HX-Target": "txn-rows"})


def test_the_rows_poll_while_something_moves_and_stop_after(owner_client, company):
    txn = factories.make_transaction(company, status=Status.QUEUED)
    page = get_list(owner_client, company, kind="expense").content.decode()
    assert 'hx-trigger="every 3s"' in page
    assert 'hx-get="?kind=expense"' in page  # the poll keeps the filters
    response = _poll(owner_client, company, kind="expense", ids=[str(txn.pk)])
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith('<div id="txn-rows"')
    assert (
        'aria-label="Filter by status" hx-swap-oob="true"' in body
    )  # the chips' counts come along
    assert 'id="sync-form" class="row sync-bar" hx-swap-oob="true"' in body  # and the buttons'
    assert '<input type="hidden" name="kind" value="expense">' in body
    assert "<html" not in body
    Transaction.objects.filter(pk=txn.pk).update(status=Status.COMPLETED, ledger_record_id="rec-1")
    response = _poll(owner_client, company, kind="expense")
    assert response.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in response.content.decode()
    assert "Receipt missing" in response.content.decode()


def test_a_poll_keeps_the_ticked_rows_ticked(owner_client, company):
    moving = factories.make_transaction(company, status=Status.SYNCING)
    ticked = factories.make_transaction(company, status=Status.READY)
    body = _poll(owner_client, company, ids=[str(ticked.pk)]).content.decode()
    assert f'value="{ticked.pk}" form="sync-form"' in body
    row = body.split(f'id="txn-{ticked.pk}"')[1].split("</tr>")[0]
    assert " checked" in row
    assert moving.pk  # (in flight, so the poll goes on)


# --- Roles -------------------------------------------------------------------------------------


def test_viewers_see_everything_but_no_change_controls(client, company):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="rec-9")
    client.force_login(_member(company, Role.VIEWER))
    content = get_list(client, company).content.decode()
    assert "Receipt missing" in content
    assert 'name="ids"' not in content and "Sync everything ready" not in content
    detail = client.get(reverse("portal:transaction", args=[company.pk, txn.pk])).content.decode()
    assert "rec-9" in detail
    assert 'type="file"' not in detail and "Sync now" not in detail
    upload = client.post(
        reverse("portal:transaction-receipts", args=[company.pk, txn.pk]),
        {"file": SimpleUploadedFile("r.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 403
    assert not Receipt.objects.exists()


def test_accountants_can_sync_and_upload(client, company, sync_now):
    txn = factories.make_transaction(company, status=Status.READY)
    client.force_login(_member(company, Role.ACCOUNTANT))
    assert 'name="ids"' in get_list(client, company).content.decode()
    _sync(client, company, action="selected", ids=[txn.pk])
    assert sync_now.called
    response = client.post(
        reverse("portal:transaction-receipts", args=[company.pk, txn.pk]),
        {"file": SimpleUploadedFile("r.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 302
    assert Receipt.objects.filter(transaction=txn).count() == 1


# --- A transaction's page ----------------------------------------------------------------------


def test_the_page_shows_lines_mapping_and_sync_history(owner_client, company):
    category = factories.make_category(company, name="Travel")
    account = factories.make_ledger_account(company, name="Travel costs", nominal_code="7400")
    tax = factories.make_tax_rate(company, name="Standard 20%")
    from integrations.ledger.models import CategoryMapping

    CategoryMapping.objects.create(category=category, account=account, tax_rate=tax)
    txn = factories.make_transaction(
        company, category=category, status=Status.COMPLETED, ledger_record_id="bill-42"
    )
    first = factories.make_sync(company, status_code=5130, error_message="Write failed")
    SyncTransaction.objects.create(
        sync=first, transaction=txn, status="PushError", message="Account archived"
    )
    second = factories.make_sync(company, status_code=Sync.StatusCode.SUCCESS)
    SyncTransaction.objects.create(
        sync=second, transaction=txn, status="Completed", ledger_record_id="bill-42"
    )
    content = owner_client.get(
        reverse("portal:transaction", args=[company.pk, txn.pk])
    ).content.decode()
    for expected in (
        "Travel costs",
        "Standard 20%",
        "10.00",
        "2.00",
        "12.00 GBP",
        "Data write error",
        "(5130)",
        "Account archived",
        "Success",
        "bill-42",
        "Receipt missing",
    ):
        assert expected in content, expected


def test_a_failed_transaction_says_why_and_offers_a_retry(owner_client, company, sync_now):
    txn = factories.make_transaction(
        company,
        status=Status.FAILED,
        **Transaction.attention(
            "rejected_by_ledger", "The ledger is locked for its date.", Screen.TRANSACTION
        ),
    )
    url = reverse("portal:transaction", args=[company.pk, txn.pk])
    content = owner_client.get(url).content.decode()
    assert "The ledger is locked for its date." in content and "Try again" in content
    owner_client.post(reverse("portal:transaction-sync", args=[company.pk, txn.pk]))
    assert sync_now.call_args.kwargs == {
        "transaction_ids": [txn.pk],
        "actor": mock.ANY,
        "retry_failed": True,
    }


# --- Receipts ----------------------------------------------------------------------------------


def _upload(client, company, txn, name, content, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("portal:transaction-receipts", args=[company.pk, txn.pk]),
        {"file": SimpleUploadedFile(name, content, "application/octet-stream")},
        headers=headers,
    )


def _stored_files(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_receipt_is_stored_and_sent_when_the_transaction_is_in_the_ledger(owner_client, company):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    with mock.patch("integrations.syncs.services.attach.tasks.enqueue_receipts") as enqueue:
        response = _upload(owner_client, company, txn, "lunch.pdf", PDF, htmx=True)
    assert response.status_code == 200
    receipt = Receipt.objects.get(transaction=txn)
    assert (receipt.original_filename, receipt.content_type) == ("lunch.pdf", "application/pdf")
    assert receipt.upload_status == Receipt.UploadStatus.PENDING
    enqueue.assert_called_once_with(txn.pk)
    body = response.content.decode()
    assert body.strip().startswith('<section class="card receipts" id="receipts"')
    assert "Waiting to upload" in body
    assert 'hx-trigger="every 3s"' in body  # the upload's state is followed live


def test_the_status_box_stops_saying_receipt_missing_once_a_receipt_is_added(owner_client, company):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    page = owner_client.get(reverse("portal:transaction", args=[company.pk, txn.pk]))
    assert "without a receipt" in page.content.decode()
    with mock.patch("integrations.syncs.services.attach.tasks.enqueue_receipts"):
        response = _upload(owner_client, company, txn, "lunch.pdf", PDF, htmx=True)
    body = response.content.decode()
    # The status box travels with the receipts box, out of band, and has moved on.
    assert '<div id="txn-status" hx-swap-oob="true"' in body
    assert "without a receipt" not in body


def test_a_receipt_on_spend_not_yet_synced_waits_for_it(owner_client, company):
    txn = factories.make_transaction(company, status=Status.READY)
    with mock.patch("integrations.syncs.services.attach.tasks.enqueue_receipts") as enqueue:
        response = _upload(owner_client, company, txn, "lunch.pdf", PDF, htmx=True)
    assert not enqueue.called
    assert "Attached once the transaction is in the ledger." in response.content.decode()
    assert "hx-trigger" not in response.content.decode()


def test_the_receipts_box_stops_polling_once_uploads_are_done(owner_client, company):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    receipt = factories.make_receipt(txn, upload_status=Receipt.UploadStatus.UPLOADING)
    url = reverse("portal:transaction-receipts", args=[company.pk, txn.pk])
    assert owner_client.get(url, headers={"HX-Request": "true"}).status_code == 200
    Receipt.objects.filter(pk=receipt.pk).update(
        upload_status=Receipt.UploadStatus.UPLOADED, codat_attachment_id="att-1"
    )
    response = owner_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert "Uploaded" in response.content.decode()


def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_stored(owner_client, company, settings):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    # Named .pdf, but its bytes are a bitmap, which QuickBooks Online does not take.
    response = _upload(owner_client, company, txn, "receipt.pdf", BMP, htmx=True)
    assert response.status_code == 200  # (htmx swaps only 2xx answers)
    body = response.content.decode()
    assert "QuickBooks Online does not take BMP files." in body
    assert 'aria-invalid="true"' in body
    assert not Receipt.objects.exists()
    assert _stored_files(settings) == []
    # Without htmx: the whole page again, refused.
    response = _upload(owner_client, company, txn, "receipt.pdf", b"MZ\x90\x00" + b"\x00" * 60)
    assert response.status_code == 400
    assert not Receipt.objects.exists()


def test_a_file_too_big_for_the_ledger_is_refused_and_nothing_is_stored(client, settings):
    company = factories.make_company(codat_company_id=uuid.uuid4())
    factories.make_connection(company, platform_key="fbrh", platform_name="FreeAgent")
    client.force_login(_member(company))
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    big = PDF + b"0" * (5 * 1024 * 1024)
    response = _upload(client, company, txn, "scan.pdf", big)
    assert response.status_code == 400
    assert "FreeAgent takes up to 5 MB" in response.content.decode()
    assert not Receipt.objects.exists()
    assert _stored_files(settings) == []


def test_the_page_tells_the_browser_the_ledgers_limits(owner_client, company):
    txn = factories.make_transaction(company, status=Status.COMPLETED, ledger_record_id="1")
    content = owner_client.get(
        reverse("portal:transaction", args=[company.pk, txn.pk])
    ).content.decode()
    assert f'data-max-bytes="{100 * 1024 * 1024}"' in content
    assert 'data-extensions="AI,CSV,DOC,DOCX' in content
    assert 'accept=".ai,.csv,.doc' in content
    assert "js/receipts.js" in content


def test_transfers_take_no_receipts(owner_client, company):
    txn = factories.make_transaction(company, kind="transfer", expense_type="")
    content = owner_client.get(
        reverse("portal:transaction", args=[company.pk, txn.pk])
    ).content.decode()
    assert 'type="file"' not in content
    assert "takes no receipts on transfers" in content
    response = _upload(owner_client, company, txn, "r.pdf", PDF)
    assert response.status_code == 400
    assert not Receipt.objects.exists()


def test_a_transactions_status_updates_live_while_it_syncs(owner_client, company):
    txn = factories.make_transaction(company, status=Status.SYNCING)
    url = reverse("portal:transaction", args=[company.pk, txn.pk])
    page = owner_client.get(url).content.decode()
    assert 'id="txn-status" hx-get="' in page and 'hx-trigger="every 3s"' in page
    poll = {"HX-Request": "true", "HX-Target": "txn-status"}
    response = owner_client.get(url, headers=poll)
    assert (
        response.status_code == 200 and "Being written to the ledger" in response.content.decode()
    )
    Transaction.objects.filter(pk=txn.pk).update(status=Status.COMPLETED, ledger_record_id="r-7")
    response = owner_client.get(url, headers=poll)
    assert response.status_code == 286
    body = response.content.decode()
    assert body.strip().startswith('<div id="txn-status">')
    assert "r-7" in body and "Receipt missing" in body
