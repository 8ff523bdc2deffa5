"""Paths under the sandbox prefix that Codat does not have answer Codat's JSON 404, not Django's
HTML page; the Link pages and the ledger viewer keep working (and keep HTML 404s)."""

import pytest

from .conftest import PREFIX, create_company, link_company

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/nope", "/companies/x/unknown", "/companies/", "/companies/x/sync/expenses/nothing/here"],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_path_is_a_json_error_message_404(api, path, method):
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["statusCode"] == 404 and body["error"]
    assert body["correlationId"] == response["X-Correlation-Id"]
    for header in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert response[header]


def test_an_unknown_path_still_needs_the_api_key(client):
    response = client.get(f"{PREFIX}/nope")
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_the_html_pages_still_answer(api, admin_client):
    linked = link_company(api)
    cid = linked["company"]["id"]
    assert admin_client.get(f"{PREFIX}/").status_code == 200
    assert admin_client.get(f"{PREFIX}/ledger/{cid}/").status_code == 200
    company = create_company(api, "Unlinked Ltd")
    assert admin_client.get(f"{PREFIX}/link/company/{company['id']}/").status_code == 200
    # A wrong address inside the HTML namespaces is still Django's page, not an API error.
    missing = admin_client.get(f"{PREFIX}/ledger/not-a-uuid/")
    assert missing.status_code == 404
    assert not missing["Content-Type"].startswith("application/json")
