"""Codat's ErrorMessage body, raised as an exception from anywhere in a request."""

import uuid

from django.http import HttpResponse

from . import jsonutil

# The `error` texts Codat uses for each status when nothing more specific applies (spec
# components.responses examples).
DEFAULT_TEXT = {
    400: "Error processing request - not valid.",
    401: "Unauthorized",
    403: "You are using an outdated API key or a key not associated with that resource.",
    404: "Not found.",
    405: "The requested resource does not support this http method.",
    409: "The data set has not been requested.",
    422: "Unprocessable content.",
    429: "You have made too many requests in a given amount of time; please retry later.",
    500: "There is a problem with our server. Please try again later.",
    503: "The Codat API is temporarily offline for maintenance. Please try again later.",
}
MALFORMED_QUERY = "Error parsing query - Malformed query."

# The `service` Codat names in the ErrorMessage of each group of operations.
PUBLIC_SERVICE = "PublicApi"
CLIENTS_SERVICE = "ClientsApi"
PULL_SERVICE = "PullApi"
EXPENSE_SERVICE = "ExpenseSyncApi"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str | None = None,
        *,
        service: str = "PublicApi",
        validation: list[dict] | None = None,
        headers: dict | None = None,
        can_be_retried: str = "Unknown",
    ):
        super().__init__(error or DEFAULT_TEXT.get(status, ""))
        self.status = status
        self.error = error or DEFAULT_TEXT.get(status, "")
        self.service = service
        self.validation = validation
        self.headers = headers or {}
        self.can_be_retried = can_be_retried


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def error_body(exc: ApiError, correlation_id: str) -> dict:
    return {
        "statusCode": exc.status,
        "service": exc.service,
        "error": exc.error,
        "correlationId": correlation_id,
        "validation": (
            {"errors": exc.validation, "warnings": []} if exc.validation is not None else None
        ),
        "canBeRetried": exc.can_be_retried,
        "detailedErrorCode": 0,
    }


def error_response(exc: ApiError, correlation_id: str) -> HttpResponse:
    response = HttpResponse(
        jsonutil.dumps(error_body(exc, correlation_id)),
        status=exc.status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in exc.headers.items():
        response[name] = value
    return response


def company_not_found(company_id) -> ApiError:
    return ApiError(404, f"No company was found with ID {company_id}", service="ClientsApi")


def connection_not_found(connection_id) -> ApiError:
    return ApiError(404, f"Data connection {connection_id} not found")


def validation_item(item_id: str | None, message: str | None, validator: str | None) -> dict:
    """One entry of Codat's `validation.errors`: the field at fault, what is wrong, and the
    validator that refused it."""
    return {"itemId": item_id, "message": message, "validatorName": validator}


def invalid(validation: list[dict], service: str = "PublicApi") -> ApiError:
    return ApiError(400, DEFAULT_TEXT[400], service=service, validation=validation)


def invalid_field(item_id: str, message: str, validator: str, service: str = "PublicApi"):
    """The 400 for a request with one field at fault."""
    return invalid([validation_item(item_id, message, validator)], service=service)
