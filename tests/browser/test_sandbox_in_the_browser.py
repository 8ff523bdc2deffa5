"""A person in Chromium: approve a Link, then see the synced expense and receipt in the ledger."""

import base64
import uuid
from decimal import Decimal

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox-dev-key").decode()}


@pytest.fixture(autouse=True)
def _sandbox_settings(settings, live_server):
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0
    settings.CODAT_SANDBOX_REDIRECT_URL = (
        live_server.url + "/link/return/?companyId={companyId}&statusCode={statusCode}"
    )


def test_a_person_approves_link_and_sees_the_expense_in_the_ledger(
    live_server, page, django_user_model
):
    api = httpx.Client(base_url=live_server.url + "/codat-sandbox", headers=AUTH, timeout=10)
    company = api.post("/companies", json={"name": "Browser Bakery"}).json()
    cid = company["id"]
    connection = api.post(f"/companies/{cid}/connections", json={"platformKey": "gbol"}).json()

    page.goto(connection["linkUrl"])
    assert page.get_by_role("heading", name="Connect Xero").is_visible()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/accounts/login/**")  # back at the portal, which asks who this is
    assert f"companyId%3D{cid}" in page.url and "statusCode%3D200" in page.url
    assert api.get(f"/companies/{cid}/connections/{connection['id']}").json()["status"] == "Linked"

    api.post(f"/companies/{cid}/sync/expenses/connections/partnerExpense")
    options = api.get(f"/companies/{cid}/sync/expenses/mappingOptions").json()
    account = next(
        a for a in options["accounts"] if "expense-transactions.Payment" in (a["validFor"] or [])
    )
    bank = next(a for a in options["accounts"] if a["isBankAccount"] and a["currency"] == "GBP")
    supplier = next(
        s
        for s in api.get(f"/companies/{cid}/data/suppliers").json()["results"]
        if s["status"] == "Active" and s.get("defaultCurrency") in ("GBP", None)
    )
    customer = next(
        c
        for c in api.get(f"/companies/{cid}/data/customers").json()["results"]
        if c["status"] == "Active"
    )
    api.post(
        f"/companies/{cid}/sync/expenses/config",
        json={
            "bankAccount": {"id": bank["id"]},
            "supplier": {"id": supplier["id"]},
            "customer": {"id": customer["id"]},
        },
    ).raise_for_status()
    txn_id = str(uuid.uuid4())
    sync_id = api.post(
        f"/companies/{cid}/sync/expenses/expense-transactions",
        json=[
            {
                "id": txn_id,
                "type": "Payment",
                "issueDate": "2026-11-20T09:30:00Z",
                "currency": "GBP",
                "merchantName": "Flour & Co",
                "lines": [
                    {
                        "netAmount": float(Decimal("41.50")),
                        "taxAmount": 0,
                        "accountRef": {"id": account["id"]},
                    }
                ],
            }
        ],
    ).json()["syncId"]
    status = api.get(f"/companies/{cid}/sync/expenses/syncs/{sync_id}/status").json()
    assert status["syncStatusCode"] == 2000, status
    api.post(
        f"/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn_id}/attachments",
        files={"file": ("flour-receipt.png", b"\x89PNG\r\n\x1a\nfake", "image/png")},
    ).raise_for_status()

    # Outside debug mode the ledger viewer is for staff: sign in on the way to it.
    django_user_model.objects.create_user("ops", password="ledger-viewer-pw", is_staff=True)
    page.goto(f"{live_server.url}/codat-sandbox/ledger/{cid}/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill("ledger-viewer-pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/codat-sandbox/ledger/{cid}/")
    row = page.locator("tr", has_text="Flour & Co")
    assert row.is_visible()
    assert "41.50" in row.inner_text()
    assert row.get_by_role("link", name="flour-receipt.png").is_visible()
    with page.expect_download() as download:
        row.get_by_role("link", name="flour-receipt.png").click()
    assert download.value.suggested_filename == "flour-receipt.png"
