"""Model rows → Codat's JSON shapes (camelCase, exactly the spec's field names)."""

from django.urls import reverse

from .jsonutil import format_datetime
from .models import PullOperation, PushOperation, SandboxCompany, SandboxConnection, SandboxSync


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def company_reference(company: SandboxCompany, base_url: str) -> dict:
    return {
        "id": str(company.id),
        "name": company.name,
        "links": {
            "portal": absolute(
                base_url, reverse("codat_sandbox:ledger", kwargs={"company_id": company.id})
            )
        },
        "tags": company.tags or {},
    }


def company(company: SandboxCompany, base_url: str, connections=None) -> dict:
    if connections is None:
        connections = list(company.connections.all())
    return {
        "id": str(company.id),
        "name": company.name,
        "description": company.description,
        "redirect": absolute(
            base_url, reverse("codat_sandbox:link-company", kwargs={"company_id": company.id})
        ),
        "lastSync": format_datetime(company.last_sync),
        "created": format_datetime(company.created),
        "createdByUserName": "Sandbox",
        "products": ["expenses"],
        "tags": company.tags or {},
        "referenceSubsidiaryCompanies": [],
        "dataConnections": [connection(c, base_url) for c in connections],
    }


def connection(conn: SandboxConnection, base_url: str) -> dict:
    data = {
        "id": str(conn.id),
        "integrationId": str(conn.integration_id),
        "sourceId": str(conn.source_id),
        "platformName": conn.platform_name,
        "linkUrl": absolute(
            base_url,
            reverse(
                "codat_sandbox:link-start",
                kwargs={"company_id": conn.company_id, "connection_id": conn.id},
            ),
        ),
        "status": conn.status,
        "lastSync": format_datetime(conn.last_sync),
        "created": format_datetime(conn.created),
        "sourceType": conn.source_type,
        "dataConnectionErrors": [],
        "connectionInfo": None,
    }
    if conn.platform_key:
        data["integrationKey"] = conn.platform_key
    return data


def company_configuration(config: dict | None) -> dict:
    """The three objects are required, their ids are typed as strings: a default that was never
    set is an empty object, not `{"id": null}`."""
    config = config or {}
    response = {}
    for name in ("bankAccount", "supplier", "customer"):
        record_id = (config.get(name) or {}).get("id")
        response[name] = {} if record_id is None else {"id": record_id}
    return response


def sync_status(sync: SandboxSync) -> dict:
    return {
        "companyId": str(sync.company_id),
        "syncId": str(sync.id),
        "syncStatusCode": sync.status_code,
        "syncStatus": sync.status_text,
        "errorMessage": sync.error_message,
        "syncExceptionMessage": sync.exception_message,
        "syncUtc": format_datetime(sync.completed or sync.created),
        "dataPushed": sync.data_pushed,
    }


def transaction(txn) -> dict:
    return {
        "transactionId": txn.transaction_id,
        "status": txn.status,
        "message": txn.message or None,
        "integrationType": "expenses",
    }


def push_operation(op: PushOperation, *, with_data: bool = False) -> dict:
    data = {
        "changes": (
            [
                {
                    "type": "Created" if op.operation == "Create" else "Modified",
                    "recordRef": {"id": op.record_id, "dataType": op.data_type},
                }
            ]
            if op.status == PushOperation.Status.SUCCESS
            else []
        ),
        "dataType": op.data_type,
        "companyId": str(op.company_id),
        "pushOperationKey": str(op.key),
        "dataConnectionKey": str(op.connection_id),
        "requestedOnUtc": format_datetime(op.requested),
        "completedOnUtc": format_datetime(op.completed),
        "timeoutInMinutes": op.timeout_in_minutes,
        "timeoutInSeconds": op.timeout_in_minutes * 60 if op.timeout_in_minutes else None,
        "status": op.status,
        "errorMessage": op.error_message or None,
        "validation": op.validation or {"errors": [], "warnings": []},
        "statusCode": op.status_code,
    }
    if data["completedOnUtc"] is None:
        del data["completedOnUtc"]
    if with_data:
        record = dict(op.record)
        if op.record_id:
            record["id"] = op.record_id
        data["data"] = record
    return data


def pull_operation(op: PullOperation) -> dict:
    complete = op.status == PullOperation.Status.COMPLETE
    data = {
        "id": str(op.id),
        "companyId": str(op.company_id),
        "connectionId": str(op.connection_id),
        "dataType": op.data_type,
        "status": op.status,
        "statusDescription": None,
        "errorMessage": None,
        "requested": format_datetime(op.requested),
        "progress": 100 if complete else 0,
        "isCompleted": complete,
        "isErrored": op.status.endswith("Error"),
    }
    if op.completed:
        data["completed"] = format_datetime(op.completed)
    return data
