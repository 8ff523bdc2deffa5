"""The ledger viewer pages: index, per-company ledger, attachment download, fault form."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codat_sandbox import engine
from codat_sandbox.models import FaultSettings, LedgerRecord, SandboxConnection

from .conftest import AUTH, PREFIX, expense, expense_account, link_company

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signed_in_as_staff(client, django_user_model):
    # Outside debug mode (and pytest-django runs with DEBUG off) the viewer is for staff only;
    # tests/sandbox/test_sandbox_access.py covers everyone else.
    client.force_login(django_user_model.objects.create_user("sandbox-staff", is_staff=True))


def test_the_index_lists_companies(api, client):
    linked = link_company(api, name="Listed Co")
    page = client.get(PREFIX + "/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Listed Co" in text and "QuickBooks Online" in text
    assert f"/ledger/{linked['company']['id']}/" in text


def test_the_address_make_run_prints_opens_the_index(api, client):
    # scripts/devserver.py and the README send people to /codat-sandbox/ledger/.
    link_company(api, name="Listed Co")
    page = client.get(PREFIX + "/ledger/")
    assert page.status_code == 200 and "Listed Co" in page.content.decode()


def test_the_ledger_shows_synced_expenses_reference_data_and_receipts(api, client):
    linked = link_company(api, name="Ledger Co")
    cid = linked["company"]["id"]
    txn = expense(api, linked, merchantName="Pret A Manger")
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    upload = client.post(
        f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}/attachments",
        {"file": SimpleUploadedFile("lunch.pdf", b"%PDF receipt", content_type="application/pdf")},
        HTTP_AUTHORIZATION=AUTH,
    )
    attachment_id = upload.json()["id"]

    page = client.get(f"{PREFIX}/ledger/{cid}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Pret A Manger" in text
    # Money reads as money (two places), and the configuration's ids as the ledger's names.
    assert f">{txn['lines'][0]['netAmount']:.2f}<" in text
    config = api.get(f"/companies/{cid}/sync/expenses/config").json()
    bank_name = next(
        a["name"]
        for a in api.get(f"/companies/{cid}/sync/expenses/mappingOptions").json()["accounts"]
        if a["id"] == config["bankAccount"]["id"]
    )
    assert f"<dd>{bank_name}</dd>" in text
    assert "lunch.pdf" in text
    assert "Chart of accounts" in text and "Ledger lock date" in text
    assert "<script" not in text and "style=" not in text

    download = client.get(f"{PREFIX}/ledger/{cid}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.content == b"%PDF receipt"
    assert download["Content-Disposition"] == 'attachment; filename="lunch.pdf"'
    assert client.get(f"{PREFIX}/ledger/{cid}/attachments/nope").status_code == 404


def test_the_fault_form_saves_company_faults(api, client):
    linked = link_company(api)
    cid = linked["company"]["id"]
    response = client.post(
        f"{PREFIX}/ledger/{cid}/faults/",
        {"error_rate": "25", "latency_ms": "0", "timeout_seconds": "0", "long_running_syncs": "on"},
    )
    assert response.status_code == 302
    faults = FaultSettings.objects.get(company_id=cid)
    assert faults.error_rate == 25 and faults.long_running_syncs and not faults.quota_exhausted
    bad = client.post(f"{PREFIX}/ledger/{cid}/faults/", {"error_rate": "250"})
    assert bad.status_code == 302
    assert FaultSettings.objects.get(company_id=cid).error_rate == 25


def test_the_connection_can_be_deauthorized_and_relinked(api, client):
    linked = link_company(api)
    cid = linked["company"]["id"]
    client.post(f"{PREFIX}/ledger/{cid}/faults/", {"action": "deauthorize"})
    assert SandboxConnection.objects.get(pk=linked["connection"]["id"]).status == "Deauthorized"
    client.post(f"{PREFIX}/ledger/{cid}/faults/", {"action": "relink"})
    assert SandboxConnection.objects.get(pk=linked["connection"]["id"]).status == "Linked"


def test_unknown_company_is_404(client):
    assert client.get(f"{PREFIX}/ledger/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_an_account_archived_in_the_viewer_refuses_spend_until_restored(api, client):
    # A person walking the "archived account" story by hand archives it here, as a bookkeeper
    # would in Xero; the next push that uses it is refused the way the platform refuses it.
    linked = link_company(api, platform_key="gbol", name="Archive Co")
    cid = linked["company"]["id"]
    account = expense_account(api, cid)
    faults_url = f"{PREFIX}/ledger/{cid}/faults/"

    archive = {"account_id": account["id"], "account_status": "Archived"}
    assert client.post(faults_url, archive).status_code == 302
    record = LedgerRecord.objects.get(
        company_id=cid, data_type="chartOfAccounts", record_id=account["id"]
    )
    assert record.data["status"] == "Archived"
    page = client.get(f"{PREFIX}/ledger/{cid}/").content.decode()
    assert f'aria-label="Restore {record.data["name"]}"' in page

    txn = expense(api, linked)
    # (mappingOptions no longer offers the archived account, so the line names it itself.)
    txn["lines"][0]["accountRef"] = {"id": account["id"]}
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    items = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions").json()
    assert "is archived and cannot be used" in str(items)

    client.post(faults_url, {"account_id": account["id"], "account_status": "Active"})
    record.refresh_from_db()
    assert record.data["status"] == "Active"


def test_archiving_an_unknown_account_changes_nothing(api, client):
    linked = link_company(api, name="Unknown Co")
    cid = linked["company"]["id"]
    before = list(LedgerRecord.objects.filter(company_id=cid).values_list("data", flat=True))
    response = client.post(
        f"{PREFIX}/ledger/{cid}/faults/", {"account_id": "nope", "account_status": "Archived"}
    )
    assert response.status_code == 302
    after = list(LedgerRecord.objects.filter(company_id=cid).values_list("data", flat=True))
    assert after == before
