"""Company, connection, Link, configuration, ledger, read and push-operation rules shared by the
API views, the Link pages, the ledger viewer and the engine. (Writes of expense transactions
have their own module, syncs.py.)"""

import re
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import conf, outbox, seeds, serializers
from .errors import (
    CLIENTS_SERVICE,
    EXPENSE_SERVICE,
    PULL_SERVICE,
    ApiError,
    company_not_found,
    connection_not_found,
    invalid,
    invalid_field,
    validation_item,
)
from .models import (
    LedgerRecord,
    PullOperation,
    PushOperation,
    SandboxCompany,
    SandboxConnection,
)
from .platforms import get_platform, support_error

# The data types the Expenses product fetches on first link (codat-api.md 6.1).
EXPENSES_DATA_TYPES = tuple(seeds.DATA_TYPES)
PARTNER_EXPENSE_NAME = "Partner Expense"


def get_company(company_id) -> SandboxCompany:
    try:
        return SandboxCompany.objects.get(pk=company_id)
    except (SandboxCompany.DoesNotExist, ValidationError, ValueError, TypeError):
        raise company_not_found(company_id) from None


def get_connection(company: SandboxCompany, connection_id) -> SandboxConnection:
    try:
        return company.connections.get(pk=connection_id)
    except (SandboxConnection.DoesNotExist, ValidationError, ValueError, TypeError):
        raise connection_not_found(connection_id) from None


_FORBIDDEN_NAME_CHARS = re.compile(r"[^A-Za-z0-9\s\-',&@.?!]")


def clean_company_name(name: str) -> str:
    """Codat strips forbidden characters on create: 'Company (Codat[1])' -> 'Company Codat1'."""
    return _FORBIDDEN_NAME_CHARS.sub("", name).strip()


def company_name(raw: str) -> str:
    """The name with Codat's forbidden characters stripped; 400 when nothing is left.

    Create, replace and update all answer 400 here. replace-company and update-company declare
    no 400, and none of their declared statuses fits a bad name (404 means the company is
    missing; 403 is about API keys), so the SDK surfaces it as SDKError with status 400 and this
    ErrorMessage body (tests/sandbox/contract/test_undeclared_statuses.py).
    """
    name = clean_company_name(raw)
    if not name:
        raise invalid_field(
            "name", "The name field is required.", "RequiredValidator", service=CLIENTS_SERVICE
        )
    return name


def create_company(body: dict, base_url: str) -> SandboxCompany:
    company = SandboxCompany.objects.create(
        name=company_name(body["name"]),
        description=body.get("description") or "",
        tags=body.get("tags") or {},
    )
    outbox.enqueue_webhook(
        "company.created", company_webhook_payload(company, base_url), company_id=company.id
    )
    return company


def delete_company(company: SandboxCompany, base_url: str) -> None:
    payload = company_webhook_payload(company, base_url)
    company.delete()
    outbox.enqueue_webhook("company.deleted", payload, company_id=None)


def company_webhook_payload(company: SandboxCompany, base_url: str) -> dict:
    """The Platform spec's companyDetails for company.created/deleted. Its lastSync is a plain
    string, so a company that has never synced leaves it out rather than sending null."""
    return {
        k: v
        for k, v in serializers.company(company, base_url, []).items()
        if k in ("id", "name", "description", "redirect", "lastSync", "created", "tags")
        and not (k == "lastSync" and v is None)
    }


def create_connection(company: SandboxCompany, platform_key: str) -> SandboxConnection:
    platform = get_platform(platform_key)
    if platform is None:
        # create-connection declares no 400, and a key that names no integration is a resource
        # that does not exist: 404, worded like Codat's other 404s ("No company was found with
        # ID ..."), so the SDK raises its typed ErrorMessage rather than SDKError.
        raise ApiError(404, f"No integration was found with key {platform_key}.")
    if company.accounting_connection() is not None:
        # None of the statuses create-connection declares fits (the company and the platform
        # both exist; 403 is about API keys), so this stays the 400 Codat's gateway gives a
        # request it will not process. The SDK surfaces it as SDKError with status 400 and this
        # ErrorMessage body (tests/sandbox/contract/test_undeclared_statuses.py).
        raise ApiError(
            400,
            "The company already has an accounting connection; create a new company to "
            "connect different accounting software.",
        )
    conn = SandboxConnection.objects.create(
        company=company,
        platform_key=platform.key,
        platform_name=platform.name,
        source_type=SandboxConnection.SourceType.ACCOUNTING,
        status=SandboxConnection.Status.PENDING_AUTH,
    )
    outbox.enqueue_connection_event("connection.created", conn)
    return conn


def create_partner_expense_connection(company: SandboxCompany) -> SandboxConnection:
    existing = company.connections.filter(source_type=SandboxConnection.SourceType.EXPENSE).first()
    if existing is not None:
        return existing
    conn = SandboxConnection.objects.create(
        company=company,
        platform_key="",
        platform_name=PARTNER_EXPENSE_NAME,
        source_type=SandboxConnection.SourceType.EXPENSE,
        status=SandboxConnection.Status.LINKED,
    )
    outbox.enqueue_connection_event("connection.created", conn)
    return conn


def approve_link(conn: SandboxConnection) -> None:
    """The SMB approved access in Link: the connection is Linked and the ledger fetched."""
    was = conn.status
    conn.status = SandboxConnection.Status.LINKED
    conn.save(update_fields=["status"])
    if not conn.company.ledger.filter(data_type="chartOfAccounts").exists():
        seed_company_ledger(conn)
    event = (
        "connection.connected"
        if was == SandboxConnection.Status.PENDING_AUTH
        else ("connection.reconnected")
    )
    outbox.enqueue_connection_event(event, conn)


def deauthorize(conn: SandboxConnection) -> None:
    conn.status = SandboxConnection.Status.DEAUTHORIZED
    conn.save(update_fields=["status"])
    outbox.enqueue_connection_event("connection.disconnected", conn)


def unlink(conn: SandboxConnection, status: str) -> None:
    """unlink-connection: the only status a client may set is Unlinked."""
    if status != SandboxConnection.Status.UNLINKED:
        # unlink-connection declares no 400, but no declared status fits a status the client
        # may not set (the connection exists; 403 is about API keys), so this stays a 400: the
        # SDK surfaces it as SDKError with status 400 and this ErrorMessage body
        # (tests/sandbox/contract/test_undeclared_statuses.py).
        raise invalid_field("status", "Only 'Unlinked' can be set.", "EnumValidator")
    if conn.status != SandboxConnection.Status.UNLINKED:
        conn.status = SandboxConnection.Status.UNLINKED
        conn.save(update_fields=["status"])
        outbox.enqueue_connection_event("connection.disconnected", conn)


def delete_connection(conn: SandboxConnection) -> None:
    outbox.enqueue_connection_event("connection.deleted", conn)
    conn.delete()


def linked_connection(company: SandboxCompany, connection_id=None) -> SandboxConnection:
    """The connection a refresh reads from: the one named, else the accounting connection."""
    conn = (
        get_connection(company, connection_id) if connection_id else company.accounting_connection()
    )
    if conn is None or conn.status != SandboxConnection.Status.LINKED:
        # The company exists, so the request cannot be processed rather than "not found";
        # both refresh operations document 400 for that.
        raise ApiError(
            400,
            f"Company {company.id} has no linked accounting connection.",
            service=PULL_SERVICE,
        )
    return conn


def seed_company_ledger(conn: SandboxConnection) -> None:
    company = conn.company
    seeded = seeds.seed_ledger(conn.platform_key, company.name, seed=company.id.int % 100000)
    indexed = seeds.index_ledger(seeded)
    now = timezone.now()
    LedgerRecord.objects.bulk_create(
        [
            LedgerRecord(
                company=company,
                data_type=data_type,
                record_id=record_id,
                data=record,
                created=now,
                modified=now,
            )
            for data_type, records in indexed.items()
            for record_id, record in records.items()
        ],
        ignore_conflicts=True,
    )
    read_id = uuid.uuid4()
    pulls = PullOperation.objects.bulk_create(
        [
            PullOperation(
                company=company,
                connection_id=conn.id,
                data_type=data_type,
                status=PullOperation.Status.COMPLETE,
                requested=now,
                completed=now,
                due_at=now,
                read_id=read_id,
            )
            for data_type in EXPENSES_DATA_TYPES
        ]
    )
    # The first fetch after Link is its own event, so a client can start reading the ledger
    # (and pick its configuration) as soon as it arrives.
    report_read(company, pulls, initial=True)


def ledger_dict(company: SandboxCompany, data_types=None) -> dict[str, dict[str, dict]]:
    """The company's ledger as `data type -> id -> record`, the form the rules take."""
    rows = LedgerRecord.objects.filter(company=company)
    if data_types is not None:
        rows = rows.filter(data_type__in=data_types)
    ledger: dict[str, dict[str, dict]] = {data_type: {} for data_type in EXPENSES_DATA_TYPES}
    for row in rows.order_by("created", "id"):
        ledger.setdefault(row.data_type, {})[row.record_id] = row.data
    return ledger


def records(company: SandboxCompany, data_type: str) -> list[dict]:
    return [
        row.data
        for row in LedgerRecord.objects.filter(company=company, data_type=data_type).order_by(
            "created", "id"
        )
    ]


def is_fetched(company: SandboxCompany, data_type: str) -> bool:
    return PullOperation.objects.filter(
        company=company, data_type=data_type, status=PullOperation.Status.COMPLETE
    ).exists()


def require_fetched(company: SandboxCompany, data_type: str) -> None:
    if not is_fetched(company, data_type):
        raise ApiError(409, "The data set has not been requested.")


def company_information(company: SandboxCompany) -> dict | None:
    row = LedgerRecord.objects.filter(company=company, data_type="company").first()
    return row.data if row else None


def _active(record: dict) -> bool:
    return record.get("status") != "Archived" and not (record.get("metadata") or {}).get(
        "isDeleted"
    )


MAPPING_ACCOUNT_TYPES = frozenset({"Asset", "Liability", "Income", "Expense", "Equity"})


def mapping_options(company: SandboxCompany) -> dict:
    """Accounts, tracking categories and tax rates usable in transactions (active ones)."""
    conn = company.accounting_connection()
    # One query for the three data types, reading only the JSON: no model instances.
    by_type: dict[str, list[dict]] = {
        "chartOfAccounts": [],
        "taxRates": [],
        "trackingCategories": [],
    }
    for data_type, record in (
        LedgerRecord.objects.filter(company=company, data_type__in=by_type)
        .order_by("created", "id")
        .values_list("data_type", "data")
    ):
        if _active(record):
            by_type[data_type].append(record)
    accounts = [
        {
            "id": record["id"],
            "nominalCode": record.get("nominalCode"),
            "name": record.get("name") or "",
            "currency": record.get("currency") or "",
            "accountType": record["type"],
            "fullyQualifiedCategory": record.get("fullyQualifiedCategory") or "",
            "isBankAccount": bool(record.get("isBankAccount")),
            "validTransactionTypes": list(record.get("validTransactionTypes") or []),
            "validFor": list(record.get("validFor") or []),
        }
        for record in by_type["chartOfAccounts"]
        if record.get("type") in MAPPING_ACCOUNT_TYPES
    ]
    tax_rates = [
        {
            "id": record["id"],
            "name": record.get("name") or "",
            "code": record.get("code"),
            "effectiveTaxRate": record.get("effectiveTaxRate", 0),
            "totalTaxRate": record.get("totalTaxRate", 0),
            "validTransactionTypes": list(record.get("validTransactionTypes") or []),
        }
        for record in by_type["taxRates"]
    ]
    tracking = [
        {
            "id": record["id"],
            "name": record.get("name") or "",
            "hasChildren": bool(record.get("hasChildren")),
            "parentId": record.get("parentId"),
        }
        for record in by_type["trackingCategories"]
    ]
    return {
        "expenseProvider": PARTNER_EXPENSE_NAME if conn is not None else None,
        "accounts": accounts,
        "trackingCategories": tracking,
        "taxRates": tax_rates,
    }


# Which ledger data type each configuration field names a record of.
CONFIGURATION_FIELDS = (
    ("bankAccount", "bankAccounts"),
    ("supplier", "suppliers"),
    ("customer", "customers"),
)


def set_configuration(company: SandboxCompany, body: dict) -> dict:
    """Store the company's Expenses configuration once every id it names is in the ledger
    (checked only once the ledger has been fetched)."""
    errors = []
    if company.ledger.filter(data_type="chartOfAccounts").exists():
        ledger = ledger_dict(company, [data_type for _, data_type in CONFIGURATION_FIELDS])
        for field, data_type in CONFIGURATION_FIELDS:
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
                    validation_item(
                        f"{field}.id",
                        f"No {data_type[:-1]} with id '{record_id}' was found.",
                        "ReferenceValidator",
                    )
                )
    if errors:
        raise invalid(errors, service=EXPENSE_SERVICE)
    company.expense_config = {name: {"id": body[name]["id"]} for name in body}
    company.save(update_fields=["expense_config"])
    return company.expense_config


def data_status(company: SandboxCompany) -> dict:
    statuses: dict[str, dict] = {}
    for op in PullOperation.objects.filter(company=company).order_by("requested"):
        entry = statuses.setdefault(op.data_type, {"dataType": op.data_type})
        entry["currentStatus"] = op.status
        entry["latestSyncId"] = str(op.id)
        if op.status == PullOperation.Status.COMPLETE:
            entry["lastSuccessfulSync"] = serializers.format_datetime(op.completed)
            entry["latestSuccessfulSyncId"] = str(op.id)
    return statuses


def queue_read(company: SandboxCompany, conn: SandboxConnection, data_types) -> list[PullOperation]:
    """One refresh request: a pull per data type, sharing a read id and a due time so they
    complete together and one read.completed reports them all."""
    now = timezone.now()
    read_id = uuid.uuid4()
    return PullOperation.objects.bulk_create(
        [
            PullOperation(
                company=company,
                connection_id=conn.id,
                data_type=data_type,
                status=PullOperation.Status.QUEUED,
                requested=now,
                due_at=now + conf.sync_delay(),
                read_id=read_id,
            )
            for data_type in data_types
        ]
    )


def complete_due_pulls(now=None, company: SandboxCompany | None = None) -> int:
    """Finish the due reads (of one company, or of all) and report each one once.

    The ledger is always current, so a refresh only has to wait out its delay. Both the
    background thread and a client's read of the data status can get here at the same time:
    a read is claimed through its first pull with a conditional UPDATE that only one caller
    wins, and the winner completes the rest and queues the webhook in the same transaction.
    """
    now = now or timezone.now()
    due = PullOperation.objects.filter(status=PullOperation.Status.QUEUED, due_at__lte=now)
    if company is not None:
        due = due.filter(company=company)
    done = 0
    for read_id in set(due.values_list("read_id", flat=True)):
        with transaction.atomic():
            if read_id is None:
                # Queued before pulls belonged to reads: finish them quietly, as before.
                done += due.filter(read_id__isnull=True).update(
                    status=PullOperation.Status.COMPLETE, completed=now
                )
                continue
            pulls = PullOperation.objects.filter(read_id=read_id)
            first = pulls.order_by("pk").values_list("pk", flat=True).first()
            if not PullOperation.objects.filter(
                pk=first, status=PullOperation.Status.QUEUED
            ).update(status=PullOperation.Status.COMPLETE, completed=now):
                continue  # another caller claimed this read
            done += 1 + pulls.filter(status=PullOperation.Status.QUEUED).update(
                status=PullOperation.Status.COMPLETE, completed=now
            )
            report_read(company or pulls.first().company, list(pulls.order_by("pk")))
    return done


def report_read(company: SandboxCompany, pulls: list[PullOperation], *, initial=False) -> None:
    """Queue read.completed(.initial) with the Platform spec's payload for a finished read.

    `modifiedFromDate` is when these data types were last fetched before this read (the
    earliest of them, so "modified since" holds for every one); `recordsModified` says
    whether the ledger changed since that data type's own previous fetch.
    """
    read_ids = {pull.read_id for pull in pulls}
    summaries = []
    previous_fetches = []
    for pull in pulls:
        previous = (
            None
            if initial
            else PullOperation.objects.filter(
                company=company,
                connection_id=pull.connection_id,
                data_type=pull.data_type,
                status=PullOperation.Status.COMPLETE,
            )
            .exclude(read_id__in=read_ids)
            .order_by("-completed")
            .values_list("completed", flat=True)
            .first()
        )
        previous_fetches.append(previous)
        records = LedgerRecord.objects.filter(company=company, data_type=pull.data_type)
        if previous is not None:
            records = records.filter(modified__gt=previous)
        summaries.append(
            {
                "connectionId": str(pull.connection_id),
                "dataType": pull.data_type,
                "recordsModified": records.exists(),
                "status": pull.status,
                "issues": [],
            }
        )
    # Null when any data type had never been fetched: nothing bounds what is new.
    modified_from = (
        None if not previous_fetches or None in previous_fetches else min(previous_fetches)
    )
    outbox.enqueue_webhook(
        "read.completed.initial" if initial else "read.completed",
        {
            "referenceCompany": serializers.company_reference(company, conf.public_base_url()),
            "modifiedFromDate": serializers.format_datetime(modified_from),
            "dataTypes": summaries,
        },
        company_id=company.id,
    )


# --- Push operations ------------------------------------------------------------------------


def writable_connection(company: SandboxCompany, connection_id, data_type: str):
    """The accounting connection a push operation writes through; it must be linked."""
    conn = get_connection(company, connection_id)
    if conn.source_type != SandboxConnection.SourceType.ACCOUNTING:
        raise ApiError(400, f"Data type {data_type} cannot be written to this connection.")
    if conn.status != SandboxConnection.Status.LINKED:
        raise ApiError(
            400, f"Data connection {conn.id} is {conn.status}; link it before writing data."
        )
    return conn


def require_updatable(conn: SandboxConnection, data_type: str, record_id: str, operation: str):
    """An update needs the platform to support it and the record to exist."""
    problem = support_error(get_platform(conn.platform_key), operation)
    if problem is not None:
        raise ApiError(400, problem[1])
    if not LedgerRecord.objects.filter(
        company_id=conn.company_id, data_type=data_type, record_id=record_id
    ).exists():
        raise ApiError(404, f"No {data_type[:-1]} with id {record_id} was found.")


def create_push_operation(
    conn: SandboxConnection,
    data_type: str,
    record: dict,
    *,
    record_id: str | None,
    timeout_in_minutes: int | None,
    force_update: bool,
) -> PushOperation:
    """A pending create (no record_id) or update, due after the sync delay.

    The record is checked against the platform's rules when the operation runs, as Codat
    does: a bad record gives a Failed operation with validation items, not a 400.
    """
    now = timezone.now()
    return PushOperation.objects.create(
        company_id=conn.company_id,
        connection_id=conn.id,
        data_type=data_type,
        operation="Update" if record_id else "Create",
        record={k: v for k, v in record.items() if k != "id"},
        record_id=record_id or "",
        timeout_in_minutes=timeout_in_minutes,
        force_update=force_update,
        requested=now,
        due_at=now + conf.sync_delay(),
    )
