"""Company, connection, Link and ledger operations shared by the API views, the Link pages,
the ledger viewer and the engine."""

import datetime
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import seeds, serializers
from .errors import ApiError, company_not_found, connection_not_found
from .models import (
    LedgerRecord,
    PullOperation,
    SandboxCompany,
    SandboxConnection,
)
from .platforms import get_platform

# The data types the Expenses product fetches on first link (codat-api.md 6.1).
EXPENSES_DATA_TYPES = tuple(seeds.DATA_TYPES)
PARTNER_EXPENSE_NAME = "Partner Expense"


def public_base_url() -> str:
    """Scheme and host the sandbox is reached on, for URLs built outside a request
    (webhook payloads). Derived from the portal's CODAT_SANDBOX_URL setting."""
    url = getattr(settings, "CODAT_SANDBOX_URL", "http://127.0.0.1:8000/codat-sandbox")
    match = re.match(r"^(https?://[^/]+)", url)
    return match.group(1) if match else "http://127.0.0.1:8000"


def sync_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, "CODAT_SANDBOX_SYNC_DELAY", 1.0)))


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


def create_connection(company: SandboxCompany, platform_key: str) -> SandboxConnection:
    from . import engine

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
    engine.enqueue_connection_event("connection.created", conn)
    return conn


def create_partner_expense_connection(company: SandboxCompany) -> SandboxConnection:
    from . import engine

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
    engine.enqueue_connection_event("connection.created", conn)
    return conn


def approve_link(conn: SandboxConnection) -> None:
    """The SMB approved access in Link: the connection is Linked and the ledger fetched."""
    from . import engine

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
    engine.enqueue_connection_event(event, conn)


def deauthorize(conn: SandboxConnection) -> None:
    from . import engine

    conn.status = SandboxConnection.Status.DEAUTHORIZED
    conn.save(update_fields=["status"])
    engine.enqueue_connection_event("connection.disconnected", conn)


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
                status="Complete",
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
        company=company, data_type=data_type, status="Complete"
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


def data_status(company: SandboxCompany) -> dict:
    statuses: dict[str, dict] = {}
    for op in PullOperation.objects.filter(company=company).order_by("requested"):
        entry = statuses.setdefault(op.data_type, {"dataType": op.data_type})
        entry["currentStatus"] = op.status
        entry["latestSyncId"] = str(op.id)
        if op.status == "Complete":
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
                status="Queued",
                requested=now,
                due_at=now + sync_delay(),
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
    due = PullOperation.objects.filter(status="Queued", due_at__lte=now)
    if company is not None:
        due = due.filter(company=company)
    done = 0
    for read_id in set(due.values_list("read_id", flat=True)):
        with transaction.atomic():
            if read_id is None:
                # Queued before pulls belonged to reads: finish them quietly, as before.
                done += due.filter(read_id__isnull=True).update(status="Complete", completed=now)
                continue
            pulls = PullOperation.objects.filter(read_id=read_id)
            first = pulls.order_by("pk").values_list("pk", flat=True).first()
            if not PullOperation.objects.filter(pk=first, status="Queued").update(
                status="Complete", completed=now
            ):
                continue  # another caller claimed this read
            done += 1 + pulls.filter(status="Queued").update(status="Complete", completed=now)
            report_read(company or pulls.first().company, list(pulls.order_by("pk")))
    return done


def report_read(company: SandboxCompany, pulls: list[PullOperation], *, initial=False) -> None:
    """Queue read.completed(.initial) with the Platform spec's payload for a finished read.

    `modifiedFromDate` is when these data types were last fetched before this read (the
    earliest of them, so "modified since" holds for every one); `recordsModified` says
    whether the ledger changed since that data type's own previous fetch.
    """
    from . import engine

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
                status="Complete",
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
    engine.enqueue_webhook(
        "read.completed.initial" if initial else "read.completed",
        {
            "referenceCompany": serializers.company_reference(company, public_base_url()),
            "modifiedFromDate": serializers.format_datetime(modified_from),
            "dataTypes": summaries,
        },
        company_id=company.id,
    )
