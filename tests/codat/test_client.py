import base64
import io
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from integrations.codat import (
    PRODUCTION_URL,
    CodatClient,
    CodatRateLimitedError,
    CodatTransientError,
    RateLimit,
    encoding,
)

from .helpers import (
    API_KEY,
    API_KEY_B64,
    COMPANY_ID,
    CONNECTION_ID,
    SANDBOX_URL,
    SYNC_ID,
    TRANSACTION_ID,
)

COMPANY_PATH = f"/companies/{COMPANY_ID}"
EXPENSES = f"{COMPANY_PATH}/sync/expenses"

COMPANY = {
    "id": COMPANY_ID,
    "name": "Toft Stores",
    "redirect": f"https://link.codat.io/company/{COMPANY_ID}",
}


def paged(results, *, page, page_size, total):
    return {
        "results": results,
        "pageNumber": page,
        "pageSize": page_size,
        "totalResults": total,
        "_links": {"self": {"href": "/x"}, "current": {"href": f"/x?page={page}"}},
    }


# --- Construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.codat.io.evil.test",
        "http://api.codat.io",
        "https://example.com",
        "http://codat-sandbox.test/api/extra",
        "http://codat-sandbox.test",
    ],
)
def test_it_refuses_a_base_url_that_is_neither_production_nor_the_sandbox(base_url):
    with pytest.raises(ValueError, match="Refusing Codat base URL"):
        CodatClient(base_url=base_url, api_key=API_KEY, sandbox_url=SANDBOX_URL)


@pytest.mark.parametrize("base_url", [PRODUCTION_URL, PRODUCTION_URL + "/", SANDBOX_URL + "/"])
def test_it_accepts_production_and_the_configured_sandbox(base_url):
    with CodatClient(base_url=base_url, api_key=API_KEY, sandbox_url=SANDBOX_URL) as client:
        assert client.base_url == base_url.rstrip("/")


def test_sandbox_url_is_refused_when_no_sandbox_is_configured():
    with pytest.raises(ValueError):
        CodatClient(base_url=SANDBOX_URL, api_key=API_KEY, production_url=PRODUCTION_URL)


def test_an_empty_api_key_is_refused():
    with pytest.raises(ValueError, match="API key"):
        CodatClient(base_url=PRODUCTION_URL, api_key="")


def test_repr_hides_the_key():
    client = CodatClient(base_url=PRODUCTION_URL, api_key=API_KEY)
    assert API_KEY not in repr(client)
    assert API_KEY_B64 not in repr(client)
    client.close()


def test_timeouts_are_explicit_for_every_phase():
    client = CodatClient(base_url=PRODUCTION_URL, api_key=API_KEY, timeout=30)
    assert client.timeout == httpx.Timeout(connect=10, read=30, write=30, pool=10)
    client.close()


def test_an_injected_transport_carries_the_requests():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=COMPANY)

    with CodatClient(
        base_url=SANDBOX_URL,
        api_key=API_KEY,
        sandbox_url=SANDBOX_URL,
        transport=httpx.MockTransport(handler),
    ) as client:
        assert client.get_company(COMPANY_ID)["name"] == "Toft Stores"

    assert str(seen[0].url) == f"{SANDBOX_URL}{COMPANY_PATH}"


def test_an_injected_http_client_is_left_open_for_its_owner():
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    with CodatClient(
        base_url=SANDBOX_URL, api_key=API_KEY, sandbox_url=SANDBOX_URL, http_client=http
    ) as client:
        client.delete_company(COMPANY_ID)

    assert not http.is_closed
    http.close()


def test_closing_the_client_closes_its_own_http_client():
    client = CodatClient(base_url=PRODUCTION_URL, api_key=API_KEY)
    client.close()
    assert client._http.is_closed


# --- Headers ----------------------------------------------------------------------------------


def test_it_sends_basic_auth_with_the_base64_key(client, codat):
    route = codat.get(COMPANY_PATH).respond(200, json=COMPANY)

    client.get_company(COMPANY_ID)

    header = route.calls.last.request.headers["Authorization"]
    assert header == "Basic " + base64.b64encode(API_KEY.encode()).decode()
    assert route.calls.last.request.headers["Accept"] == "application/json"


def test_get_and_put_send_no_idempotency_key(client, codat):
    get = codat.get(COMPANY_PATH).respond(200, json=COMPANY)
    put = codat.put(COMPANY_PATH).respond(200, json=COMPANY)

    client.get_company(COMPANY_ID)
    client.replace_company(COMPANY_ID, {"name": "Toft Stores"})

    assert "Idempotency-Key" not in get.calls.last.request.headers
    assert "Idempotency-Key" not in put.calls.last.request.headers


def test_post_and_patch_send_a_fresh_uuid4_idempotency_key(client, codat):
    post = codat.post("/companies").respond(200, json=COMPANY)
    patch = codat.patch(COMPANY_PATH).respond(200, json=COMPANY)

    client.create_company({"name": "Toft Stores"})
    client.create_company({"name": "Toft Stores"})
    client.update_company(COMPANY_ID, {"description": "Hardware"})

    keys = [call.request.headers["Idempotency-Key"] for call in post.calls]
    keys.append(patch.calls.last.request.headers["Idempotency-Key"])
    assert len(set(keys)) == 3
    assert all(uuid.UUID(key).version == 4 for key in keys)


def test_a_caller_supplied_idempotency_key_is_sent_unchanged_on_every_attempt(client, codat):
    route = codat.post(f"{EXPENSES}/expense-transactions").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"syncId": SYNC_ID})]
    )
    expense = {
        "id": TRANSACTION_ID,
        "type": "Payment",
        "issueDate": "2024-05-21",
        "currency": "GBP",
    }

    with pytest.raises(CodatTransientError):
        client.create_expense_transactions(COMPANY_ID, [expense], idempotency_key="batch-17")
    client.create_expense_transactions(COMPANY_ID, [expense], idempotency_key="batch-17")

    assert [call.request.headers["Idempotency-Key"] for call in route.calls] == [
        "batch-17",
        "batch-17",
    ]


def test_every_post_operation_sends_an_idempotency_key(client, codat):
    codat.post(path__regex=r".*").respond(200, json={})
    codat.patch(path__regex=r".*").respond(200, json={})
    file = io.BytesIO(b"%PDF-1.4")

    client.create_connection(COMPANY_ID, "qhyg")
    client.create_partner_expense_connection(COMPANY_ID)
    client.unlink_connection(COMPANY_ID, CONNECTION_ID)
    client.set_company_configuration(
        COMPANY_ID, {"bankAccount": {"id": "1"}, "supplier": {"id": "2"}, "customer": {"id": "3"}}
    )
    client.refresh_data_type(COMPANY_ID, "suppliers")
    client.create_supplier(COMPANY_ID, CONNECTION_ID, {"status": "Active"})
    client.upload_attachment(
        COMPANY_ID, SYNC_ID, TRANSACTION_ID, file, filename="r.pdf", content_type="application/pdf"
    )

    assert len(codat.calls) == 7
    for call in codat.calls:
        assert call.request.headers.get("Idempotency-Key"), call.request.url


# --- Query parameters and pagination ----------------------------------------------------------


def test_list_sends_paging_query_and_order(client, codat):
    route = codat.get(f"{COMPANY_PATH}/data/suppliers").respond(
        200, json=paged([], page=2, page_size=50, total=0)
    )

    client.list_suppliers(
        COMPANY_ID,
        page=2,
        page_size=50,
        query="status=Active&&defaultCurrency=GBP",
        order_by="-modifiedDate",
    )

    params = route.calls.last.request.url.params
    assert params["page"] == "2"
    assert params["pageSize"] == "50"
    assert params["query"] == "status=Active&&defaultCurrency=GBP"
    assert params["orderBy"] == "-modifiedDate"


def test_unset_optional_params_are_not_sent(client, codat):
    route = codat.get("/companies").respond(200, json=paged([], page=1, page_size=100, total=0))

    client.list_companies()

    assert dict(route.calls.last.request.url.params) == {"page": "1", "pageSize": "100"}


def test_paginate_follows_pages_until_total_results(client, codat):
    suppliers = [{"id": str(n), "status": "Active"} for n in range(5)]
    route = codat.get(f"{COMPANY_PATH}/data/suppliers").mock(
        side_effect=[
            httpx.Response(200, json=paged(suppliers[0:2], page=1, page_size=2, total=5)),
            httpx.Response(200, json=paged(suppliers[2:4], page=2, page_size=2, total=5)),
            httpx.Response(200, json=paged(suppliers[4:], page=3, page_size=2, total=5)),
        ]
    )

    ids = [
        s["id"]
        for s in client.paginate(
            client.list_suppliers, COMPANY_ID, page_size=2, query="status=Active"
        )
    ]

    assert ids == ["0", "1", "2", "3", "4"]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2", "3"]
    assert {call.request.url.params["query"] for call in route.calls} == {"status=Active"}
    assert {call.request.url.params["pageSize"] for call in route.calls} == {"2"}


def test_paginate_is_lazy(client, codat):
    route = codat.get("/companies").mock(
        side_effect=[
            httpx.Response(200, json=paged([COMPANY], page=1, page_size=1, total=2)),
            httpx.Response(200, json=paged([COMPANY], page=2, page_size=1, total=2)),
        ]
    )

    companies = client.paginate(client.list_companies, page_size=1)
    next(companies)

    assert route.call_count == 1


def test_paginate_stops_on_an_empty_page_even_if_total_says_more(client, codat):
    route = codat.get(f"{COMPANY_PATH}/push").mock(
        side_effect=[
            httpx.Response(
                200, json=paged([{"pushOperationKey": "a"}], page=1, page_size=1, total=9)
            ),
            httpx.Response(200, json=paged([], page=2, page_size=1, total=9)),
        ]
    )

    assert len(list(client.paginate(client.list_push_operations, COMPANY_ID, page_size=1))) == 1
    assert route.call_count == 2


def test_push_params_are_sent_as_codat_spells_them(client, codat):
    create = codat.post(f"{COMPANY_PATH}/connections/{CONNECTION_ID}/push/customers").respond(
        200, json={}
    )
    update = codat.put(f"{COMPANY_PATH}/connections/{CONNECTION_ID}/push/customers/C%2F1").respond(
        200, json={}
    )

    client.create_customer(COMPANY_ID, CONNECTION_ID, {"status": "Active"}, timeout_in_minutes=15)
    client.update_customer(
        COMPANY_ID,
        CONNECTION_ID,
        "C/1",
        {"status": "Active"},
        timeout_in_minutes=5,
        allow_sync_on_push_complete=False,
        force_update=True,
    )

    assert dict(create.calls.last.request.url.params) == {"timeoutInMinutes": "15"}
    assert dict(update.calls.last.request.url.params) == {
        "timeoutInMinutes": "5",
        "allowSyncOnPushComplete": "false",
        "forceUpdate": "true",
    }


# --- Bodies, shapes and status codes ----------------------------------------------------------


def test_money_round_trips_as_exact_decimal_json_numbers(client, codat):
    route = codat.post(f"{EXPENSES}/expense-transactions").respond(200, json={"syncId": SYNC_ID})
    expense = {
        "id": TRANSACTION_ID,
        "type": "Payment",
        "issueDate": "2024-05-21T00:00:00Z",
        "currency": "USD",
        "currencyRate": Decimal("0.7912345678901234567"),
        "lines": [{"netAmount": Decimal("10.10"), "taxAmount": Decimal("2.02")}],
    }

    client.create_expense_transactions(COMPANY_ID, [expense])

    sent = route.calls.last.request.content
    assert b'"netAmount":10.10' in sent
    assert b'"currencyRate":0.7912345678901234567' in sent
    assert route.calls.last.request.headers["Content-Type"] == "application/json"
    parsed = json.loads(sent, parse_float=Decimal)
    assert parsed[0]["lines"][0]["taxAmount"] == Decimal("2.02")


def test_responses_parse_floats_as_decimal(client, codat):
    codat.get(f"{EXPENSES}/mappingOptions").respond(
        200,
        content=b'{"taxRates": [{"id": "NONE", "effectiveTaxRate": 20.1, "totalTaxRate": 0.1}],'
        b' "accounts": [{"id": "35", "isBankAccount": false}]}',
    )

    options = client.get_mapping_options(COMPANY_ID)

    rate = options["taxRates"][0]
    assert rate["effectiveTaxRate"] == Decimal("20.1")
    assert isinstance(rate["totalTaxRate"], Decimal)
    assert options["accounts"][0]["isBankAccount"] is False


def test_encoding_handles_edge_values():
    assert encoding.dumps({"a": Decimal("1E+2"), "b": Decimal("-0.00"), "c": True, "d": None}) == (
        '{"a":100,"b":-0.00,"c":true,"d":null}'
    )
    assert encoding.dumps([datetime(2024, 5, 21, tzinfo=UTC), uuid.UUID(int=1)]) == (
        '["2024-05-21T00:00:00+00:00","00000000-0000-0000-0000-000000000001"]'
    )
    with pytest.raises(ValueError):
        encoding.dumps(Decimal("NaN"))
    with pytest.raises(TypeError):
        encoding.dumps({1: "x"})


def test_batches_outside_1_to_50_are_refused_before_any_request(client, codat):
    expense = {
        "id": TRANSACTION_ID,
        "type": "Payment",
        "issueDate": "2024-05-21",
        "currency": "GBP",
    }
    with pytest.raises(ValueError, match="1 to 50"):
        client.create_expense_transactions(COMPANY_ID, [])
    with pytest.raises(ValueError, match="1 to 50"):
        client.create_reimbursable_expense_transactions(COMPANY_ID, [expense] * 51)

    assert not codat.calls


def test_list_syncs_returns_the_bare_array(client, codat):
    syncs = [
        {"syncId": SYNC_ID, "syncStatusCode": 2000, "syncStatus": "Complete", "dataPushed": True},
        {"syncId": str(uuid.uuid4()), "syncStatusCode": 1000, "dataPushed": False},
    ]
    codat.get(f"{EXPENSES}/syncs/list/status").respond(200, json=syncs)

    assert client.list_syncs(COMPANY_ID) == syncs


def test_get_sync_transaction_returns_the_one_item_array(client, codat):
    status = [{"transactionId": TRANSACTION_ID, "status": "Completed", "message": "bill-1"}]
    codat.get(f"{EXPENSES}/syncs/{SYNC_ID}/transactions/{TRANSACTION_ID}").respond(200, json=status)

    assert client.get_sync_transaction(COMPANY_ID, SYNC_ID, TRANSACTION_ID) == status


def test_an_object_where_an_array_belongs_is_transient(client, codat):
    codat.get(f"{EXPENSES}/syncs/list/status").respond(200, json={"results": []})

    with pytest.raises(CodatTransientError, match="expected a JSON array"):
        client.list_syncs(COMPANY_ID)


def test_the_named_sync_status_endpoints(client, codat):
    codat.get(f"{EXPENSES}/syncs/latest/status").respond(200, json={"syncStatusCode": 1000})
    codat.get(f"{EXPENSES}/syncs/lastSuccessful/status").respond(200, json={"syncStatusCode": 2000})
    codat.get(f"{EXPENSES}/syncs/{SYNC_ID}/status").respond(200, json={"syncStatusCode": 5080})

    assert client.get_latest_sync(COMPANY_ID)["syncStatusCode"] == 1000
    assert client.get_last_successful_sync(COMPANY_ID)["syncStatusCode"] == 2000
    assert client.get_sync(COMPANY_ID, SYNC_ID)["syncStatusCode"] == 5080


def test_expense_update_accepts_202(client, codat):
    route = codat.put(f"{EXPENSES}/expense-transactions/{TRANSACTION_ID}").respond(
        202, json={"syncId": SYNC_ID}
    )

    result = client.update_expense_transaction(
        COMPANY_ID,
        TRANSACTION_ID,
        {"type": "Payment", "issueDate": "2024-05-21", "currency": "GBP"},
    )

    assert result == {"syncId": SYNC_ID}
    assert "Idempotency-Key" not in route.calls.last.request.headers


def test_transfer_is_a_put_with_from_and_to(client, codat):
    route = codat.put(f"{EXPENSES}/transfer-transactions/{TRANSACTION_ID}").respond(
        200, json={"syncId": SYNC_ID}
    )

    client.create_transfer_transaction(
        COMPANY_ID,
        TRANSACTION_ID,
        {
            "date": "2024-05-21",
            "from": {"accountRef": {"id": "1"}, "amount": Decimal("100.00")},
            "to": {"accountRef": {"id": "2"}, "amount": Decimal("100.00")},
        },
    )

    assert b'"from":{"accountRef":{"id":"1"},"amount":100.00}' in route.calls.last.request.content


def test_no_body_responses_return_none(client, codat):
    codat.delete(COMPANY_PATH).respond(204)
    codat.post(f"{COMPANY_PATH}/data/all").respond(204)
    # delete-connection answers 200 with an empty body, which must not count as malformed JSON.
    codat.delete(f"{COMPANY_PATH}/connections/{CONNECTION_ID}").respond(200)

    assert client.delete_company(COMPANY_ID) is None
    assert client.refresh_all_data_types(COMPANY_ID) is None
    assert client.delete_connection(COMPANY_ID, CONNECTION_ID) is None


def test_upload_sends_a_multipart_file_part_with_name_and_type(client, codat):
    route = codat.post(f"{EXPENSES}/syncs/{SYNC_ID}/transactions/{TRANSACTION_ID}/attachments")
    route.respond(
        200, json={"companyId": COMPANY_ID, "id": "att-1", "transactionId": TRANSACTION_ID}
    )
    receipt = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"x" * 200_000)

    result = client.upload_attachment(
        COMPANY_ID,
        SYNC_ID,
        TRANSACTION_ID,
        receipt,
        filename="receipt 1.png",
        content_type="image/png",
    )

    request = route.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'Content-Disposition: form-data; name="file"; filename="receipt 1.png"' in body
    assert b"Content-Type: image/png" in body
    assert b"\x89PNG\r\n\x1a\n" + b"x" * 200_000 in body
    assert result["id"] == "att-1"


def test_ids_in_paths_are_quoted(client, codat):
    route = codat.get(f"{COMPANY_PATH}/data/suppliers/23_Bills%2F..%3Fx").respond(
        200, json={"id": "23_Bills/..?x", "status": "Active"}
    )

    client.get_supplier(COMPANY_ID, "23_Bills/..?x")

    assert route.called


def test_partner_expense_connection_and_unlink(client, codat):
    create = codat.post(f"{EXPENSES}/connections/partnerExpense").respond(
        200, json={"id": CONNECTION_ID, "status": "Linked"}
    )
    unlink = codat.patch(f"{COMPANY_PATH}/connections/{CONNECTION_ID}").respond(
        200, json={"id": CONNECTION_ID, "status": "Unlinked"}
    )

    client.create_partner_expense_connection(COMPANY_ID)
    client.unlink_connection(COMPANY_ID, CONNECTION_ID)

    assert create.calls.last.request.content == b""
    assert json.loads(unlink.calls.last.request.content) == {"status": "Unlinked"}


def test_refresh_one_data_type_on_one_connection(client, codat):
    route = codat.post(f"{COMPANY_PATH}/data/queue/chartOfAccounts").respond(
        200, json={"id": "d1", "status": "Queued"}
    )

    client.refresh_data_type(COMPANY_ID, "chartOfAccounts", connection_id=CONNECTION_ID)

    assert route.calls.last.request.url.params["connectionId"] == CONNECTION_ID


# --- Rate limit headers -----------------------------------------------------------------------


def test_rate_limit_headers_are_exposed_and_attached_to_errors(client, codat):
    codat.get(COMPANY_PATH).mock(
        side_effect=[
            httpx.Response(
                200,
                json=COMPANY,
                headers={
                    "X-Rate-Limit-Limit": "12000",
                    "X-Rate-Limit-Remaining": "11999",
                    "X-Rate-Limit-Reset": "2026-03-03T00:00:00Z",
                },
            ),
            httpx.Response(
                429,
                headers={
                    "X-Rate-Limit-Limit": "12000",
                    "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": "Tue, 03 Mar 2026 00:00:00 GMT",
                    "Retry-After": "30",
                },
            ),
        ]
    )
    assert client.rate_limit is None

    client.get_company(COMPANY_ID)
    assert client.rate_limit == RateLimit(
        limit=12000, remaining=11999, reset=datetime(2026, 3, 3, tzinfo=UTC)
    )

    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_company(COMPANY_ID)
    expected = RateLimit(limit=12000, remaining=0, reset=datetime(2026, 3, 3, tzinfo=UTC))
    assert client.rate_limit == expected
    assert caught.value.rate_limit == expected


def test_an_upload_retried_under_its_key_is_the_same_request_byte_for_byte(client, codat):
    """Found by the chaos run: httpx picks a random multipart boundary per request, so a retry
    after a timeout differed from the first request and Codat refused the reused key (422)."""
    route = codat.post(path__regex=r".*/attachments$").respond(200, json={"id": "a1"})
    for _ in range(2):
        client.upload_attachment(
            COMPANY_ID,
            SYNC_ID,
            TRANSACTION_ID,
            io.BytesIO(b"%PDF-1.4"),
            filename="r.pdf",
            content_type="application/pdf",
            idempotency_key="key-1",
        )
    first, second = (call.request for call in route.calls)
    assert first.read() == second.read()
    assert first.headers["Content-Type"] == second.headers["Content-Type"]
    assert first.headers["Content-Type"].startswith("multipart/form-data; boundary=")
