"""Every error the partner API answers is JSON: a machine-readable code, a sentence, and the
fields at fault (with the item's index inside a batch)."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger(__name__)


class FieldError(Schema):
    field: str
    message: str
    index: int | None = None


class ErrorOut(Schema):
    code: str
    message: str
    fields: list[FieldError] = []


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


# The error answers each operation can give, for the schema (schemathesis holds us to it).
ERRORS = {code: ErrorOut for code in (400, 401, 404, 409, 413, 422)}


def _location(loc) -> tuple[str, int | None]:
    """("body", "payload", "transactions", 3, "lines", 0, "netAmount") -> ("transactions[3]
    .lines[0].netAmount", 3): the path the partner sent, and the batch index if any."""
    parts = [p for p in loc if p not in ("body", "payload", "query", "path", "form", "file")]
    index = None
    if len(parts) >= 2 and parts[0] == "transactions" and isinstance(parts[1], int):
        index = parts[1]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body", index


def _message(error: dict) -> str:
    message = error.get("msg", "Invalid value.")
    return message.removeprefix("Value error, ")


def install(api) -> None:
    def respond(request, status, code, message, fields=()):
        body = {"code": code, "message": message, "fields": list(fields)}
        return api.create_response(request, body, status=status)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields = []
        for error in exc.errors:
            field, index = _location(error.get("loc", ()))
            fields.append({"field": field, "message": _message(error), "index": index})
        too_many = [
            e
            for e in exc.errors
            if e.get("type") == "too_long" and _location(e["loc"])[0] == "transactions"
        ]
        if too_many:
            return respond(
                request,
                413,
                "batch_too_large",
                "At most 500 transactions per batch; nothing was stored.",
                fields,
            )
        return respond(
            request,
            422,
            "validation_error",
            "Some fields are not valid; nothing was stored.",
            fields,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(
            request,
            401,
            "unauthenticated",
            "Send a valid partner API key as `Authorization: Bearer <key>`.",
        )

    @api.exception_handler(Http404)
    def missing(request, exc):
        return respond(request, 404, "not_found", "Not found.")

    @api.exception_handler(Exception)
    def server_error(request, exc):
        # Logged with its traceback for us; the partner gets JSON like every other answer,
        # with nothing of the internals.
        logger.exception("Partner API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", "Something went wrong on our side.")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return respond(request, 413, "body_too_large", "The request body is too large.")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, RequestDataTooBig):
            return respond(request, 413, "body_too_large", "The request body is too large.")
        if exc.status_code == 400:
            return respond(request, 400, "malformed_request", "The body is not valid JSON.")
        return respond(request, exc.status_code, "error", str(exc.message))
