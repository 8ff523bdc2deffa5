"""The Link page: approve/cancel, the redirect with Codat's placeholders, seeding on link."""

from urllib.parse import parse_qs, urlsplit

import pytest

from codat_sandbox.models import LedgerRecord, SandboxConnection, WebhookMessage
from codat_sandbox.views.link import redirect_url

from .conftest import create_company

pytestmark = pytest.mark.django_db


def _pending(api, platform="qhyg"):
    company = create_company(api)
    conn = api.post(f"/companies/{company['id']}/connections", {"platformKey": platform}).json()
    return company, conn, conn["linkUrl"].split("testserver", 1)[1]


def test_the_link_page_shows_company_platform_and_buttons(api, client):
    company, _conn, path = _pending(api)
    page = client.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert company["name"] in text and "QuickBooks Online" in text
    assert 'value="approve"' in text and 'value="cancel"' in text
    assert "<script" not in text


def test_the_link_page_lets_its_form_redirect_to_the_partner_origin(api, client):
    _company, _conn, path = _pending(api)
    csp = client.get(path)["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:8000" in csp
    assert "default-src 'self'" in csp


def test_approve_links_seeds_and_redirects_with_placeholders(api, client):
    company, conn, path = _pending(api)
    response = client.post(path, {"decision": "approve"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "portal.test"
    params = parse_qs(target.query, keep_blank_values=True)
    assert params["companyId"] == [company["id"]]
    assert params["connectionId"] == [conn["id"]]
    assert params["statusCode"] == ["200"]
    assert params["errorMessage"] == [""]
    assert params["platform"] == ["qhyg"]
    assert SandboxConnection.objects.get(pk=conn["id"]).status == "Linked"
    assert LedgerRecord.objects.filter(company_id=company["id"], data_type="chartOfAccounts")
    status = api.get(f"/companies/{company['id']}/dataStatus").json()
    assert status["chartOfAccounts"]["currentStatus"] == "Complete"


def test_cancel_redirects_403_and_leaves_the_connection_pending(api, client):
    company, conn, path = _pending(api)
    response = client.post(path, {"decision": "cancel"})
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["statusCode"] == ["403"]
    assert params["errorMessage"] == ["User cancelled."]
    assert SandboxConnection.objects.get(pk=conn["id"]).status == "PendingAuth"
    assert not LedgerRecord.objects.filter(company_id=company["id"]).exists()


def test_simulate_an_error_redirects_500_and_changes_nothing(api, client):
    company, conn, path = _pending(api)
    assert 'value="error"' in client.get(path).content.decode()
    response = client.post(path, {"decision": "error"})
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["statusCode"] == ["500"]
    assert params["errorMessage"] == ["Unknown error occurred."]
    assert SandboxConnection.objects.get(pk=conn["id"]).status == "PendingAuth"
    assert not LedgerRecord.objects.filter(company_id=company["id"]).exists()
    assert not WebhookMessage.objects.filter(event_type="connection.connected").exists()
    # The SMB can still approve afterwards.
    client.post(path, {"decision": "approve"})
    assert SandboxConnection.objects.get(pk=conn["id"]).status == "Linked"


def test_redirect_values_are_url_encoded_and_custom_placeholders_filled(api, settings):
    settings.CODAT_SANDBOX_REDIRECT_URL = (
        "https://p.test/r?name={platformName}&type={sourceType}&ref={myRef}&x={missing}"
        "&i={integrationId}&s={sourceId}"
    )
    _company, conn, _ = _pending(api, "trji")
    url = redirect_url(SandboxConnection.objects.get(pk=conn["id"]), 200, {"myRef": "a b&c"})
    assert "name=Dynamics%20365%20Business%20Central" in url
    assert "type=Accounting" in url and "ref=a%20b%26c" in url and "x=&" in url
    assert f"i={conn['integrationId']}" in url and f"s={conn['sourceId']}" in url


def test_company_redirect_lets_the_user_pick_a_platform(api, client):
    company = create_company(api)
    path = company["redirect"].split("testserver", 1)[1]
    assert "Xero" in client.get(path).content.decode()
    response = client.post(path, {"platform": "gbol"})
    assert response.status_code == 302 and response["Location"].endswith("/start")
    assert SandboxConnection.objects.get(company_id=company["id"]).platform_key == "gbol"


def test_company_info_mapping_options_and_contacts_before_and_after_link(api, client):
    company, _conn, path = _pending(api, "gbol")
    cid = company["id"]
    assert api.get(f"/companies/{cid}/data/info").status_code == 409
    assert api.get(f"/companies/{cid}/data/suppliers").status_code == 409
    assert api.get(f"/companies/{cid}/data/customers/1").status_code == 409
    assert api.get(f"/companies/{cid}/sync/expenses/mappingOptions").json()["accounts"] == []
    client.post(path, {"decision": "approve"})
    info = api.get(f"/companies/{cid}/data/info").json()
    assert info["companyName"] == company["name"] and info["baseCurrency"] == "GBP"
    options = api.get(f"/companies/{cid}/sync/expenses/mappingOptions").json()
    assert options["accounts"] and options["taxRates"] and options["trackingCategories"]
    assert {"id", "accountType", "validFor", "validTransactionTypes"} <= set(options["accounts"][0])
    assert all(rate["id"] != "" for rate in options["taxRates"])
    suppliers = api.get(f"/companies/{cid}/data/suppliers").json()
    assert suppliers["totalResults"] == len(suppliers["results"]) > 0
    first = suppliers["results"][0]
    assert api.get(f"/companies/{cid}/data/suppliers/{first['id']}").json() == first
    assert api.get(f"/companies/{cid}/data/suppliers/nope").status_code == 404
    active = api.get(f"/companies/{cid}/data/customers", QUERY_STRING="query=status%3DArchived")
    assert all(c["status"] == "Archived" for c in active.json()["results"])


def test_configuration_round_trip_and_reference_check(api, client):
    company, _conn, path = _pending(api)
    cid = company["id"]
    empty = api.get(f"/companies/{cid}/sync/expenses/config").json()
    assert empty == {"bankAccount": {}, "supplier": {}, "customer": {}}
    client.post(path, {"decision": "approve"})
    suppliers = api.get(f"/companies/{cid}/data/suppliers").json()["results"]
    customers = api.get(f"/companies/{cid}/data/customers").json()["results"]
    bank = LedgerRecord.objects.filter(company_id=cid, data_type="bankAccounts").first()
    config = {
        "bankAccount": {"id": bank.record_id},
        "supplier": {"id": suppliers[0]["id"]},
        "customer": {"id": customers[0]["id"]},
    }
    assert api.post(f"/companies/{cid}/sync/expenses/config", config).json() == config
    assert api.get(f"/companies/{cid}/sync/expenses/config").json() == config
    bad = api.post(f"/companies/{cid}/sync/expenses/config", {**config, "supplier": {"id": "x"}})
    assert bad.status_code == 400
    assert bad.json()["validation"]["errors"][0]["itemId"] == "supplier.id"
    assert (
        api.post(f"/companies/{cid}/sync/expenses/config", {"supplier": {"id": "1"}}).status_code
        == 400
    )


def test_refresh_and_pull_operations(api, client):
    company, conn, path = _pending(api)
    cid = company["id"]
    assert api.post(f"/companies/{cid}/data/all").status_code == 400  # not linked yet
    client.post(path, {"decision": "approve"})
    refresh = api.post(f"/companies/{cid}/data/all")
    assert refresh.status_code == 204 and refresh.content == b""
    queued = api.post(f"/companies/{cid}/data/queue/suppliers")
    assert queued.status_code == 200
    op = queued.json()
    assert op["dataType"] == "suppliers" and op["connectionId"] == conn["id"]
    fetched = api.get(f"/companies/{cid}/data/history/{op['id']}").json()
    assert fetched["status"] == "Complete" and fetched["isCompleted"] is True
    history = api.get(f"/companies/{cid}/data/history", QUERY_STRING="query=dataType%3Dsuppliers")
    assert history.json()["totalResults"] == 3
    assert api.post(f"/companies/{cid}/data/queue/notAType").status_code == 400
