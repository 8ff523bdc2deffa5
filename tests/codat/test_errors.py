import logging
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import time_machine

from integrations.codat import (
    CodatAlreadyProcessedError,
    CodatAuthError,
    CodatConflictError,
    CodatError,
    CodatNotFoundError,
    CodatRateLimitedError,
    CodatRedirectError,
    CodatRequestError,
    CodatTransientError,
    CodatValidationError,
)

from .helpers import (
    API_KEY,
    API_KEY_B64,
    COMPANY_ID,
    CORRELATION_ID,
    SYNC_ID,
    TRANSACTION_ID,
    error_body,
)

COMPANY_PATH = f"/companies/{COMPANY_ID}"
EXPENSES_PATH = f"{COMPANY_PATH}/sync/expenses/expense-transactions"

EXPENSE = {
    "id": TRANSACTION_ID,
    "type": "Payment",
    "issueDate": "2024-05-21T00:00:00Z",
    "currency": "GBP",
    "lines": [{"netAmount": "10.00", "accountRef": {"id": "35"}}],
}


def assert_no_secret(error):
    for text in (str(error), repr(error), str(error.args)):
        assert API_KEY not in text
        assert API_KEY_B64 not in text


def test_429_with_retry_after_seconds_is_rate_limited(client, codat):
    codat.get(COMPANY_PATH).respond(
        429,
        json=error_body(429, "You have made too many requests"),
        headers={"Retry-After": "42"},
    )

    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_company(COMPANY_ID)

    error = caught.value
    assert error.retryable
    assert error.retry_after == 42
    assert error.status_code == 429
    assert error.correlation_id == CORRELATION_ID


@time_machine.travel(datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC), tick=False)
def test_429_with_retry_after_http_date_counts_seconds_from_now(client, codat):
    retry_at = datetime(2026, 3, 2, 12, 1, 30, tzinfo=UTC)
    codat.get(COMPANY_PATH).respond(
        429, json=error_body(429, "slow down"), headers={"Retry-After": format_datetime(retry_at)}
    )

    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retry_after == 90


def test_retry_after_in_the_past_means_retry_now(client, codat):
    past = datetime.now(UTC) - timedelta(minutes=5)
    codat.get(COMPANY_PATH).respond(429, headers={"Retry-After": format_datetime(past)})

    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retry_after == 0


def test_unparseable_retry_after_is_ignored(client, codat):
    codat.get(COMPANY_PATH).respond(429, headers={"Retry-After": "soon"})

    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client, codat, status):
    codat.get(COMPANY_PATH).respond(status, json=error_body(status, "problem with our server"))

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    error = caught.value
    assert error.retryable
    assert error.status_code == status
    assert error.error == "problem with our server"
    assert error.method == "GET"
    assert error.path == COMPANY_PATH


def test_503_keeps_its_retry_after(client, codat):
    codat.get(COMPANY_PATH).respond(
        503, json=error_body(503, "temporarily offline"), headers={"Retry-After": "120"}
    )

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retry_after == 120


def test_a_non_json_error_page_is_still_classified(client, codat):
    codat.get(COMPANY_PATH).respond(502, text="<html>Bad gateway</html>")

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.error == "<html>Bad gateway</html>"
    assert caught.value.correlation_id is None


def test_timeout_is_transient(client, codat):
    codat.get(COMPANY_PATH).mock(side_effect=httpx.ReadTimeout("read timed out"))

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retryable
    assert caught.value.status_code is None
    assert "timed out" in str(caught.value)


def test_connection_error_is_transient(client, codat):
    codat.get(COMPANY_PATH).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.retryable
    assert "could not reach Codat" in str(caught.value)


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe"])
def test_malformed_json_in_a_2xx_is_transient(client, codat, content):
    codat.get(COMPANY_PATH).respond(200, content=content)

    with pytest.raises(CodatTransientError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.status_code == 200
    assert "malformed JSON" in str(caught.value)


def test_an_array_where_an_object_belongs_is_transient(client, codat):
    codat.get(COMPANY_PATH).respond(200, json=[])

    with pytest.raises(CodatTransientError, match="expected a JSON object"):
        client.get_company(COMPANY_ID)


def test_400_carries_validation_items(client, codat):
    body = error_body(
        400,
        "Error processing request - not valid.",
        validation={
            "errors": [
                {
                    "itemId": TRANSACTION_ID,
                    "message": "Account 35 is archived.",
                    "validatorName": "AccountValidator",
                }
            ],
            "warnings": [
                {"itemId": TRANSACTION_ID, "message": "No tax rate.", "validatorName": "Tax"}
            ],
        },
    )
    codat.post(EXPENSES_PATH).respond(400, json=body)

    with pytest.raises(CodatValidationError) as caught:
        client.create_expense_transactions(COMPANY_ID, [EXPENSE])

    error = caught.value
    assert not error.retryable
    assert error.status_code == 400
    assert error.error == "Error processing request - not valid."
    assert error.validation_errors == [
        {
            "itemId": TRANSACTION_ID,
            "message": "Account 35 is archived.",
            "validatorName": "AccountValidator",
        }
    ]
    assert error.validation_warnings[0]["message"] == "No tax rate."
    assert error.method == "POST"
    assert error.path == EXPENSES_PATH


@pytest.mark.parametrize(
    "body",
    [
        {"error": 42, "validation": ["not", "items"]},
        {"error": "bad", "validation": {"errors": "nope", "warnings": [None, 3]}},
        ["an", "array"],
        "a string",
    ],
)
def test_an_oddly_shaped_400_body_is_still_a_validation_error(client, codat, body):
    codat.post(EXPENSES_PATH).respond(400, json=body)

    with pytest.raises(CodatValidationError) as caught:
        client.create_expense_transactions(COMPANY_ID, [EXPENSE])

    assert caught.value.validation_errors == []
    assert caught.value.validation_warnings == []


def test_422_is_a_validation_error(client, codat):
    path = f"{COMPANY_PATH}/sync/expenses/expense-transactions/{TRANSACTION_ID}"
    codat.put(path).respond(
        422, json=error_body(422, "Updates are not supported for this platform.", validation=None)
    )

    with pytest.raises(CodatValidationError) as caught:
        client.update_expense_transaction(
            COMPANY_ID,
            TRANSACTION_ID,
            {"type": "Payment", "issueDate": "2024-05-21", "currency": "GBP"},
        )

    assert caught.value.status_code == 422
    assert caught.value.validation_errors == []


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors(client, codat, status):
    codat.get(COMPANY_PATH).respond(status, json=error_body(status, "Unauthorized"))

    with pytest.raises(CodatAuthError) as caught:
        client.get_company(COMPANY_ID)

    assert not caught.value.retryable
    assert caught.value.status_code == status


def test_404_is_not_found(client, codat):
    codat.get(COMPANY_PATH).respond(
        404, json=error_body(404, f"No company was found with ID {COMPANY_ID}")
    )

    with pytest.raises(CodatNotFoundError) as caught:
        client.get_company(COMPANY_ID)

    assert not caught.value.retryable
    assert caught.value.error == f"No company was found with ID {COMPANY_ID}"


def test_409_is_a_retryable_conflict(client, codat):
    codat.get(f"{COMPANY_PATH}/data/info").respond(
        409, json=error_body(409, "The data set has not been requested.")
    )

    with pytest.raises(CodatConflictError) as caught:
        client.get_company_info(COMPANY_ID)

    assert caught.value.retryable


def test_other_4xx_fall_back_to_request_error(client, codat):
    codat.get(COMPANY_PATH).respond(402, json=error_body(402, "Free plan limit reached"))

    with pytest.raises(CodatRequestError) as caught:
        client.get_company(COMPANY_ID)

    assert type(caught.value) is CodatRequestError
    assert not caught.value.retryable


def test_previously_processed_400_names_the_transactions(client, codat):
    other = "2b7e0d4f-1c1a-4c44-9a7e-0a1d2f3e4b5c"
    codat.post(EXPENSES_PATH).respond(
        400,
        json=error_body(
            400,
            f"One or more transactions have previously been processed: {TRANSACTION_ID}, {other}",
        ),
    )

    with pytest.raises(CodatAlreadyProcessedError) as caught:
        client.create_expense_transactions(COMPANY_ID, [EXPENSE])

    error = caught.value
    assert not isinstance(error, CodatValidationError)
    assert not error.retryable
    assert error.transaction_ids == [TRANSACTION_ID, other]


def test_previously_processed_in_a_validation_item_is_recognised(client, codat):
    codat.post(EXPENSES_PATH).respond(
        400,
        json=error_body(
            400,
            "Error processing request - not valid.",
            validation={
                "errors": [
                    {
                        "itemId": TRANSACTION_ID,
                        "message": f"Transactions have previously been processed: {TRANSACTION_ID}",
                        "validatorName": "Duplicates",
                    }
                ]
            },
        ),
    )

    with pytest.raises(CodatAlreadyProcessedError) as caught:
        client.create_expense_transactions(COMPANY_ID, [EXPENSE])

    assert caught.value.transaction_ids == [TRANSACTION_ID]


def test_a_redirect_is_an_error_and_is_not_followed(client, codat):
    followed = codat.get("http://elsewhere.test/steal").respond(200, json={})
    codat.get(COMPANY_PATH).respond(302, headers={"Location": "http://elsewhere.test/steal"})

    with pytest.raises(CodatRedirectError) as caught:
        client.get_company(COMPANY_ID)

    assert caught.value.status_code == 302
    assert "http://elsewhere.test/steal" in str(caught.value)
    assert not followed.called


def test_error_text_names_method_path_status_and_correlation_id(client, codat):
    codat.get(COMPANY_PATH).respond(404, json=error_body(404, "Not here"))

    with pytest.raises(CodatNotFoundError) as caught:
        client.get_company(COMPANY_ID)

    assert str(caught.value) == (
        f"GET {COMPANY_PATH} -> 404: Not here (correlationId {CORRELATION_ID})"
    )


ERROR_RESPONSES = [
    httpx.Response(400, json=error_body(400, "bad")),
    httpx.Response(401, json=error_body(401, "Unauthorized")),
    httpx.Response(403, json=error_body(403, "Forbidden")),
    httpx.Response(404, json=error_body(404, "missing")),
    httpx.Response(409, json=error_body(409, "conflict")),
    httpx.Response(422, json=error_body(422, "unprocessable")),
    httpx.Response(429, json=error_body(429, "slow"), headers={"Retry-After": "1"}),
    httpx.Response(500, json=error_body(500, "boom")),
    httpx.Response(302, headers={"Location": "http://elsewhere.test/"}),
    httpx.Response(200, content=b"not json"),
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
]


@pytest.mark.parametrize("outcome", ERROR_RESPONSES, ids=lambda o: getattr(o, "status_code", o))
def test_the_api_key_never_appears_in_errors_or_logs(client, codat, caplog, outcome):
    codat.get(COMPANY_PATH).mock(side_effect=[outcome])
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CodatError) as caught:
        client.get_company(COMPANY_ID)

    assert_no_secret(caught.value)
    if caught.value.__cause__ is not None:
        assert_no_secret(caught.value.__cause__)
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY_B64 not in record.getMessage()
    assert API_KEY not in caplog.text
    assert API_KEY_B64 not in caplog.text
    assert API_KEY not in repr(client)


def test_errors_survive_pickling(client, codat):
    codat.get(f"{COMPANY_PATH}/sync/expenses/syncs/{SYNC_ID}/status").respond(
        429, json=error_body(429, "slow"), headers={"Retry-After": "7"}
    )
    with pytest.raises(CodatRateLimitedError) as caught:
        client.get_sync(COMPANY_ID, SYNC_ID)

    restored = pickle.loads(pickle.dumps(caught.value))

    assert type(restored) is CodatRateLimitedError
    assert restored.retry_after == 7
    assert str(restored) == str(caught.value)


def test_413_payload_too_large_is_permanent(client, codat):
    codat.post(EXPENSES_PATH).respond(413, json=error_body(413, "The request body is too large."))

    with pytest.raises(CodatRequestError) as caught:
        client.create_expense_transactions(COMPANY_ID, [EXPENSE])

    assert caught.value.status_code == 413 and not caught.value.retryable
