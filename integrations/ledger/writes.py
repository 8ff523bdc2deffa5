"""Creating a record in the customer's ledger through Codat: a supplier, a customer, an account
or a bank account, from a mapping page's chooser.

Codat says per platform what a new record needs (its "options" model: fields, required flags,
length limits, allowed values); `fields_of` turns that into plain field specs the portal builds
its form from, so the form refuses what the platform would refuse before anything is sent.
`start_write` sends the record and keeps a `WriteOperation` (Pending); `follow_write` asks Codat
how it went until it is Success, Failed or TimedOut. On success the record is read back into
the cache at once, so it is in the chooser when the person returns to it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.codat.errors import CodatError
from integrations.codat.factory import codat_client
from integrations.companies.models import AuditEvent, Company, Connection
from integrations.syncs import events
from integrations.syncs.models import WriteOperation

from . import upsert
from .models import BankAccount, Customer, LedgerAccount, Supplier

logger = logging.getLogger(__name__)

DataType = WriteOperation.DataType

# What each data type is called on the pages, and the cached model it lands in.
NOUNS = {
    DataType.SUPPLIERS: "supplier",
    DataType.CUSTOMERS: "customer",
    DataType.ACCOUNTS: "account",
    DataType.BANK_ACCOUNTS: "bank account",
}
CACHED_MODEL = {
    DataType.SUPPLIERS: Supplier,
    DataType.CUSTOMERS: Customer,
    DataType.ACCOUNTS: LedgerAccount,
    DataType.BANK_ACCOUNTS: BankAccount,
}
# Field types of Codat's PushOption a simple form can take; arrays and files are left out
# (none of them is required for these four data types on any platform).
FORM_TYPES = ("String", "Number", "Boolean", "DateTime")
# A person waits on the page for these: how long the options model is reused, and after how
# long a write still pending is given up on by the follower (Codat's own timeout is longer).
MODEL_CACHE_SECONDS = 600
FOLLOW_FOR = timedelta(minutes=15)


class WriteError(Exception):
    """Why a record could not be sent to the ledger, in plain words."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    help: str = ""
    type: str = "String"
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def fields_of(option: dict) -> list[FieldSpec]:
    """The form fields of a PushOption model (pure): one per simple property, in Codat's order.

    Codat states limits as validation text ("Max length of 10 characters."), so the length is
    read from there; required flags and enumerations are properties of their own.
    """
    specs = []
    for name, prop in (option.get("properties") or {}).items():
        kind = prop.get("type") or "String"
        if kind not in FORM_TYPES:
            continue
        validation = prop.get("validation") or {}
        notes = [
            item.get("details", "")
            for item in (validation.get("warnings") or []) + (validation.get("information") or [])
            if item.get("details")
        ]
        max_length = None
        for note in notes:
            low = note.lower()
            if low.startswith("max length of"):
                digits = "".join(ch for ch in low if ch.isdigit())
                max_length = int(digits) if digits else None
        choices = tuple(
            str(o.get("value")) for o in prop.get("options") or [] if o.get("value") is not None
        )
        specs.append(
            FieldSpec(
                name=name,
                label=prop.get("displayName") or name,
                help=prop.get("description") or "",
                type=kind,
                required=bool(prop.get("required")),
                max_length=max_length,
                choices=choices,
                notes=tuple(n for n in notes if n != "Must be provided."),
            )
        )
    return specs


def accounting_connection(company: Company) -> Connection:
    connection = company.accounting_connection()
    if (
        connection is None
        or connection.status != Connection.Status.LINKED
        or not company.codat_company_id
    ):
        raise WriteError("Connect your accounting software before creating records in it.")
    return connection


def load_fields(company: Company, data_type: str) -> list[FieldSpec]:
    """The platform's create model for `data_type`, as form fields (cached for a while: it is
    per platform and changes only when Codat changes it)."""
    connection = accounting_connection(company)
    key = f"ledger-write-model:{connection.platform_key}:{data_type}"
    option = cache.get(key)
    if option is None:
        try:
            with codat_client(interactive=True) as client:
                option = client.get_model_options(
                    str(company.codat_company_id), str(connection.codat_connection_id), data_type
                )
        except CodatError as exc:
            raise WriteError(
                f"Codat could not say what a new {NOUNS[data_type]} needs just now "
                f"({exc.message or exc.error}). Try again in a moment."
            ) from exc
        cache.set(key, option, MODEL_CACHE_SECONDS)
    return fields_of(option)


def start_write(company: Company, data_type: str, record: dict, *, actor=None) -> WriteOperation:
    """Send `record` (already checked against the model) to the ledger; the write is Pending."""
    connection = accounting_connection(company)
    body = {k: v for k, v in record.items() if v not in (None, "")}
    creators = {
        DataType.SUPPLIERS: "create_supplier",
        DataType.CUSTOMERS: "create_customer",
        DataType.ACCOUNTS: "create_account",
        DataType.BANK_ACCOUNTS: "create_bank_account",
    }
    try:
        with codat_client(interactive=True) as client:
            answer = getattr(client, creators[data_type])(
                str(company.codat_company_id),
                str(connection.codat_connection_id),
                body,
                idempotency_key=str(uuid.uuid4()),
            )
    except CodatError as exc:
        raise WriteError(
            f"Codat did not take the new {NOUNS[data_type]}: {exc.message or exc.error}"
        ) from exc
    with transaction.atomic():
        write = WriteOperation.objects.create(
            company=company,
            connection=connection,
            push_operation_key=answer["pushOperationKey"],
            data_type=data_type,
            request_body=body,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _apply(write, answer)
        AuditEvent.record(
            actor,
            "ledger.create",
            obj=write,
            company=company,
            label=f"New {NOUNS[data_type]} “{record_label(data_type, body)}”",
        )
        if not write.is_terminal:
            from . import tasks

            transaction.on_commit(lambda: tasks.follow_write.apply_async((write.pk,), countdown=1))
    return write


def follow_write(write_id: int) -> WriteOperation | None:
    """Ask Codat how a pending write went and record it; the write as it now stands."""
    write = WriteOperation.objects.select_related("company").filter(pk=write_id).first()
    if write is None or write.is_terminal:
        return write
    if timezone.now() - write.requested_at > FOLLOW_FOR:
        WriteOperation.objects.filter(pk=write.pk, status=WriteOperation.Status.PENDING).update(
            status=WriteOperation.Status.TIMED_OUT,
            error_message="Codat did not finish the write in time; check the ledger.",
            completed_at=timezone.now(),
        )
        write.refresh_from_db()
        return write
    with codat_client(interactive=True) as client:
        answer = client.get_push_operation(
            str(write.company.codat_company_id), str(write.push_operation_key)
        )
        _apply(write, answer, client=client)
    return write


# Codat says when a write ends (`{dataType}.write.successful|unsuccessful`, Platform spec): the
# write is then read once more, so it ends without waiting for the next poll.
WRITE_EVENTS = tuple(
    f"{data_type}.write.{outcome}"
    for data_type in DataType.values
    for outcome in ("successful", "unsuccessful")
)


@events.handles(*WRITE_EVENTS)
def on_write_event(event) -> None:
    try:
        key = uuid.UUID(str((event.data or {}).get("id")))
    except ValueError:
        return  # not one of ours: push operation keys are UUIDs
    write_id = (
        WriteOperation.objects.filter(push_operation_key=key, status=WriteOperation.Status.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
    if write_id is not None:
        follow_write(write_id)


def _apply(write: WriteOperation, answer: dict, *, client=None) -> None:
    status = answer.get("status") or WriteOperation.Status.PENDING
    if status == WriteOperation.Status.PENDING:
        return
    record_id = ""
    for change in answer.get("changes") or []:
        ref = change.get("recordRef") or {}
        if ref.get("id"):
            record_id = str(ref["id"])
    record_id = record_id or str((answer.get("data") or {}).get("id") or "")
    # Conditional: a page poll and the follower task may both see the answer; one records it.
    moved = WriteOperation.objects.filter(pk=write.pk, status=WriteOperation.Status.PENDING).update(
        status=status,
        status_code=answer.get("statusCode"),
        record_id=record_id,
        error_message=answer.get("errorMessage") or "",
        validation=answer.get("validation") or {},
        completed_at=timezone.now(),
    )
    write.refresh_from_db()
    if moved and write.status == WriteOperation.Status.SUCCESS and record_id:
        try:
            read_back(write, client=client)
        except CodatError:
            # The record is in the ledger; the next refresh brings it into the cache.
            logger.warning("Write %s succeeded but reading the record back failed", write.pk)


def read_back(write: WriteOperation, *, client=None) -> None:
    """Bring the new record into the cache now, so the chooser offers it."""
    company = write.company
    codat_id = str(company.codat_company_id)
    own = client is None
    client = client or codat_client(interactive=True)
    try:
        stamp = timezone.now()
        if write.data_type == DataType.SUPPLIERS:
            record = client.get_supplier(codat_id, write.record_id)
            _upsert_one(Supplier, "supplierName", company, record, stamp)
        elif write.data_type == DataType.CUSTOMERS:
            record = client.get_customer(codat_id, write.record_id)
            _upsert_one(Customer, "customerName", company, record, stamp)
        else:
            # Accounts and bank accounts are read through the mapping options (the Expenses
            # API has no list of either): both lists are complete, so both are refreshed.
            options = client.get_mapping_options(codat_id)
            accounts = options.get("accounts")
            with transaction.atomic():
                upsert.upsert_accounts(company, accounts, stamp)
                upsert.upsert_bank_accounts(
                    company,
                    None if accounts is None else [a for a in accounts if a.get("isBankAccount")],
                    stamp,
                )
    finally:
        if own:
            client.close()


def _upsert_one(model, name_field, company, record, stamp) -> None:
    # One record is not the whole list, so nothing else may be marked missing (complete=False).
    row = model(
        company=company,
        codat_id=str(record["id"]),
        name=upsert._text(record.get(name_field)),
        currency=upsert._currency(record.get("defaultCurrency")),
        status=upsert._choice(upsert.RecordStatus, record.get("status"), "UNKNOWN"),
        raw=record,
    )
    upsert._upsert(model, company, [row], stamp, ["name", "currency", "status"], complete=False)


# --- Reading a write back for the page -----------------------------------------------------------


def record_label(data_type: str, body: dict) -> str:
    for key in ("supplierName", "customerName", "accountName", "name"):
        if body.get(key):
            return str(body[key])
    return NOUNS.get(data_type, "record")


def field_errors(write: WriteOperation, names: Iterable[str]) -> tuple[dict, list]:
    """Codat's validation errors of a failed write: by form field where Codat names one,
    and the rest (or the plain error message) for the top of the form."""
    names = set(names)
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for item in (write.validation or {}).get("errors") or []:
        message = item.get("message") or ""
        target = item.get("itemId") or ""
        if target in names:
            by_field.setdefault(target, []).append(message)
        elif message:
            general.append(message)
    if not by_field and not general:
        general.append(write.error_message or "The ledger refused the record; no reason given.")
    return by_field, general


def created_record(write: WriteOperation):
    """The cached record a successful write made, if it is in the cache yet."""
    model = CACHED_MODEL.get(write.data_type)
    if model is None or not write.record_id:
        return None
    return model.objects.filter(company=write.company_id, codat_id=write.record_id).first()
