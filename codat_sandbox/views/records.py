"""Accounts, Bank accounts, Customers and Suppliers: reading the ledger's records, writing them
through push operations, and the create models (push options)."""

from .. import push_options, schemas, serializers, services
from ..errors import ApiError, invalid_field
from ..http import json_response, paged, validated_body
from ..models import LedgerRecord, SandboxConnection

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
        raise invalid_field(
            name,
            f"{name} must be a whole number of minutes from 0 to {INT32_MAX}.",
            "RangeValidator",
        )
    return value


def _bool_query(request, name: str, default: bool) -> bool:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid_field(name, f"{name} must be true or false.", "BooleanValidator")
    return raw.lower() == "true"


# --- Writes (push operations) ---------------------------------------------------------------


def _push(request, company_id, connection_id, data_type, schema, record_id=None, operation=None):
    company = services.get_company(company_id)
    conn = services.writable_connection(company, connection_id, data_type)
    record = validated_body(request, schema)
    if operation is not None:
        services.require_updatable(conn, data_type, record_id, operation)
    op = services.create_push_operation(
        conn,
        data_type,
        record,
        record_id=record_id,
        timeout_in_minutes=_int_query(request, "timeoutInMinutes"),
        force_update=_bool_query(request, "forceUpdate", False) if record_id else False,
    )
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


# --- Create models (push options) -----------------------------------------------------------


def _push_option(request, company_id, connection_id, data_type):
    conn = services.get_connection(services.get_company(company_id), connection_id)
    if conn.source_type != SandboxConnection.SourceType.ACCOUNTING:
        raise ApiError(404, f"Data type {data_type} is not supported by this connection.")
    return json_response(push_options.push_option(conn.platform_key, data_type))


def get_create_chart_of_accounts_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "chartOfAccounts")


def get_create_bank_accounts_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "bankAccounts")


# Not in the Expenses spec, but the same operation and PushOption answer in Codat's Accounting
# API (`get-create-update-suppliers-model`, `get-create-update-customers-model`), which the
# supplier and customer writes of the Expenses spec point to for "what data to post".
def get_create_suppliers_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "suppliers")


def get_create_customers_model(request, company_id, connection_id):
    return _push_option(request, company_id, connection_id, "customers")


# --- Reads ----------------------------------------------------------------------------------


def _list_records(request, company_id, data_type):
    company = services.get_company(company_id)
    services.require_fetched(company, data_type)
    return paged(request, services.records(company, data_type), optional=("supplementalData",))


def _get_record(request, company_id, data_type, record_id):
    company = services.get_company(company_id)
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
