"""Companies, connections, auth, errors, paging and querying."""

import base64

import pytest

from codat_sandbox.models import SandboxCompany

from .conftest import PREFIX, create_company, link_company

pytestmark = pytest.mark.django_db


def test_it_refuses_requests_without_a_valid_api_key(client):
    for header in (None, "Basic " + base64.b64encode(b"wrong-key").decode(), "Bearer x"):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get(PREFIX + "/companies", **extra)
        assert response.status_code == 401
        body = response.json()
        assert body["statusCode"] == 401
        assert body["error"] == "Unauthorized"
        assert body["correlationId"]
        assert set(body) >= {"service", "validation", "canBeRetried", "detailedErrorCode"}


def test_it_creates_a_company_with_200_and_strips_forbidden_characters(api):
    response = api.post(
        "/companies", {"name": "Company (Codat[1])", "description": "d", "tags": {"uid": "7"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Company Codat1"
    assert body["tags"] == {"uid": "7"}
    assert body["redirect"].startswith("http://testserver/codat-sandbox/link/company/")
    assert body["dataConnections"] == []


def test_it_validates_the_company_body(api):
    response = api.post("/companies", {"description": "no name"})
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "name"
    assert api.post("/companies", "not json").status_code == 400


def test_put_replaces_and_patch_updates(api):
    company = create_company(api)
    path = f"/companies/{company['id']}"
    api.patch(path, {"tags": {"region": "uk"}})
    patched = api.patch(path, {"description": "kept"}).json()
    assert patched["tags"] == {"region": "uk"} and patched["description"] == "kept"
    replaced = api.put(path, {"name": "Renamed"}).json()
    assert replaced["name"] == "Renamed"
    assert replaced["description"] == "" and replaced["tags"] == {}


@pytest.mark.parametrize("name", ["((((", "", "   "])
def test_a_name_with_nothing_left_is_a_400_on_create_put_and_patch(api, name):
    company = create_company(api, "Kept Ltd")
    path = f"/companies/{company['id']}"
    for response in (
        api.post("/companies", {"name": name}),
        api.put(path, {"name": name, "description": "would be cleared"}),
        api.patch(path, {"name": name}),
    ):
        assert response.status_code == 400, response.content
        assert response.json()["validation"]["errors"][0]["itemId"] == "name"
    kept = api.get(path).json()
    assert kept["name"] == "Kept Ltd" and kept["description"] == ""
    assert SandboxCompany.objects.count() == 1


def test_delete_company_answers_204_then_404(api):
    company = create_company(api)
    response = api.delete(f"/companies/{company['id']}")
    assert response.status_code == 204 and response.content == b""
    missing = api.get(f"/companies/{company['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"] == f"No company was found with ID {company['id']}"


def test_unknown_and_malformed_company_ids_are_404(api):
    assert api.get("/companies/not-a-uuid").status_code == 404
    assert api.get("/companies/00000000-0000-0000-0000-000000000000").status_code == 404


def test_list_companies_pages_with_links(api):
    for number in range(3):
        create_company(api, f"Company {number}")
    body = api.get("/companies?page=2&pageSize=1").json()
    assert body["pageNumber"] == 2 and body["pageSize"] == 1 and body["totalResults"] == 3
    assert len(body["results"]) == 1
    links = body["_links"]
    assert links["self"]["href"] == "/companies"
    assert links["current"]["href"] == "/companies?page=2&pageSize=1"
    assert links["next"]["href"] == "/companies?page=3&pageSize=1"
    assert links["previous"]["href"] == "/companies?page=1&pageSize=1"


def test_list_companies_filters_with_query_and_orders(api):
    create_company(api, "Alpha Ltd")
    create_company(api, "Beta Ltd")
    create_company(api, "Gamma Inc")
    names = lambda r: [c["name"] for c in r.json()["results"]]  # noqa: E731
    assert names(api.get("/companies", QUERY_STRING="query=name%3DBeta%20Ltd")) == ["Beta Ltd"]
    assert names(api.get("/companies", QUERY_STRING="query=name~ltd&orderBy=-name")) == [
        "Beta Ltd",
        "Alpha Ltd",
    ]
    assert names(
        api.get("/companies", QUERY_STRING="query=name!%3DAlpha%20Ltd%20%26%26%20name~a")
    ) == ["Beta Ltd", "Gamma Inc"]
    assert names(
        api.get(
            "/companies",
            QUERY_STRING="query=%7Bname%3DAlpha%20Ltd%20%7C%7C%20name%3DGamma%20Inc%7D",
        )
    ) == ["Alpha Ltd", "Gamma Inc"]


def test_a_malformed_query_is_a_400(api):
    for query in ("name%3D", "%3Dx", "name%3Dx%20%26%26", "%7Bname%3Dx"):
        response = api.get("/companies", QUERY_STRING=f"query={query}")
        assert response.status_code == 400, query
        assert response.json()["error"] == "Error parsing query - Malformed query."


def _query(api, path, query):
    return api.get(path, data={"query": query})


def test_a_query_on_a_property_the_records_do_not_have_is_a_400(api):
    create_company(api, "Alpha Ltd")
    for query in ("nosuchField=1", "name=Alpha Ltd || nosuchField=1", "name.first=A"):
        response = _query(api, "/companies", query)
        assert response.status_code == 400, query
        body = response.json()
        field = "name.first" if query.startswith("name.") else "nosuchField"
        assert body["error"] == f"Error parsing query - Could not resolve property {field}."
        assert body["statusCode"] == 400 and body["correlationId"]
    # Property names are matched case-insensitively, as before.
    assert _query(api, "/companies", "NAME=alpha ltd").json()["totalResults"] == 1


def test_known_sub_properties_and_free_form_maps_keep_working(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    suppliers = f"/companies/{cid}/data/suppliers"
    archived = _query(api, suppliers, "metadata.isDeleted=true").json()
    assert archived["totalResults"] >= 1
    assert all(s["status"] == "Archived" for s in archived["results"])
    unknown = _query(api, suppliers, "metadata.nosuchField=true")
    assert unknown.status_code == 400
    assert unknown.json()["error"].endswith("Could not resolve property metadata.nosuchField.")
    assert _query(api, suppliers, "nosuchField=1").status_code == 400
    # Tags are free-form: a key no company has yet simply matches nothing.
    assert _query(api, "/companies", "tags.region=uk").json()["totalResults"] == 0


def test_properties_omitted_while_unset_are_still_queryable(api, settings):
    settings.CODAT_SANDBOX_SYNC_DELAY = 60
    linked = link_company(api)
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    api.post(
        f"/companies/{cid}/connections/{conn}/push/suppliers",
        {"supplierName": "Pending Supplier", "status": "Active"},
    )
    pending = _query(api, f"/companies/{cid}/push", "completedOnUtc>2020-01-01")
    assert pending.status_code == 200 and pending.json()["totalResults"] == 0
    api.post(f"/companies/{cid}/data/queue/suppliers")
    history = _query(api, f"/companies/{cid}/data/history", "completed>2020-01-01")
    assert history.status_code == 200


def test_list_companies_filters_by_tags(api):
    api.post("/companies", {"name": "UK", "tags": {"region": "uk"}})
    api.post("/companies", {"name": "US", "tags": {"region": "us"}})
    body = api.get("/companies", QUERY_STRING="tags=region%20%3D%20uk").json()
    assert [c["name"] for c in body["results"]] == ["UK"]


def test_page_size_out_of_range_is_a_400(api):
    assert api.get("/companies?pageSize=0").status_code == 400
    assert api.get("/companies?pageSize=5001").status_code == 400
    assert api.get("/companies?page=0").status_code == 400


def test_wrong_method_is_405_with_error_body(api):
    response = api.delete("/companies")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405


def test_every_response_carries_rate_limit_headers(api, client):
    for response in (api.get("/companies"), client.get(PREFIX + "/companies")):
        assert response["X-Rate-Limit-Limit"] == "100000"
        assert int(response["X-Rate-Limit-Remaining"]) <= 100000
        assert response["X-Rate-Limit-Reset"].endswith("Z")


class TestConnections:
    def test_a_new_connection_is_pending_auth_with_a_link_url(self, api):
        company = create_company(api)
        response = api.post(f"/companies/{company['id']}/connections", {"platformKey": "gbol"})
        assert response.status_code == 200
        conn = response.json()
        assert conn["status"] == "PendingAuth"
        assert conn["platformName"] == "Xero"
        assert conn["sourceType"] == "Accounting"
        assert conn["integrationKey"] == "gbol"
        assert "/link/companies/" in conn["linkUrl"] and conn["linkUrl"].endswith("/start")
        for field in ("integrationId", "sourceId", "created"):
            assert conn[field]

    def test_unknown_platform_and_bad_keys_are_refused(self, api):
        company = create_company(api)
        path = f"/companies/{company['id']}/connections"
        # A well-formed key that names no integration is a missing resource (404, which
        # create-connection declares); malformed bodies stay 400.
        unknown = api.post(path, {"platformKey": "zzzz"})
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "No integration was found with key zzzz."
        assert api.post(path, {"platformKey": "QHYG"}).status_code == 400
        assert api.post(path, {}).status_code == 400

    def test_a_company_has_one_accounting_connection(self, api):
        company = create_company(api)
        path = f"/companies/{company['id']}/connections"
        assert api.post(path, {"platformKey": "qhyg"}).status_code == 200
        assert api.post(path, {"platformKey": "gbol"}).status_code == 400

    def test_partner_expense_connection_is_born_linked_once(self, api):
        company = create_company(api)
        path = f"/companies/{company['id']}/sync/expenses/connections/partnerExpense"
        first = api.post(path).json()
        assert first["status"] == "Linked" and first["sourceType"] == "Expense"
        assert api.post(path).json()["id"] == first["id"]

    def test_list_get_unlink_and_delete(self, api):
        linked = link_company(api)
        cid, conn_id = linked["company"]["id"], linked["connection"]["id"]
        listing = api.get(f"/companies/{cid}/connections").json()
        assert listing["totalResults"] == 2
        assert api.get(f"/companies/{cid}/connections/{conn_id}").json()["status"] == "Linked"
        unlinked = api.patch(f"/companies/{cid}/connections/{conn_id}", {"status": "Unlinked"})
        assert unlinked.status_code == 200 and unlinked.json()["status"] == "Unlinked"
        deleted = api.delete(f"/companies/{cid}/connections/{conn_id}")
        assert deleted.status_code == 200 and deleted.content == b""
        assert api.get(f"/companies/{cid}/connections/{conn_id}").status_code == 404
