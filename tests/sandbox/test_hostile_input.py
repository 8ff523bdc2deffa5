"""Input that used to crash a handler (500) must be a 400 ErrorMessage that changes nothing.

Each case here once reached the database or the standard library unchecked: an impossible date,
numbers JSON can spell but storage cannot keep, nesting past the recursion limit, an int query
past int32, a multipart body with no boundary, and strings wider than their columns (the last
only fail on PostgreSQL, so run this file there too).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codat_sandbox import engine, jsonutil
from codat_sandbox.models import (
    IdempotencyRecord,
    PushOperation,
    SandboxAttachment,
    SandboxCompany,
    SandboxSync,
)

from .conftest import AUTH, PREFIX, create_company, expense, link_company

pytestmark = pytest.mark.django_db


def assert_plain_400(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["statusCode"] == 400
    assert body["error"] and body["correlationId"] == response["X-Correlation-Id"]
    return body


def _validation_messages(body) -> str:
    return " ".join(item["message"] for item in (body["validation"] or {}).get("errors", []))


# --- a. dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2026-13-45", "2026-13-45T00:00:00Z", "2026-02-30"])
def test_an_impossible_date_is_a_validation_error(api, date):
    linked = link_company(api)
    cid = linked["company"]["id"]
    body = assert_plain_400(
        api.post(
            f"/companies/{cid}/sync/expenses/expense-transactions",
            [expense(api, linked, issueDate=date)],
        )
    )
    assert body["validation"]["errors"][0]["itemId"] == "[0].issueDate"
    assert not SandboxSync.objects.exists()


# --- b. non-finite numbers --------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_numbers_storage_cannot_keep_are_refused(api, number):
    linked = link_company(api)
    cid = linked["company"]["id"]
    good = expense(api, linked)
    good["lines"][0]["netAmount"] = "NUMBER"
    # Written by hand: the encoder cannot spell these numbers.
    raw = jsonutil.dumps([good]).replace('"NUMBER"', number)
    response = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", raw)
    body = assert_plain_400(response)
    assert body["validation"]["errors"][0]["itemId"] == "body"
    assert not SandboxSync.objects.exists()


def test_an_unknown_property_holding_a_huge_number_is_refused_too(api):
    # Unknown properties are kept in the stored payload, so the check cannot be the schema's alone.
    assert_plain_400(api.post("/companies", '{"name":"Big Ltd","extra":1e400}'))
    assert not SandboxCompany.objects.exists()


def test_the_schema_refuses_a_non_finite_decimal():
    from decimal import Decimal

    from codat_sandbox import schemas

    for value in (Decimal("NaN"), Decimal("Infinity"), Decimal("1e400")):
        _, errors = schemas.validate(schemas.NUMBER, value)
        assert errors and errors[0]["validatorName"] == "TypeValidator"
    assert schemas.validate(schemas.NUMBER, Decimal("1e300")) == (Decimal("1e300"), [])


# --- c. nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [100_000, 65])
def test_deep_nesting_is_refused(api, levels):
    body = assert_plain_400(api.post("/companies", b"[" * levels + b"]" * levels))
    assert "deep" in _validation_messages(body)
    assert not SandboxCompany.objects.exists()


def test_nesting_up_to_the_limit_is_still_json(api):
    nested = "[" * 63 + "]" * 63
    response = api.post("/companies", '{"name":"Nested Ltd","extra":' + nested + "}")
    assert response.status_code == 200, response.content


# --- d. int query parameters ------------------------------------------------------------------


@pytest.mark.parametrize("minutes", ["99999999999999999999999", str(2**31), "-1", "ten"])
def test_timeout_in_minutes_out_of_int32_is_refused(api, minutes):
    linked = link_company(api)
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    body = assert_plain_400(
        api.post(
            f"/companies/{cid}/connections/{conn}/push/customers?timeoutInMinutes={minutes}",
            {"customerName": "Slow Customer", "status": "Active"},
        )
    )
    assert body["validation"]["errors"][0]["itemId"] == "timeoutInMinutes"
    assert not PushOperation.objects.exists()


def test_the_largest_int32_timeout_is_accepted(api):
    linked = link_company(api)
    cid, conn = linked["company"]["id"], linked["connection"]["id"]
    response = api.post(
        f"/companies/{cid}/connections/{conn}/push/customers?timeoutInMinutes={2**31 - 1}",
        {"customerName": "Patient Customer", "status": "Active"},
    )
    assert response.status_code == 200, response.content
    engine.advance()
    key = response.json()["pushOperationKey"]
    assert api.get(f"/companies/{cid}/push/{key}").json()["status"] == "Success"


# --- e. multipart -----------------------------------------------------------------------------


def _synced_expense(api):
    linked = link_company(api)
    cid = linked["company"]["id"]
    txn = expense(api, linked)
    sync_id = api.post(f"/companies/{cid}/sync/expenses/expense-transactions", [txn]).json()[
        "syncId"
    ]
    engine.advance()
    path = f"{PREFIX}/companies/{cid}/sync/expenses/syncs/{sync_id}/transactions/{txn['id']}"
    return path + "/attachments"


def test_a_multipart_body_without_a_boundary_is_refused(api, client):
    url = _synced_expense(api)
    response = client.post(
        url,
        b"this is not a form",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=AUTH,
    )
    assert_plain_400(response)
    assert not SandboxAttachment.objects.exists()


# --- f. strings wider than their columns (PostgreSQL raises DataError) -------------------------


def test_a_company_name_over_200_characters_is_refused_everywhere(api):
    long_name = "A" * 201
    body = assert_plain_400(api.post("/companies", {"name": long_name}))
    assert body["validation"]["errors"][0]["itemId"] == "name"
    assert not SandboxCompany.objects.exists()
    company = create_company(api, "Short Ltd")
    path = f"/companies/{company['id']}"
    assert_plain_400(api.put(path, {"name": long_name}))
    assert_plain_400(api.patch(path, {"name": long_name}))
    assert SandboxCompany.objects.get().name == "Short Ltd"
    assert api.post("/companies", {"name": "A" * 200}).status_code == 200


def test_an_idempotency_key_over_255_characters_is_refused(api):
    response = api.post("/companies", {"name": "Keyed Ltd"}, headers={"Idempotency-Key": "k" * 256})
    body = assert_plain_400(response)
    assert body["validation"]["errors"][0]["itemId"] == "Idempotency-Key"
    assert not SandboxCompany.objects.exists() and not IdempotencyRecord.objects.exists()
    ok = api.post("/companies", {"name": "Keyed Ltd"}, headers={"Idempotency-Key": "k" * 255})
    assert ok.status_code == 200


def _upload(client, url, name, content_type):
    return client.post(
        url,
        {"file": SimpleUploadedFile(name, b"%PDF-1.4 x", content_type=content_type)},
        HTTP_AUTHORIZATION=AUTH,
    )


def test_a_long_attachment_filename_is_kept_to_255_characters_with_its_extension(api, client):
    url = _synced_expense(api)
    response = _upload(client, url, "r" * 300 + ".pdf", "application/pdf")
    assert response.status_code == 200, response.content
    stored = SandboxAttachment.objects.get()
    assert len(stored.filename) == 255 and stored.filename.endswith(".pdf")


def test_an_attachment_content_type_over_100_characters_is_refused(api, client):
    url = _synced_expense(api)
    body = assert_plain_400(_upload(client, url, "receipt.pdf", "application/" + "x" * 100))
    assert body["validation"]["errors"][0]["itemId"] == "file"
    assert not SandboxAttachment.objects.exists()
