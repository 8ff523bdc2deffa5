"""The one wrapper every API view goes through, plus JSON and paging helpers.

The wrapper does what Codat's gateway does before and after an operation: Basic API-key auth,
fault injection, the daily quota and per-company concurrency (429 + Retry-After), Idempotency-Key
replay, X-Rate-Limit-* headers on every answer, and Codat's ErrorMessage body (with a
correlationId) for every error, including unexpected exceptions.
"""

import base64
import binascii
import logging
import uuid
from urllib.parse import urlencode

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import conf, engine, jsonutil, limits, query
from .errors import (
    MALFORMED_QUERY,
    ApiError,
    error_response,
    invalid,
    invalid_field,
    new_correlation_id,
)
from .schemas import validate

logger = logging.getLogger(__name__)


def authorized(request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "basic" or not credential.strip():
        return False
    try:
        key = base64.b64decode(credential.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return key in conf.api_keys()


def json_response(data, status: int = 200) -> HttpResponse:
    return HttpResponse(
        jsonutil.dumps(data), status=status, content_type="application/json; charset=utf-8"
    )


def no_content(status: int = 204) -> HttpResponse:
    return HttpResponse(status=status)


# The width of the key column; Codat documents no limit, and keys are meant to be UUIDs.
MAX_IDEMPOTENCY_KEY_LENGTH = 255


# Reads run in autocommit; writes in one transaction. On SQLite the settings make every atomic()
# BEGIN IMMEDIATE, so writers queue for the write lock (busy timeout) instead of failing when a
# deferred transaction tries to upgrade, while reads never wait for it. A GET that moves syncs on
# (reading a sync's status) commits each step in the engine's own transactions.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

TOO_LARGE = "The request body is too large."


def endpoint(**handlers):
    """Build a view for one API path from one handler per HTTP method.

    Handlers take (request, **url kwargs) and return an HttpResponse. Handlers for methods that
    change things run inside a database transaction, so an ApiError raised half-way leaves
    nothing behind.
    """

    @csrf_exempt
    def view(request, **kwargs):
        return _serve(request, handlers, kwargs)

    view.handlers = handlers
    return view


def _serve(request, handlers, kwargs):
    engine.ensure_background()
    correlation_id = new_correlation_id()
    now = timezone.now()
    company_id = _uuid_or_none(kwargs.get("company_id"))
    rate_headers = limits.rate_headers(limits.current_usage(now), now)
    slot = None
    claim = None
    try:
        handler = handlers.get(request.method)
        if handler is None:
            raise ApiError(405, headers={"Allow": ", ".join(sorted(handlers))})
        if not authorized(request):
            raise ApiError(401)
        idempotency_key = _idempotency_key(request)
        faults = limits.faults_for(company_id)
        # The concurrency slot and the idempotency claim come before injected latency, so a
        # slow request counts toward the company's concurrency limit and a retry with the same
        # key sees it in flight (409) for as long as it is slow, as on Codat.
        if company_id is not None:
            slot = limits.enter_company(company_id)
            if slot is None:
                raise limits.too_many(1, rate_headers)
        stored = None
        if idempotency_key is not None:
            stored, claim = limits.claim_idempotency_key(
                idempotency_key,
                limits.request_fingerprint(request),
                now,
                limits.injected_delay(faults),
            )
        try:
            limits.inject_faults(faults, rate_headers, now)
        except ApiError:
            # An injected 5xx/429 stands for the gateway failing before the operation ran: it
            # is never kept for the key, so the client's retry with that key runs for real.
            if claim is not None:
                limits.release_idempotency_key(claim)
                claim = None
            raise
        used = limits.count_request(now)
        rate_headers = limits.rate_headers(used, now)
        # The first request of a new UTC day may be what notices yesterday's quota is back.
        if limits.first_request_today(now):
            engine.enqueue_rate_limit_reset(now)
        if used > conf.daily_quota():
            if used == conf.daily_quota() + 1:
                engine.enqueue_rate_limit_reached(now)
            raise limits.too_many(limits.seconds_until_reset(now), rate_headers)
        if stored is not None:
            response = HttpResponse(bytes(stored.body), status=stored.status_code)
            for name, value in stored.headers.items():
                response[name] = value
            return _finish(response, rate_headers, correlation_id)
        if request.method in READ_METHODS:
            response = handler(request, **kwargs)
        else:
            with transaction.atomic():
                response = handler(request, **kwargs)
    except ApiError as exc:
        response = error_response(exc, correlation_id)
    except RequestDataTooBig:
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE when it is first read.
        response = error_response(ApiError(413, TOO_LARGE), correlation_id)
    except Exception:
        logger.exception("Sandbox API error (correlationId %s)", correlation_id)
        response = error_response(ApiError(500), correlation_id)
    finally:
        limits.leave_company(slot)
    if claim is not None:
        limits.store_idempotent_response(claim, response)
    return _finish(response, rate_headers, correlation_id)


def _idempotency_key(request) -> str | None:
    """The Idempotency-Key this request wants honoured: POST and PATCH only, as on Codat."""
    key = request.headers.get("Idempotency-Key")
    if request.method not in ("POST", "PATCH") or not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise invalid_field(
            "Idempotency-Key",
            f"The Idempotency-Key header must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
            "LengthValidator",
        )
    return key


def _uuid_or_none(value):
    # A malformed company id still gets its 404 from the handler; it just has no limits row.
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _finish(response, rate_headers, correlation_id):
    for name, value in rate_headers.items():
        if name not in response:
            response[name] = value
    response["X-Correlation-Id"] = correlation_id
    return response


# --- Request parsing --------------------------------------------------------------------------

# Codat's .NET serializers stop at 64 levels of nesting. Bodies under Python's recursion limit
# but deeper than this would still be stored, and re-encoding them (JSONField, webhooks) could
# hit the limit later, in a place that answers 500.
MAX_JSON_DEPTH = 64


def parse_json(request):
    """The request body as JSON with decimals kept exact; 400 when it is not JSON, or is JSON
    the sandbox cannot store (non-finite numbers, nesting past MAX_JSON_DEPTH)."""
    if not request.body:
        raise _bad_body("A request body is required.", "RequiredValidator")
    try:
        value = jsonutil.loads(request.body)
    except jsonutil.UnstorableNumber as exc:
        raise _bad_body(f"The request body holds a number that cannot be used: {exc}") from None
    except RecursionError:
        # json recurses once per nesting level and gives up at Python's recursion limit.
        raise _bad_body(TOO_DEEP) from None
    except (ValueError, UnicodeDecodeError):
        raise _bad_body("The request body is not valid JSON.") from None
    if jsonutil.depth(value) > MAX_JSON_DEPTH:
        raise _bad_body(TOO_DEEP)
    return value


TOO_DEEP = f"The request body nests more than {MAX_JSON_DEPTH} levels deep."


def _bad_body(message: str, validator: str = "JsonValidator") -> ApiError:
    return invalid_field("body", message, validator)


def validated_body(request, schema: dict, service: str = "PublicApi"):
    value, errors = validate(schema, parse_json(request))
    if errors:
        raise invalid(errors, service=service)
    return value


def parse_uuid(value: str, not_found: ApiError) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found from None


def _int_param(request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise invalid_field(
            name, f"{name} must be between {minimum} and {maximum}.", "RangeValidator"
        )
    return value


def api_path(request) -> str:
    """The request path as Codat writes it in _links: from /companies on, no sandbox prefix."""
    root = reverse("codat_sandbox:companies").removesuffix("companies")
    return "/" + request.path.removeprefix(root).lstrip("/")


def paged(request, records: list[dict], *, filterable: bool = True, optional=()) -> HttpResponse:
    """Codat's paging envelope over records; applies query/orderBy when the op has them.

    `optional` names properties of the listed model that the records omit while unset, so
    querying them is not refused as an unknown property.
    """
    page = _int_param(request, "page", 1, 1, 2**31 - 1)
    page_size = _int_param(request, "pageSize", 100, 1, 5000)
    if filterable:
        try:
            records = query.apply(
                records, request.GET.get("query"), request.GET.get("orderBy"), optional
            )
        except query.UnknownProperty as exc:
            raise ApiError(400, f"Error parsing query - {exc}", service="ClientsApi") from None
        except query.QueryError:
            raise ApiError(400, MALFORMED_QUERY, service="ClientsApi") from None
    total = len(records)
    start = (page - 1) * page_size
    results = records[start : start + page_size]
    base = api_path(request)

    def href(number: int) -> dict:
        params = {"page": number, "pageSize": page_size}
        for name in ("query", "orderBy"):
            if filterable and request.GET.get(name):
                params[name] = request.GET[name]
        return {"href": f"{base}?{urlencode(params)}"}

    links = {"self": {"href": base}, "current": href(page)}
    if start + page_size < total:
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    return json_response(
        {
            "results": results,
            "pageNumber": page,
            "pageSize": page_size,
            "totalResults": total,
            "_links": links,
        }
    )
