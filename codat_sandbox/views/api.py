"""The 48 operations of Codat's Expenses API (Codat-Sync-Expenses.yaml), one handler each.

Handlers are plain functions wired to paths through `http.endpoint` (see urls.py), which does
auth, limits, idempotency, fault injection and error bodies. Status codes follow the spec
exactly: 200 for creates (never 201), 202 for the expense update, 204 for delete-company and
refresh-all-data-types.
"""

import uuid

from django.db.models import Prefetch
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from .. import engine, query, schemas, serializers, services
from ..errors import MALFORMED_QUERY, ApiError, invalid
from ..http import api_path, json_response, no_content, paged, parse_uuid, validated_body
from ..models import (
    LedgerRecord,
    PushOperation,
    SandboxAttachment,
    SandboxCompany,
    SandboxConnection,
    SandboxSync,
    SyncTransaction,
)
from ..platforms import get_platform, support_error

EXPENSE_SERVICE = "ExpenseSyncApi"


def _base(request) -> str:
    return request.build_absolute_uri("/")


def _company(company_id) -> SandboxCompany:
    return services.get_company(company_id)


# --- Paths Codat does not have -----------------------------------------------------------------

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def unknown_path(request):
    raise ApiError(404, f"No resource was found at {api_path(request)}.")


# --- Companies --------------------------------------------------------------------------------


def list_companies(request):
    companies = SandboxCompany.objects.prefetch_related(
        Prefetch("connections", queryset=SandboxConnection.objects.order_by("created"))
    )
    tags_query = request.GET.get("tags")
    if tags_query:
        try:
            tree = query.parse(tags_query)
        except query.QueryError:
            raise ApiError(400, MALFORMED_QUERY, service="ClientsApi") from None
        companies = [c for c in companies if query.matches(tree, c.tags or {})]
    base = _base(request)
    records = [
        serializers.company(c, base, connections=list(c.connections.all())) for c in companies
    ]
    return paged(request, records, optional=("referenceParentCompany",))


def _company_name(raw: str) -> str:
    """The name with Codat's forbidden characters stripped; 400 when nothing is left.

    Create, replace and update all answer 400 here. replace-company and update-company declare
    no 400, and none of their declared statuses fits a bad name (404 means the company is
    missing; 403 is about API keys), so the SDK surfaces it as SDKError with status 400 and this
    ErrorMessage body (tests/sandbox/contract/test_undeclared_statuses.py).
    """
    name = services.clean_company_name(raw)
    if not name:
        raise invalid(
            [
                {
                    "itemId": "name",
                    "message": "The name field is required.",
                    "validatorName": "RequiredValidator",
                }
            ],
            service="ClientsApi",
        )
    return name


def create_company(request):
    body = validated_body(request, schemas.COMPANY_REQUEST, service="ClientsApi")
    name = _company_name(body["name"])
    company = SandboxCompany.objects.create(
        name=name, description=body.get("description") or "", tags=body.get("tags") or {}
    )
    engine.enqueue_webhook(
        "company.created", _company_webhook_payload(company, request), company_id=company.id
    )
    return json_response(serializers.company(company, _base(request), []))


def _company_webhook_payload(company: SandboxCompany, request) -> dict:
    """The Platform spec's companyDetails for company.created/deleted. Its lastSync is a plain
    string, so a company that has never synced leaves it out rather than sending null."""
    return {
        k: v
        for k, v in serializers.company(company, _base(request), []).items()
        if k in ("id", "name", "description", "redirect", "lastSync", "created", "tags")
        and not (k == "lastSync" and v is None)
    }


def get_company(request, company_id):
    return json_response(serializers.company(_company(company_id), _base(request)))


def replace_company(request, company_id):
    company = _company(company_id)
    body = validated_body(request, schemas.COMPANY_REQUEST, service="ClientsApi")
    # PUT replaces: fields left out are cleared.
    company.name = _company_name(body["name"])
    company.description = body.get("description") or ""
    company.tags = body.get("tags") or {}
    company.save(update_fields=["name", "description", "tags"])
    return json_response(serializers.company(company, _base(request)))


def update_company(request, company_id):
    company = _company(company_id)
    body = validated_body(request, schemas.COMPANY_UPDATE_REQUEST, service="ClientsApi")
    # PATCH: nulls and omitted fields leave the value alone.
    if body.get("name") is not None:
        # The pattern lets whitespace through; a name of only spaces is no name.
        body["name"] = _company_name(body["name"])
    for field, attribute in (("name", "name"), ("description", "description"), ("tags", "tags")):
        if body.get(field) is not None:
            setattr(company, attribute, body[field])
    company.save(update_fields=["name", "description", "tags"])
    return json_response(serializers.company(company, _base(request)))


def delete_company(request, company_id):
    company = _company(company_id)
    payload = _company_webhook_payload(company, request)
    company.delete()
    engine.enqueue_webhook("company.deleted", payload, company_id=None)
    return no_content(204)


# --- Connections ------------------------------------------------------------------------------


def list_connections(request, company_id):
    company = _company(company_id)
    base = _base(request)
    return paged(
        request,
        [serializers.connection(c, base) for c in company.connections.all()],
        optional=("integrationKey",),
    )


def create_connection(request, company_id):
    company = _company(company_id)
    body = validated_body(request, schemas.CREATE_CONNECTION_REQUEST)
    conn = services.create_connection(company, body["platformKey"])
    return json_response(serializers.connection(conn, _base(request)))


def get_connection(request, company_id, connection_id):
    conn = services.get_connection(_company(company_id), connection_id)
    return json_response(serializers.connection(conn, _base(request)))


def delete_connection(request, company_id, connection_id):
    conn = services.get_connection(_company(company_id), connection_id)
    engine.enqueue_connection_event("connection.deleted", conn)
    conn.delete()
    return no_content(200)


def unlink_connection(request, company_id, connection_id):
    conn = services.get_connection(_company(company_id), connection_id)
    body = validated_body(request, schemas.UNLINK_CONNECTION_REQUEST)
    if body["status"] != SandboxConnection.Status.UNLINKED:
        # unlink-connection declares no 400, but no declared status fits a status the client
        # may not set (the connection exists; 403 is about API keys), so this stays a 400: the
        # SDK surfaces it as SDKError with status 400 and this ErrorMessage body
        # (tests/sandbox/contract/test_undeclared_statuses.py).
        raise invalid(
            [
                {
                    "itemId": "status",
                    "message": "Only 'Unlinked' can be set.",
                    "validatorName": "EnumValidator",
                }
            ]
        )
    if conn.status != SandboxConnection.Status.UNLINKED:
        conn.status = SandboxConnection.Status.UNLINKED
        conn.save(update_fields=["status"])
        engine.enqueue_connection_event("connection.disconnected", conn)
    return json_response(serializers.connection(conn, _base(request)))


def create_partner_expense_connection(request, company_id):
    conn = services.create_partner_expense_connection(_company(company_id))
    return json_response(serializers.connection(conn, _base(request)))


# --- Company info, configuration, mapping options ---------------------------------------------


def get_company_info(request, company_id):
    company = _company(company_id)
    services.require_fetched(company, "company")
    info = services.company_information(company)
    if info is None:
        raise ApiError(409, "The data set has not been requested.")
    return json_response(info)


def get_company_configuration(request, company_id):
    company = _company(company_id)
    return json_response(serializers.company_configuration(company.expense_config))


def set_company_configuration(request, company_id):
    company = _company(company_id)
    body = validated_body(request, schemas.COMPANY_CONFIGURATION, service=EXPENSE_SERVICE)
    errors = []
    if company.ledger.filter(data_type="chartOfAccounts").exists():
        ledger = services.ledger_dict(company, ["bankAccounts", "suppliers", "customers"])
        for field, data_type in (
            ("bankAccount", "bankAccounts"),
            ("supplier", "suppliers"),
            ("customer", "customers"),
        ):
            record_id = body[field]["id"]
            known = set(ledger.get(data_type, {}))
            if field == "bankAccount":
                # On most platforms a bank account is also a chart account with the same id.
                known |= {
                    r.record_id
                    for r in company.ledger.filter(data_type="chartOfAccounts")
                    if r.data.get("isBankAccount")
                }
            if record_id not in known:
                errors.append(
                    {
                        "itemId": f"{field}.id",
                        "message": f"No {data_type[:-1]} with id '{record_id}' was found.",
                        "validatorName": "ReferenceValidator",
                    }
                )
    if errors:
        raise invalid(errors, service=EXPENSE_SERVICE)
    company.expense_config = {name: {"id": body[name]["id"]} for name in body}
    company.save(update_fields=["expense_config"])
    return json_response(company.expense_config)


def get_mapping_options(request, company_id):
    return json_response(services.mapping_options(_company(company_id)))


# --- Sync status --------------------------------------------------------------------------------


def _advance_company(company: SandboxCompany) -> None:
    """Progress this company's due syncs now, so a poll never waits on the background thread."""
    now = timezone.now()
    for sync_id in SandboxSync.objects.filter(
        company=company, state=SandboxSync.State.QUEUED, due_at__lte=now
    ).values_list("id", flat=True):
        if SandboxSync.objects.filter(pk=sync_id, state=SandboxSync.State.QUEUED).update(
            state=SandboxSync.State.PROCESSING, claimed_at=now
        ):
            engine._process_sync_safely(sync_id, now)


def _get_sync(company, sync_id) -> SandboxSync:
    not_found = ApiError(404, f"Sync {sync_id} not found", service=EXPENSE_SERVICE)
    sync = company.syncs.filter(pk=parse_uuid(sync_id, not_found)).first()
    if sync is None:
        raise not_found
    return sync


def get_last_successful_sync(request, company_id):
    company = _company(company_id)
    _advance_company(company)
    sync = company.syncs.filter(status_code__in=(2000, 2040)).order_by("-completed").first()
    if sync is None:
        raise ApiError(
            404, f"No successful sync was found for company {company.id}", service=EXPENSE_SERVICE
        )
    return json_response(serializers.sync_status(sync))


def get_latest_sync(request, company_id):
    company = _company(company_id)
    _advance_company(company)
    sync = company.syncs.order_by("-created").first()
    if sync is None:
        raise ApiError(404, f"No sync was found for company {company.id}", service=EXPENSE_SERVICE)
    return json_response(serializers.sync_status(sync))


def list_syncs(request, company_id):
    company = _company(company_id)
    _advance_company(company)
    return json_response([serializers.sync_status(s) for s in company.syncs.order_by("-created")])


def get_sync_by_id(request, company_id, sync_id):
    company = _company(company_id)
    _advance_company(company)
    return json_response(serializers.sync_status(_get_sync(company, sync_id)))


def list_sync_transactions(request, company_id, sync_id):
    company = _company(company_id)
    _advance_company(company)
    sync = _get_sync(company, sync_id)
    return paged(
        request, [serializers.transaction(t) for t in sync.transactions.all()], filterable=False
    )


def get_sync_transaction(request, company_id, sync_id, transaction_id):
    company = _company(company_id)
    _advance_company(company)
    txn = (
        _get_sync(company, sync_id)
        .transactions.filter(transaction_id=_stored_transaction_id(transaction_id))
        .first()
    )
    if txn is None:
        raise ApiError(404, f"Transaction {transaction_id} not found", service=EXPENSE_SERVICE)
    return json_response([serializers.transaction(txn)])


# --- Transactions (each create/update starts a sync) ------------------------------------------


def _platform_for_sync(company: SandboxCompany, operation: str):
    conn = company.accounting_connection()
    if conn is None:
        raise ApiError(
            400,
            f"Company {company.id} has no accounting connection.",
            service=EXPENSE_SERVICE,
        )
    platform = get_platform(conn.platform_key)
    problem = support_error(platform, operation)
    if problem is not None:
        status, message = problem
        raise ApiError(status, message, service=EXPENSE_SERVICE)
    return platform


def _refuse_processed(company: SandboxCompany, ids: list[str]) -> None:
    """A completed (or still pending) transaction id is never synced twice; a failed one may be
    sent again. Repeats inside one request are refused the same way."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    taken = set(
        SyncTransaction.objects.filter(
            company=company,
            transaction_id__in=ids,
            status__in=(SyncTransaction.Status.COMPLETED, SyncTransaction.Status.PENDING),
        ).values_list("transaction_id", flat=True)
    )
    clash = [i for i in dict.fromkeys(ids) if i in taken or i in repeated]
    if clash:
        raise ApiError(
            400,
            f"One or more transactions have previously been processed: {', '.join(clash)}",
            service=EXPENSE_SERVICE,
        )


def _completed_original(company, transaction_id: str, kinds) -> SyncTransaction | None:
    return (
        SyncTransaction.objects.filter(
            company=company,
            transaction_id=transaction_id,
            kind__in=kinds,
            status=SyncTransaction.Status.COMPLETED,
        )
        .order_by("-id")
        .first()
    )


def _pending_same_id(company, transaction_id: str) -> None:
    if SyncTransaction.objects.filter(
        company=company, transaction_id=transaction_id, status=SyncTransaction.Status.PENDING
    ).exists():
        raise ApiError(
            400,
            f"Transaction {transaction_id} is already being processed by another sync.",
            service=EXPENSE_SERVICE,
        )


def _stored_transaction_id(value: str) -> str:
    """A transaction id as it is stored and compared: the canonical lower-case UUID, so any
    spelling of the same UUID (upper case, braces, no hyphens) finds the same transaction.
    A value that is no UUID is kept (lower-cased); it can only ever match nothing."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value.lower()


def _transaction_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid(
            [
                {
                    "itemId": "transactionId",
                    "message": "The transactionId must be a valid UUID.",
                    "validatorName": "Guid",
                }
            ],
            service=EXPENSE_SERVICE,
        ) from None


def _sync_created(sync: SandboxSync, status: int = 200):
    return json_response({"syncId": str(sync.id)}, status=status)


def _create_many(request, company_id, schema, kind, operation):
    company = _company(company_id)
    items = validated_body(request, schema, service=EXPENSE_SERVICE)
    _platform_for_sync(company, operation)
    ids = [_stored_transaction_id(item["id"]) for item in items]
    _refuse_processed(company, ids)
    sync = engine.create_sync(
        company, kind, [(i, item) for i, item in zip(ids, items, strict=True)]
    )
    return _sync_created(sync)


def create_expense_transaction(request, company_id):
    return _create_many(
        request, company_id, schemas.CREATE_EXPENSE_REQUEST, SandboxSync.Kind.EXPENSE, "expense"
    )


def create_reimbursable_expense_transaction(request, company_id):
    return _create_many(
        request,
        company_id,
        schemas.CREATE_REIMBURSABLE_REQUEST,
        SandboxSync.Kind.REIMBURSABLE,
        "reimbursable",
    )


def create_adjustment_transaction(request, company_id):
    return _create_many(
        request,
        company_id,
        schemas.CREATE_ADJUSTMENT_REQUEST,
        SandboxSync.Kind.ADJUSTMENT,
        "adjustment",
    )


def _update_one(request, company_id, transaction_id, *, schema, operation, kinds, label, status):
    """PUT of one already-synced transaction: it must exist as completed, and starts a sync.

    `kinds` are the sync kinds that count as "already synced": (create kind, update kind); the
    new sync is of the update kind.
    """
    company = _company(company_id)
    txn_id = _transaction_id(transaction_id)
    body = validated_body(request, schema, service=EXPENSE_SERVICE)
    _platform_for_sync(company, operation)
    if _completed_original(company, txn_id, kinds) is None:
        raise ApiError(
            404, f"No synced {label} with id {txn_id} was found.", service=EXPENSE_SERVICE
        )
    _pending_same_id(company, txn_id)
    sync = engine.create_sync(company, kinds[-1], [(txn_id, body)])
    return _sync_created(sync, status=status)


def update_expense_transaction(request, company_id, transaction_id):
    return _update_one(
        request,
        company_id,
        transaction_id,
        schema=schemas.UPDATE_EXPENSE_REQUEST,
        operation="expense_update",
        kinds=(SandboxSync.Kind.EXPENSE, SandboxSync.Kind.EXPENSE_UPDATE),
        label="expense transaction",
        status=202,  # the spec's only 202: updates are accepted, not yet applied
    )


def update_reimbursable_expense_transaction(request, company_id, transaction_id):
    return _update_one(
        request,
        company_id,
        transaction_id,
        schema=schemas.UPDATE_REIMBURSABLE_REQUEST,
        operation="reimbursable_update",
        kinds=(SandboxSync.Kind.REIMBURSABLE, SandboxSync.Kind.REIMBURSABLE_UPDATE),
        label="reimbursable expense",
        status=200,
    )


def create_transfer_transaction(request, company_id, transaction_id):
    company = _company(company_id)
    txn_id = _transaction_id(transaction_id)
    body = validated_body(request, schemas.TRANSFER_REQUEST, service=EXPENSE_SERVICE)
    # PUT creates the transfer, or updates it when this id has already been written.
    existing = _completed_original(company, txn_id, (SandboxSync.Kind.TRANSFER,))
    if (
        existing is None
        and SyncTransaction.objects.filter(
            company=company, transaction_id=txn_id, status=SyncTransaction.Status.COMPLETED
        ).exists()
    ):
        raise ApiError(
            400,
            f"One or more transactions have previously been processed: {txn_id}",
            service=EXPENSE_SERVICE,
        )
    _platform_for_sync(company, "transfer_update" if existing else "transfer_create")
    _pending_same_id(company, txn_id)
    sync = engine.create_sync(company, SandboxSync.Kind.TRANSFER, [(txn_id, body)])
    return _sync_created(sync)


# --- Attachments ------------------------------------------------------------------------------

_ATTACHMENT_KIND = {
    SandboxSync.Kind.EXPENSE: "expense",
    SandboxSync.Kind.EXPENSE_UPDATE: "expense",
    SandboxSync.Kind.REIMBURSABLE: "reimbursable",
    SandboxSync.Kind.REIMBURSABLE_UPDATE: "reimbursable",
    SandboxSync.Kind.TRANSFER: "transfer",
    SandboxSync.Kind.ADJUSTMENT: "adjustment",
}


# The attachment table's column widths.
MAX_FILENAME_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 100


def _short_filename(name: str) -> str:
    """The name cut to the column's width, keeping its extension (which the platform rules and
    the ledger viewer's download read), as Django's own upload handling does."""
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) >= MAX_FILENAME_LENGTH - 1:
        return name[:MAX_FILENAME_LENGTH]
    return stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension


def upload_expense_attachment(request, company_id, sync_id, transaction_id):
    from .. import rules

    company = _company(company_id)
    _advance_company(company)
    sync = _get_sync(company, sync_id)
    txn = sync.transactions.filter(transaction_id=_stored_transaction_id(transaction_id)).first()
    if txn is None:
        raise ApiError(404, f"Transaction {transaction_id} not found", service=EXPENSE_SERVICE)
    try:
        upload = request.FILES.get("file")
    except MultiPartParserError:
        # No boundary, a bad boundary or a truncated body: the client sent no parseable form.
        raise ApiError(
            400,
            "The request body is not a valid multipart/form-data body.",
            service=EXPENSE_SERVICE,
        ) from None
    if upload is None:
        raise invalid(
            [
                {
                    "itemId": "file",
                    "message": "The file field is required.",
                    "validatorName": "RequiredValidator",
                }
            ],
            service=EXPENSE_SERVICE,
        )
    if txn.status != SyncTransaction.Status.COMPLETED:
        raise ApiError(
            400,
            f"Transaction {txn.transaction_id} has not been synced successfully; attachments "
            "can only be uploaded to completed transactions.",
            service=EXPENSE_SERVICE,
        )
    conn = company.accounting_connection()
    platform = get_platform(conn.platform_key) if conn else None
    if platform is None:
        raise ApiError(400, "The company has no accounting connection.", service=EXPENSE_SERVICE)
    original = (
        _completed_original(company, txn.transaction_id, (SandboxSync.Kind.EXPENSE,))
        if sync.kind == SandboxSync.Kind.EXPENSE_UPDATE
        else txn
    )
    expense_type = (original.payload if original else txn.payload).get("type")
    problem = rules.attachment_error(
        platform,
        _ATTACHMENT_KIND[sync.kind],
        expense_type,
        upload.name,
        upload.content_type,
        upload.size,
    )
    if problem:
        raise ApiError(400, problem, service=EXPENSE_SERVICE)
    content_type = upload.content_type or "application/octet-stream"
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        # No real media type is this long, and cutting one short would store a wrong type.
        raise invalid(
            [
                {
                    "itemId": "file",
                    "message": f"The file's content type is longer than "
                    f"{MAX_CONTENT_TYPE_LENGTH} characters.",
                    "validatorName": "LengthValidator",
                }
            ],
            service=EXPENSE_SERVICE,
        )
    if platform.key in ("gbol", "trji"):
        attachment_id = str(uuid.uuid4())
    else:
        attachment_id = str(uuid.uuid4().int % 10**19)
    SandboxAttachment.objects.create(
        id=attachment_id,
        company=company,
        transaction=txn,
        filename=_short_filename(upload.name or "attachment"),
        content_type=content_type,
        size=upload.size,
        content=upload.read(),
    )
    return json_response(
        {"companyId": str(company.id), "id": attachment_id, "transactionId": txn.transaction_id}
    )


# --- Manage data (pull side) ------------------------------------------------------------------

# The DataType enum of the spec (parameter of refresh-data-type).
DATA_TYPES = frozenset(
    {
        "accountTransactions",
        "balanceSheet",
        "bankAccounts",
        "bankTransactions",
        "billCreditNotes",
        "billPayments",
        "bills",
        "cashFlowStatement",
        "chartOfAccounts",
        "company",
        "creditNotes",
        "customers",
        "directCosts",
        "directIncomes",
        "invoices",
        "itemReceipts",
        "items",
        "journalEntries",
        "journals",
        "paymentMethods",
        "payments",
        "profitAndLoss",
        "purchaseOrders",
        "salesOrders",
        "suppliers",
        "taxRates",
        "trackingCategories",
        "transfers",
        "banking-accountBalances",
        "banking-accounts",
        "banking-transactionCategories",
        "banking-transactions",
        "commerce-companyInfo",
        "commerce-customers",
        "commerce-disputes",
        "commerce-locations",
        "commerce-orders",
        "commerce-paymentMethods",
        "commerce-payments",
        "commerce-productCategories",
        "commerce-products",
        "commerce-taxComponents",
        "commerce-transactions",
    }
)


def _linked_connection(company, connection_id=None) -> SandboxConnection:
    conn = (
        services.get_connection(company, connection_id)
        if connection_id
        else company.accounting_connection()
    )
    if conn is None or conn.status != SandboxConnection.Status.LINKED:
        # The company exists, so the request cannot be processed rather than "not found";
        # both refresh operations document 400 for that.
        raise ApiError(
            400,
            f"Company {company.id} has no linked accounting connection.",
            service="PullApi",
        )
    return conn


def refresh_all_data_types(request, company_id):
    company = _company(company_id)
    conn = _linked_connection(company)
    services.queue_read(company, conn, services.EXPENSES_DATA_TYPES)
    return no_content(204)


def get_data_status(request, company_id):
    company = _company(company_id)
    services.complete_due_pulls(company=company)
    return json_response(services.data_status(company))


def refresh_data_type(request, company_id, data_type):
    company = _company(company_id)
    if data_type not in DATA_TYPES:
        raise invalid(
            [
                {
                    "itemId": "dataType",
                    "message": f"'{data_type}' is not a Codat data type.",
                    "validatorName": "EnumValidator",
                }
            ],
            service="PullApi",
        )
    conn = _linked_connection(company, request.GET.get("connectionId"))
    [pull] = services.queue_read(company, conn, [data_type])
    return json_response(serializers.pull_operation(pull))


def list_pull_operations(request, company_id):
    company = _company(company_id)
    services.complete_due_pulls(company=company)
    return paged(
        request,
        [serializers.pull_operation(op) for op in company.pull_operations.all()],
        optional=("completed",),
    )


def get_pull_operation(request, company_id, dataset_id):
    company = _company(company_id)
    services.complete_due_pulls(company=company)
    not_found = ApiError(404, f"No dataset was found with ID {dataset_id}", service="PullApi")
    op = company.pull_operations.filter(pk=parse_uuid(dataset_id, not_found)).first()
    if op is None:
        raise not_found
    return json_response(serializers.pull_operation(op))


# --- Push operations --------------------------------------------------------------------------


def list_push_operations(request, company_id):
    company = _company(company_id)
    now = timezone.now()
    for op in company.push_operations.filter(status=PushOperation.Status.PENDING):
        engine.advance_push(op, now)
    return paged(
        request,
        [serializers.push_operation(op) for op in company.push_operations.all()],
        optional=("completedOnUtc",),
    )


def get_push_operation(request, company_id, push_operation_key):
    company = _company(company_id)
    not_found = ApiError(404, f"Push operation {push_operation_key} not found")
    op = company.push_operations.filter(pk=parse_uuid(push_operation_key, not_found)).first()
    if op is None:
        raise not_found
    engine.advance_push(op)
    op.refresh_from_db()
    return json_response(serializers.push_operation(op))


INT32_MAX = 2**31 - 1


def _int_query(request, name: str) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    # The spec declares the parameter int32; anything larger would overflow the timedelta the
    # timeout is added as, and the integer column it is stored in.
    if not 0 <= value <= INT32_MAX:
        raise invalid(
            [
                {
                    "itemId": name,
                    "message": f"{name} must be a whole number of minutes from 0 to {INT32_MAX}.",
                    "validatorName": "RangeValidator",
                }
            ]
        )
    return value


def _bool_query(request, name: str, default: bool) -> bool:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid(
            [
                {
                    "itemId": name,
                    "message": f"{name} must be true or false.",
                    "validatorName": "BooleanValidator",
                }
            ]
        )
    return raw.lower() == "true"


def _push(request, company_id, connection_id, data_type, schema, record_id=None, operation=None):
    company = _company(company_id)
    conn = services.get_connection(company, connection_id)
    if conn.source_type != SandboxConnection.SourceType.ACCOUNTING:
        raise ApiError(400, f"Data type {data_type} cannot be written to this connection.")
    if conn.status != SandboxConnection.Status.LINKED:
        raise ApiError(
            400, f"Data connection {conn.id} is {conn.status}; link it before writing data."
        )
    record = validated_body(request, schema)
    platform = get_platform(conn.platform_key)
    if operation is not None:
        problem = support_error(platform, operation)
        if problem is not None:
            raise ApiError(400, problem[1])
        if not LedgerRecord.objects.filter(
            company=company, data_type=data_type, record_id=record_id
        ).exists():
            raise ApiError(404, f"No {data_type[:-1]} with id {record_id} was found.")
    timeout = _int_query(request, "timeoutInMinutes")
    force_update = _bool_query(request, "forceUpdate", False) if record_id else False
    now = timezone.now()
    op = PushOperation.objects.create(
        company=company,
        connection_id=conn.id,
        data_type=data_type,
        operation="Update" if record_id else "Create",
        record={k: v for k, v in record.items() if k != "id"},
        record_id=record_id or "",
        timeout_in_minutes=timeout,
        force_update=force_update,
        requested=now,
        due_at=now + services.sync_delay(),
    )
    # The record is checked against the platform's rules when the operation runs, as Codat
    # does: a bad record gives a Failed operation with validation items, not a 400.
    return json_response(serializers.push_operation(op, with_data=True))


def create_account(request, company_id, connection_id):
    return _push(request, company_id, connection_id, "chartOfAccounts", schemas.ACCOUNT_PROTOTYPE)


def create_bank_account(request, company_id, connection_id):
    return _push(request, company_id, connection_id, "bankAccounts", schemas.BANK_ACCOUNT)


def create_customer(request, company_id, connection_id):
    return _push(request, company_id, connection_id, "customers", schemas.CUSTOMER)


def update_customer(request, company_id, connection_id, customer_id):
    return _push(
        request,
        company_id,
        connection_id,
        "customers",
        schemas.CUSTOMER,
        customer_id,
        "customer_update",
    )


def create_supplier(request, company_id, connection_id):
    return _push(request, company_id, connection_id, "suppliers", schemas.SUPPLIER)


def update_supplier(request, company_id, connection_id, supplier_id):
    return _push(
        request,
        company_id,
        connection_id,
        "suppliers",
        schemas.SUPPLIER,
        supplier_id,
        "supplier_update",
    )


def _push_option(request, company_id, connection_id, data_type):
    from .. import push_options

    conn = services.get_connection(_company(company_id), connection_id)
    if conn.source_type != SandboxConnection.SourceType.ACCOUNTING:
        raise ApiError(404, f"Data type {data_type} is not supported by this connection.")
    return json_response(push_options.push_option(conn.platform_key, data_type))


def get_create_chart_of_accounts_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "chartOfAccounts")


def get_create_bank_accounts_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "bankAccounts")


# --- Suppliers and customers (read) -----------------------------------------------------------


def _list_records(request, company_id, data_type):
    company = _company(company_id)
    services.require_fetched(company, data_type)
    return paged(request, services.records(company, data_type), optional=("supplementalData",))


def _get_record(request, company_id, data_type, record_id):
    company = _company(company_id)
    services.require_fetched(company, data_type)
    row = LedgerRecord.objects.filter(
        company=company, data_type=data_type, record_id=record_id
    ).first()
    if row is None:
        raise ApiError(404, f"No data available for {data_type} for ID {record_id}")
    return json_response(row.data)


def list_customers(request, company_id):
    return _list_records(request, company_id, "customers")


def get_customer(request, company_id, customer_id):
    return _get_record(request, company_id, "customers", customer_id)


def list_suppliers(request, company_id):
    return _list_records(request, company_id, "suppliers")


def get_supplier(request, company_id, supplier_id):
    return _get_record(request, company_id, "suppliers", supplier_id)
