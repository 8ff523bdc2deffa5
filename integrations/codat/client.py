"""The only code in the portal that speaks HTTP to Codat (or to the sandbox standing in for it).

One method per Codat operation, named after the spec's operationId. Bodies and results are the
TypedDicts in ``types``; failures are the exceptions in ``errors``. The client does not retry:
retry policy belongs to the Celery task that knows how long the work may take, and it reads
``retryable`` / ``retry_after`` off the exception.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any, Literal, Protocol, Self
from urllib.parse import quote, unquote

import httpx

from . import encoding
from .errors import (
    CodatAlreadyProcessedError,
    CodatAuthError,
    CodatConflictError,
    CodatError,
    CodatHeldBackError,
    CodatNotFoundError,
    CodatQuotaReservedError,
    CodatRateLimitedError,
    CodatRedirectError,
    CodatRequestError,
    CodatTransientError,
    CodatValidationError,
    GateRefusal,
    RateLimit,
    is_previously_processed,
    previously_processed_ids,
)
from .types import (
    AccountPrototype,
    AdjustmentTransaction,
    Attachment,
    BankAccount,
    Company,
    CompanyConfiguration,
    CompanyInformation,
    CompanyRequestBody,
    CompanySyncStatus,
    CompanyUpdateRequest,
    Connection,
    CreateAccountResponse,
    CreateBankAccountResponse,
    Customer,
    CustomerPushResponse,
    DataStatus,
    ExpenseTransaction,
    MappingOptions,
    Page,
    PullOperation,
    PushOperation,
    PushOption,
    ReimbursableExpenseTransaction,
    Supplier,
    SupplierPushResponse,
    SyncResponse,
    TransactionStatus,
    TransferTransactionRequest,
    UpdateExpenseRequest,
    UpdateReimbursableExpenseRequest,
    ValidationItem,
)

logger = logging.getLogger(__name__)

PRODUCTION_URL = "https://api.codat.io"
MAX_TRANSACTIONS_PER_CALL = 50
DEFAULT_PAGE_SIZE = 100

_Expect = Literal["object", "array", "nothing"]
_NO_BODY = object()
_COMPANY_PATH = re.compile(r"^/companies/([^/?]+)")


class RequestGate(Protocol):
    """What every request passes through: Codat's limits, kept outside the client.

    ``slot`` is entered just before sending and left when the answer (or the failure) is in;
    it may raise ``GateRefusal`` to hold the request back. ``record`` sees every response.
    ``company_id`` is None for the few calls not about one company (listing, creating).
    The implementation the app uses is ``integrations.syncs.limits.CodatLimiter``.
    """

    def slot(self, company_id: str | None) -> contextlib.AbstractContextManager[object]: ...

    def record(
        self,
        company_id: str | None,
        status_code: int,
        rate_limit: RateLimit | None,
        retry_after: float | None,
    ) -> None: ...


class _OpenGate:
    """No limits: for tests and scripts that build a client by hand."""

    def slot(self, company_id: str | None) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def record(self, company_id, status_code, rate_limit, retry_after) -> None:
        pass


def _segment(value: object) -> str:
    # Ledger record ids are arbitrary strings ("23_Bills", "80000002-1674552702"); quote them so
    # an id containing "/" or "?" cannot change which endpoint is called.
    return quote(str(value), safe="")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _parse_http_or_iso_date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_rate_limit(headers: httpx.Headers) -> RateLimit | None:
    limit = headers.get("X-Rate-Limit-Limit")
    remaining = headers.get("X-Rate-Limit-Remaining")
    reset = headers.get("X-Rate-Limit-Reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimit(
        limit=_int_or_none(limit),
        remaining=_int_or_none(remaining),
        reset=_parse_http_or_iso_date(reset.strip()) if reset else None,
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from a Retry-After of either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _parse_http_or_iso_date(value)
        if when is None:
            return None
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


class CodatClient:
    """Typed client for Codat's Expenses API.

    ``base_url`` must be exactly ``production_url`` or ``sandbox_url``; anything else is refused
    so a typo in configuration can never send the API key to another host. Pass ``http_client``
    or ``transport`` to fake the network in tests; a client passed in is not closed by ``close``.

    A timeout on a write leaves its outcome unknown. Retry it with the same ``idempotency_key``
    (Codat replays the first response for 90 minutes), which is why every POST/PATCH takes one.

    ``gate`` (a ``RequestGate``) is asked before every request and told about every response;
    by default there is none. ``integrations.codat.factory.codat_client`` always passes one.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        sandbox_url: str | None = None,
        production_url: str = PRODUCTION_URL,
        timeout: float | httpx.Timeout = 30.0,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        gate: RequestGate | None = None,
    ) -> None:
        base_url = base_url.rstrip("/")
        allowed = {production_url.rstrip("/")}
        if sandbox_url:
            allowed.add(sandbox_url.rstrip("/"))
        if base_url not in allowed:
            raise ValueError(
                f"Refusing Codat base URL {base_url!r}: it must be the production URL or the "
                "configured sandbox URL."
            )
        if not api_key:
            raise ValueError("A Codat API key is required.")
        self.base_url = base_url
        self._authorization = "Basic " + base64.b64encode(api_key.encode()).decode("ascii")
        if isinstance(timeout, httpx.Timeout):
            self.timeout = timeout
        else:
            # Connecting and waiting for a pooled connection should fail fast; reading a slow
            # Codat response (a large page, a synchronous attachment write) may take the full time.
            quick = min(float(timeout), 10.0)
            self.timeout = httpx.Timeout(connect=quick, read=timeout, write=timeout, pool=quick)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, follow_redirects=False)
        self._rate_limit: RateLimit | None = None
        self.gate: RequestGate = gate or _OpenGate()

    def __repr__(self) -> str:
        return f"<CodatClient {self.base_url}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    @property
    def rate_limit(self) -> RateLimit | None:
        """``X-Rate-Limit-*`` from the most recent response that carried them."""
        return self._rate_limit

    # --- Plumbing ---------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        expect: _Expect = "object",
        params: Mapping[str, object] | None = None,
        body: object = _NO_BODY,
        files: Mapping[str, tuple[str, IO[bytes], str]] | None = None,
        idempotency_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Any:
        headers = {
            "Authorization": self._authorization,
            "Accept": "application/json",
            "User-Agent": "expenses-portal-codat-client",
        }
        if method in ("POST", "PATCH"):
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if files is not None and idempotency_key:
            # A multipart boundary of the key's own, not httpx's random one: a retry under the
            # same key is then the same request byte for byte, which Codat replays instead of
            # refusing (422) as the key reused for a different body.
            boundary = uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        content: bytes | None = None
        if body is not _NO_BODY:
            content = encoding.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        query = {
            key: _query_value(value) for key, value in (params or {}).items() if value is not None
        }

        company_id = _company_of(path)
        started = time.monotonic()
        try:
            with self.gate.slot(company_id):
                # Timed from here, so the log shows Codat's time, not the wait for a slot.
                started = time.monotonic()
                response = self._http.request(
                    method,
                    self.base_url + path,
                    params=query,
                    headers=headers,
                    content=content,
                    files=files,
                    timeout=timeout or self.timeout,
                    follow_redirects=False,
                )
        except GateRefusal as exc:
            held_back = CodatQuotaReservedError if exc.quota_reserved else CodatHeldBackError
            raise held_back(
                f"not sent: {exc.reason}",
                method=method,
                path=path,
                rate_limit=self._rate_limit,
                retry_after=exc.retry_after,
            ) from exc
        except httpx.TimeoutException as exc:
            raise CodatTransientError(
                f"timed out ({type(exc).__name__})",
                method=method,
                path=path,
                rate_limit=self._rate_limit,
            ) from exc
        except httpx.RequestError as exc:
            raise CodatTransientError(
                f"could not reach Codat ({type(exc).__name__})",
                method=method,
                path=path,
                rate_limit=self._rate_limit,
            ) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug("Codat %s %s -> %s in %.0f ms", method, path, response.status_code, elapsed_ms)

        rate_limit = parse_rate_limit(response.headers)
        if rate_limit is not None:
            self._rate_limit = rate_limit
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        self.gate.record(company_id, response.status_code, rate_limit, retry_after)
        if not response.is_success:
            raise _error_from_response(response, method, path, self._rate_limit)
        if expect == "nothing":
            return None
        return _parse_json(response, method, path, expect, self._rate_limit)

    def paginate[T](
        self,
        list_page: Callable[..., Page[T]],
        /,
        *args: Any,
        page_size: int = DEFAULT_PAGE_SIZE,
        start_page: int = 1,
        **kwargs: Any,
    ) -> Iterator[T]:
        """Yield every result of a paged list method, fetching pages as they are consumed.

        ``client.paginate(client.list_suppliers, company_id, query="status=Active")``.
        """
        page = start_page
        seen = 0
        while True:
            body = list_page(*args, page=page, page_size=page_size, **kwargs)
            results = body.get("results") or []
            yield from results
            seen += len(results)
            # Count what arrived rather than trusting pageNumber: some Codat examples number
            # pages from 0, and the server may cap pageSize below what was asked for.
            if not results or seen >= body.get("totalResults", 0):
                return
            page += 1

    # --- Companies --------------------------------------------------------------------------------

    def list_companies(
        self,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
        tags: str | None = None,
    ) -> Page[Company]:
        params = _paging(page, page_size, query, order_by) | {"tags": tags}
        return self._request("GET", "/companies", params=params)

    def create_company(
        self, company: CompanyRequestBody, *, idempotency_key: str | None = None
    ) -> Company:
        return self._request("POST", "/companies", body=company, idempotency_key=idempotency_key)

    def get_company(self, company_id: str) -> Company:
        return self._request("GET", _company(company_id))

    def replace_company(self, company_id: str, company: CompanyRequestBody) -> Company:
        return self._request("PUT", _company(company_id), body=company)

    def update_company(
        self,
        company_id: str,
        changes: CompanyUpdateRequest,
        *,
        idempotency_key: str | None = None,
    ) -> Company:
        return self._request(
            "PATCH", _company(company_id), body=changes, idempotency_key=idempotency_key
        )

    def delete_company(self, company_id: str) -> None:
        self._request("DELETE", _company(company_id), expect="nothing")

    # --- Connections ------------------------------------------------------------------------------

    def list_connections(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[Connection]:
        return self._request(
            "GET",
            f"{_company(company_id)}/connections",
            params=_paging(page, page_size, query, order_by),
        )

    def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        return self._request(
            "POST",
            f"{_company(company_id)}/connections",
            body={"platformKey": platform_key},
            idempotency_key=idempotency_key,
        )

    def get_connection(self, company_id: str, connection_id: str) -> Connection:
        return self._request("GET", _connection(company_id, connection_id))

    def delete_connection(self, company_id: str, connection_id: str) -> None:
        self._request("DELETE", _connection(company_id, connection_id), expect="nothing")

    def unlink_connection(
        self, company_id: str, connection_id: str, *, idempotency_key: str | None = None
    ) -> Connection:
        return self._request(
            "PATCH",
            _connection(company_id, connection_id),
            body={"status": "Unlinked"},
            idempotency_key=idempotency_key,
        )

    def create_partner_expense_connection(
        self, company_id: str, *, idempotency_key: str | None = None
    ) -> Connection:
        return self._request(
            "POST",
            f"{_expenses(company_id)}/connections/partnerExpense",
            idempotency_key=idempotency_key,
        )

    # --- Company info, mapping options, configuration ---------------------------------------------

    def get_company_info(self, company_id: str) -> CompanyInformation:
        return self._request("GET", f"{_company(company_id)}/data/info")

    def get_mapping_options(self, company_id: str) -> MappingOptions:
        return self._request("GET", f"{_expenses(company_id)}/mappingOptions")

    def get_company_configuration(self, company_id: str) -> CompanyConfiguration:
        return self._request("GET", f"{_expenses(company_id)}/config")

    def set_company_configuration(
        self,
        company_id: str,
        configuration: CompanyConfiguration,
        *,
        idempotency_key: str | None = None,
    ) -> CompanyConfiguration:
        return self._request(
            "POST",
            f"{_expenses(company_id)}/config",
            body=configuration,
            idempotency_key=idempotency_key,
        )

    # --- Transactions (each call starts a sync and returns its id) --------------------------------

    def create_expense_transactions(
        self,
        company_id: str,
        transactions: Sequence[ExpenseTransaction],
        *,
        idempotency_key: str | None = None,
    ) -> SyncResponse:
        return self._request(
            "POST",
            f"{_expenses(company_id)}/expense-transactions",
            body=_batch(transactions),
            idempotency_key=idempotency_key,
        )

    def update_expense_transaction(
        self, company_id: str, transaction_id: str, transaction: UpdateExpenseRequest
    ) -> SyncResponse:
        # Codat answers 202 here (200 everywhere else); any 2xx is success.
        return self._request(
            "PUT",
            f"{_expenses(company_id)}/expense-transactions/{_segment(transaction_id)}",
            body=transaction,
        )

    def create_reimbursable_expense_transactions(
        self,
        company_id: str,
        transactions: Sequence[ReimbursableExpenseTransaction],
        *,
        idempotency_key: str | None = None,
    ) -> SyncResponse:
        return self._request(
            "POST",
            f"{_expenses(company_id)}/reimbursable-expense-transactions",
            body=_batch(transactions),
            idempotency_key=idempotency_key,
        )

    def update_reimbursable_expense_transaction(
        self,
        company_id: str,
        transaction_id: str,
        transaction: UpdateReimbursableExpenseRequest,
    ) -> SyncResponse:
        return self._request(
            "PUT",
            f"{_expenses(company_id)}/reimbursable-expense-transactions/{_segment(transaction_id)}",
            body=transaction,
        )

    def create_adjustment_transactions(
        self,
        company_id: str,
        transactions: Sequence[AdjustmentTransaction],
        *,
        idempotency_key: str | None = None,
    ) -> SyncResponse:
        return self._request(
            "POST",
            f"{_expenses(company_id)}/adjustment-transactions",
            body=_batch(transactions),
            idempotency_key=idempotency_key,
        )

    def create_transfer_transaction(
        self, company_id: str, transaction_id: str, transfer: TransferTransactionRequest
    ) -> SyncResponse:
        """Create or update one transfer (Codat's PUT does both, keyed by our id)."""
        return self._request(
            "PUT",
            f"{_expenses(company_id)}/transfer-transactions/{_segment(transaction_id)}",
            body=transfer,
        )

    # --- Syncs and transaction status -------------------------------------------------------------

    def get_sync(self, company_id: str, sync_id: str) -> CompanySyncStatus:
        return self._request("GET", f"{_expenses(company_id)}/syncs/{_segment(sync_id)}/status")

    def get_latest_sync(self, company_id: str) -> CompanySyncStatus:
        return self._request("GET", f"{_expenses(company_id)}/syncs/latest/status")

    def get_last_successful_sync(self, company_id: str) -> CompanySyncStatus:
        return self._request("GET", f"{_expenses(company_id)}/syncs/lastSuccessful/status")

    def list_syncs(self, company_id: str) -> list[CompanySyncStatus]:
        # A bare JSON array, not a page: Codat has no paging on this endpoint.
        return self._request("GET", f"{_expenses(company_id)}/syncs/list/status", expect="array")

    def list_sync_transactions(
        self,
        company_id: str,
        sync_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[TransactionStatus]:
        return self._request(
            "GET",
            f"{_expenses(company_id)}/syncs/{_segment(sync_id)}/transactions",
            params={"page": page, "pageSize": page_size},
        )

    def get_sync_transaction(
        self, company_id: str, sync_id: str, transaction_id: str
    ) -> list[TransactionStatus]:
        # Codat returns a one-item array here, not an object.
        return self._request(
            "GET",
            f"{_expenses(company_id)}/syncs/{_segment(sync_id)}"
            f"/transactions/{_segment(transaction_id)}",
            expect="array",
        )

    # --- Attachments ------------------------------------------------------------------------------

    def upload_attachment(
        self,
        company_id: str,
        sync_id: str,
        transaction_id: str,
        file: IO[bytes],
        *,
        filename: str,
        content_type: str,
        idempotency_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Attachment:
        """Upload a receipt, streamed from ``file`` (which must be open in binary mode)."""
        return self._request(
            "POST",
            f"{_expenses(company_id)}/syncs/{_segment(sync_id)}"
            f"/transactions/{_segment(transaction_id)}/attachments",
            files={"file": (filename, file, content_type)},
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    # --- Manage data (pull side) ------------------------------------------------------------------

    def refresh_all_data_types(
        self, company_id: str, *, idempotency_key: str | None = None
    ) -> None:
        self._request(
            "POST",
            f"{_company(company_id)}/data/all",
            expect="nothing",
            idempotency_key=idempotency_key,
        )

    def refresh_data_type(
        self,
        company_id: str,
        data_type: str,
        *,
        connection_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PullOperation:
        return self._request(
            "POST",
            f"{_company(company_id)}/data/queue/{_segment(data_type)}",
            params={"connectionId": connection_id},
            idempotency_key=idempotency_key,
        )

    def get_data_status(self, company_id: str) -> dict[str, DataStatus]:
        return self._request("GET", f"{_company(company_id)}/dataStatus")

    def list_pull_operations(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[PullOperation]:
        return self._request(
            "GET",
            f"{_company(company_id)}/data/history",
            params=_paging(page, page_size, query, order_by),
        )

    def get_pull_operation(self, company_id: str, dataset_id: str) -> PullOperation:
        return self._request("GET", f"{_company(company_id)}/data/history/{_segment(dataset_id)}")

    # --- Push operations (write history) ----------------------------------------------------------

    def list_push_operations(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[PushOperation]:
        return self._request(
            "GET",
            f"{_company(company_id)}/push",
            params=_paging(page, page_size, query, order_by),
        )

    def get_push_operation(self, company_id: str, push_operation_key: str) -> PushOperation:
        return self._request("GET", f"{_company(company_id)}/push/{_segment(push_operation_key)}")

    # --- Accounts and bank accounts ---------------------------------------------------------------

    def create_account(
        self,
        company_id: str,
        connection_id: str,
        account: AccountPrototype,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        idempotency_key: str | None = None,
    ) -> CreateAccountResponse:
        return self._request(
            "POST",
            f"{_connection(company_id, connection_id)}/push/accounts",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete),
            body=account,
            idempotency_key=idempotency_key,
        )

    def get_create_account_model(self, company_id: str, connection_id: str) -> PushOption:
        return self._request(
            "GET", f"{_connection(company_id, connection_id)}/options/chartOfAccounts"
        )

    def create_bank_account(
        self,
        company_id: str,
        connection_id: str,
        bank_account: BankAccount,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        idempotency_key: str | None = None,
    ) -> CreateBankAccountResponse:
        return self._request(
            "POST",
            f"{_connection(company_id, connection_id)}/push/bankAccounts",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete),
            body=bank_account,
            idempotency_key=idempotency_key,
        )

    def get_create_bank_account_model(self, company_id: str, connection_id: str) -> PushOption:
        return self._request(
            "GET", f"{_connection(company_id, connection_id)}/options/bankAccounts"
        )

    def get_model_options(self, company_id: str, connection_id: str, data_type: str) -> PushOption:
        """The create model of any writable data type (`chartOfAccounts`, `bankAccounts`,
        `suppliers`, `customers`): the fields the platform wants, required flags, limits and
        allowed values. The Expenses spec lists the first two; the other two are the same
        operation in Codat's Accounting API (`get-create-update-suppliers-model`, …)."""
        return self._request(
            "GET", f"{_connection(company_id, connection_id)}/options/{_segment(data_type)}"
        )

    # --- Suppliers --------------------------------------------------------------------------------

    def list_suppliers(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[Supplier]:
        return self._request(
            "GET",
            f"{_company(company_id)}/data/suppliers",
            params=_paging(page, page_size, query, order_by),
        )

    def get_supplier(self, company_id: str, supplier_id: str) -> Supplier:
        return self._request(
            "GET", f"{_company(company_id)}/data/suppliers/{_segment(supplier_id)}"
        )

    def create_supplier(
        self,
        company_id: str,
        connection_id: str,
        supplier: Supplier,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        idempotency_key: str | None = None,
    ) -> SupplierPushResponse:
        return self._request(
            "POST",
            f"{_connection(company_id, connection_id)}/push/suppliers",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete),
            body=supplier,
            idempotency_key=idempotency_key,
        )

    def update_supplier(
        self,
        company_id: str,
        connection_id: str,
        supplier_id: str,
        supplier: Supplier,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        force_update: bool | None = None,
    ) -> SupplierPushResponse:
        return self._request(
            "PUT",
            f"{_connection(company_id, connection_id)}/push/suppliers/{_segment(supplier_id)}",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete, force_update),
            body=supplier,
        )

    # --- Customers --------------------------------------------------------------------------------

    def list_customers(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[Customer]:
        return self._request(
            "GET",
            f"{_company(company_id)}/data/customers",
            params=_paging(page, page_size, query, order_by),
        )

    def get_customer(self, company_id: str, customer_id: str) -> Customer:
        return self._request(
            "GET", f"{_company(company_id)}/data/customers/{_segment(customer_id)}"
        )

    def create_customer(
        self,
        company_id: str,
        connection_id: str,
        customer: Customer,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerPushResponse:
        return self._request(
            "POST",
            f"{_connection(company_id, connection_id)}/push/customers",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete),
            body=customer,
            idempotency_key=idempotency_key,
        )

    def update_customer(
        self,
        company_id: str,
        connection_id: str,
        customer_id: str,
        customer: Customer,
        *,
        timeout_in_minutes: int | None = None,
        allow_sync_on_push_complete: bool | None = None,
        force_update: bool | None = None,
    ) -> CustomerPushResponse:
        return self._request(
            "PUT",
            f"{_connection(company_id, connection_id)}/push/customers/{_segment(customer_id)}",
            params=_push_params(timeout_in_minutes, allow_sync_on_push_complete, force_update),
            body=customer,
        )


# --- Helpers ------------------------------------------------------------------------------------


def _company_of(path: str) -> str | None:
    # Every company-scoped path is built by _company(), so its first segment is the company.
    match = _COMPANY_PATH.match(path)
    return unquote(match.group(1)) if match else None


def _company(company_id: str) -> str:
    return f"/companies/{_segment(company_id)}"


def _connection(company_id: str, connection_id: str) -> str:
    return f"{_company(company_id)}/connections/{_segment(connection_id)}"


def _expenses(company_id: str) -> str:
    return f"{_company(company_id)}/sync/expenses"


def _paging(
    page: int, page_size: int, query: str | None, order_by: str | None
) -> dict[str, object]:
    return {"page": page, "pageSize": page_size, "query": query, "orderBy": order_by}


def _push_params(
    timeout_in_minutes: int | None,
    allow_sync_on_push_complete: bool | None,
    force_update: bool | None = None,
) -> dict[str, object]:
    return {
        "timeoutInMinutes": timeout_in_minutes,
        "allowSyncOnPushComplete": allow_sync_on_push_complete,
        "forceUpdate": force_update,
    }


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _batch[T](transactions: Sequence[T]) -> list[T]:
    # Codat rejects the whole call outside 1..50; failing here saves a request and a sync.
    if not 1 <= len(transactions) <= MAX_TRANSACTIONS_PER_CALL:
        raise ValueError(
            f"Codat takes 1 to {MAX_TRANSACTIONS_PER_CALL} transactions per call, "
            f"not {len(transactions)}."
        )
    return list(transactions)


def _parse_json(
    response: httpx.Response,
    method: str,
    path: str,
    expect: _Expect,
    rate_limit: RateLimit | None,
) -> Any:
    context = {
        "method": method,
        "path": path,
        "status_code": response.status_code,
        "rate_limit": rate_limit,
    }
    try:
        data = encoding.loads(response.content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        # A 2xx that is not JSON is most likely a proxy or gateway page, which usually clears up.
        raise CodatTransientError("malformed JSON in a successful response", **context) from exc
    wanted = list if expect == "array" else dict
    if not isinstance(data, wanted):
        raise CodatTransientError(f"expected a JSON {expect}, got {type(data).__name__}", **context)
    return data


def _validation_items(items: object) -> list[ValidationItem]:
    # Classification must survive an odd error body, so anything not shaped like an item is dropped.
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _error_from_response(
    response: httpx.Response, method: str, path: str, rate_limit: RateLimit | None
) -> CodatError:
    status = response.status_code
    error_text: str | None = None
    correlation_id: str | None = None
    validation: dict[str, Any] = {}
    try:
        body = encoding.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        error_text = body.get("error") if isinstance(body.get("error"), str) else None
        correlation_id = str(body["correlationId"]) if body.get("correlationId") else None
        if isinstance(body.get("validation"), dict):
            validation = body["validation"]
    elif response.content:
        # Not Codat's ErrorMessage (a gateway page, say): keep a short excerpt for the operator.
        error_text = response.text[:200].strip() or None

    context: dict[str, Any] = {
        "method": method,
        "path": path,
        "status_code": status,
        "error": error_text,
        "correlation_id": correlation_id,
        "rate_limit": rate_limit,
        "retry_after": parse_retry_after(response.headers.get("Retry-After")),
    }
    message = error_text or response.reason_phrase or "error"

    if 300 <= status < 400:
        location = response.headers.get("Location", "nowhere")
        return CodatRedirectError(f"unexpected redirect to {location}", **context)
    if status in (400, 422):
        errors = _validation_items(validation.get("errors"))
        warnings = _validation_items(validation.get("warnings"))
        texts = [error_text or ""] + [item.get("message") or "" for item in errors]
        processed = next((text for text in texts if is_previously_processed(text)), None)
        if processed is not None:
            return CodatAlreadyProcessedError(
                message, transaction_ids=previously_processed_ids(processed), **context
            )
        return CodatValidationError(
            message, validation_errors=errors, validation_warnings=warnings, **context
        )
    if status in (401, 403):
        return CodatAuthError(message, **context)
    if status == 404:
        return CodatNotFoundError(message, **context)
    if status == 409:
        return CodatConflictError(message, **context)
    if status == 429:
        return CodatRateLimitedError(message, **context)
    if status == 408 or status >= 500:
        return CodatTransientError(message, **context)
    return CodatRequestError(message, **context)
