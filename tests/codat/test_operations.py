"""Every one of the spec's 48 operations maps to one client method with the right verb and path.

The table is written from Codat-Sync-Expenses.yaml (operationId, method, path template, success
status); each row calls the method with the spec's example-style ids and checks what went out.
"""

# ruff: noqa: E501 -- one operation per line reads like the spec's own table.

import io

import pytest

from .helpers import COMPANY_ID, CONNECTION_ID, SYNC_ID, TRANSACTION_ID

IDS = {
    "companyId": COMPANY_ID,
    "connectionId": CONNECTION_ID,
    "syncId": SYNC_ID,
    "transactionId": TRANSACTION_ID,
    "dataType": "chartOfAccounts",
    "datasetId": "d7b2f3a0-5c1e-4e0b-9d7e-1f2a3b4c5d6e",
    "pushOperationKey": "e3f4a5b6-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
    "customerId": "C-1",
    "supplierId": "S-1",
}
C, N, S, T = COMPANY_ID, CONNECTION_ID, SYNC_ID, TRANSACTION_ID
CONFIG = {"bankAccount": {"id": "1"}, "supplier": {"id": "2"}, "customer": {"id": "3"}}
EXPENSE = {"id": T, "type": "Payment", "issueDate": "2024-05-21", "currency": "GBP"}
UPDATE = {"type": "Payment", "issueDate": "2024-05-21", "currency": "GBP"}
REIMBURSABLE = {
    "id": T,
    "contactRef": {"id": "S-1"},
    "issueDate": "2024-05-21",
    "dueDate": "2024-06-21",
    "currency": "GBP",
}
REIMBURSABLE_UPDATE = {k: v for k, v in REIMBURSABLE.items() if k != "id"}
ADJUSTMENT = {"id": T, "date": "2024-05-21", "currency": "GBP", "lines": []}
TRANSFER = {
    "date": "2024-05-21",
    "from": {"accountRef": {"id": "1"}, "amount": 1},
    "to": {"accountRef": {"id": "2"}, "amount": 1},
}

# (operationId, method, path template, success status, response shape, call)
OPERATIONS = [
    ("list-companies", "GET", "/companies", 200, "page", lambda c: c.list_companies()),
    ("create-company", "POST", "/companies", 200, "object", lambda c: c.create_company({"name": "A"})),
    ("replace-company", "PUT", "/companies/{companyId}", 200, "object", lambda c: c.replace_company(C, {"name": "A"})),
    ("update-company", "PATCH", "/companies/{companyId}", 200, "object", lambda c: c.update_company(C, {"name": "A"})),
    ("delete-company", "DELETE", "/companies/{companyId}", 204, None, lambda c: c.delete_company(C)),
    ("get-company", "GET", "/companies/{companyId}", 200, "object", lambda c: c.get_company(C)),
    ("list-connections", "GET", "/companies/{companyId}/connections", 200, "page", lambda c: c.list_connections(C)),
    ("create-connection", "POST", "/companies/{companyId}/connections", 200, "object", lambda c: c.create_connection(C, "qhyg")),
    ("get-connection", "GET", "/companies/{companyId}/connections/{connectionId}", 200, "object", lambda c: c.get_connection(C, N)),
    ("delete-connection", "DELETE", "/companies/{companyId}/connections/{connectionId}", 200, None, lambda c: c.delete_connection(C, N)),
    ("unlink-connection", "PATCH", "/companies/{companyId}/connections/{connectionId}", 200, "object", lambda c: c.unlink_connection(C, N)),
    ("create-partner-expense-connection", "POST", "/companies/{companyId}/sync/expenses/connections/partnerExpense", 200, "object", lambda c: c.create_partner_expense_connection(C)),
    ("get-company-info", "GET", "/companies/{companyId}/data/info", 200, "object", lambda c: c.get_company_info(C)),
    ("get-company-configuration", "GET", "/companies/{companyId}/sync/expenses/config", 200, "object", lambda c: c.get_company_configuration(C)),
    ("set-company-configuration", "POST", "/companies/{companyId}/sync/expenses/config", 200, "object", lambda c: c.set_company_configuration(C, CONFIG)),
    ("get-mapping-options", "GET", "/companies/{companyId}/sync/expenses/mappingOptions", 200, "object", lambda c: c.get_mapping_options(C)),
    ("get-last-successful-sync", "GET", "/companies/{companyId}/sync/expenses/syncs/lastSuccessful/status", 200, "object", lambda c: c.get_last_successful_sync(C)),
    ("get-latest-sync", "GET", "/companies/{companyId}/sync/expenses/syncs/latest/status", 200, "object", lambda c: c.get_latest_sync(C)),
    ("list-syncs", "GET", "/companies/{companyId}/sync/expenses/syncs/list/status", 200, "array", lambda c: c.list_syncs(C)),
    ("get-sync-by-id", "GET", "/companies/{companyId}/sync/expenses/syncs/{syncId}/status", 200, "object", lambda c: c.get_sync(C, S)),
    ("list-sync-transactions", "GET", "/companies/{companyId}/sync/expenses/syncs/{syncId}/transactions", 200, "page", lambda c: c.list_sync_transactions(C, S)),
    ("get-sync-transaction", "GET", "/companies/{companyId}/sync/expenses/syncs/{syncId}/transactions/{transactionId}", 200, "array", lambda c: c.get_sync_transaction(C, S, T)),
    ("create-expense-transaction", "POST", "/companies/{companyId}/sync/expenses/expense-transactions", 200, "object", lambda c: c.create_expense_transactions(C, [EXPENSE])),
    ("update-expense-transaction", "PUT", "/companies/{companyId}/sync/expenses/expense-transactions/{transactionId}", 202, "object", lambda c: c.update_expense_transaction(C, T, UPDATE)),
    ("create-transfer-transaction", "PUT", "/companies/{companyId}/sync/expenses/transfer-transactions/{transactionId}", 200, "object", lambda c: c.create_transfer_transaction(C, T, TRANSFER)),
    ("create-adjustment-transaction", "POST", "/companies/{companyId}/sync/expenses/adjustment-transactions", 200, "object", lambda c: c.create_adjustment_transactions(C, [ADJUSTMENT])),
    ("create-reimbursable-expense-transaction", "POST", "/companies/{companyId}/sync/expenses/reimbursable-expense-transactions", 200, "object", lambda c: c.create_reimbursable_expense_transactions(C, [REIMBURSABLE])),
    ("update-reimbursable-expense-transaction", "PUT", "/companies/{companyId}/sync/expenses/reimbursable-expense-transactions/{transactionId}", 200, "object", lambda c: c.update_reimbursable_expense_transaction(C, T, REIMBURSABLE_UPDATE)),
    ("upload-expense-attachment", "POST", "/companies/{companyId}/sync/expenses/syncs/{syncId}/transactions/{transactionId}/attachments", 200, "object", lambda c: c.upload_attachment( C, S, T, io.BytesIO(b"x"), filename="r.pdf", content_type="application/pdf" )),
    ("refresh-all-data-types", "POST", "/companies/{companyId}/data/all", 204, None, lambda c: c.refresh_all_data_types(C)),
    ("get-data-status", "GET", "/companies/{companyId}/dataStatus", 200, "object", lambda c: c.get_data_status(C)),
    ("refresh-data-type", "POST", "/companies/{companyId}/data/queue/{dataType}", 200, "object", lambda c: c.refresh_data_type(C, "chartOfAccounts")),
    ("list-pull-operations", "GET", "/companies/{companyId}/data/history", 200, "page", lambda c: c.list_pull_operations(C)),
    ("get-pull-operation", "GET", "/companies/{companyId}/data/history/{datasetId}", 200, "object", lambda c: c.get_pull_operation(C, IDS["datasetId"])),
    ("list-push-operations", "GET", "/companies/{companyId}/push", 200, "page", lambda c: c.list_push_operations(C)),
    ("get-push-operation", "GET", "/companies/{companyId}/push/{pushOperationKey}", 200, "object", lambda c: c.get_push_operation(C, IDS["pushOperationKey"])),
    ("create-account", "POST", "/companies/{companyId}/connections/{connectionId}/push/accounts", 200, "object", lambda c: c.create_account(C, N, {"name": "Fuel"})),
    ("get-create-chartOfAccounts-model", "GET", "/companies/{companyId}/connections/{connectionId}/options/chartOfAccounts", 200, "object", lambda c: c.get_create_account_model(C, N)),
    ("create-bank-account", "POST", "/companies/{companyId}/connections/{connectionId}/push/bankAccounts", 200, "object", lambda c: c.create_bank_account(C, N, {"accountName": "Card"})),
    ("get-create-bankAccounts-model", "GET", "/companies/{companyId}/connections/{connectionId}/options/bankAccounts", 200, "object", lambda c: c.get_create_bank_account_model(C, N)),
    ("list-customers", "GET", "/companies/{companyId}/data/customers", 200, "page", lambda c: c.list_customers(C)),
    ("get-customer", "GET", "/companies/{companyId}/data/customers/{customerId}", 200, "object", lambda c: c.get_customer(C, "C-1")),
    ("create-customer", "POST", "/companies/{companyId}/connections/{connectionId}/push/customers", 200, "object", lambda c: c.create_customer(C, N, {"status": "Active"})),
    ("update-customer", "PUT", "/companies/{companyId}/connections/{connectionId}/push/customers/{customerId}", 200, "object", lambda c: c.update_customer(C, N, "C-1", {"status": "Active"})),
    ("list-suppliers", "GET", "/companies/{companyId}/data/suppliers", 200, "page", lambda c: c.list_suppliers(C)),
    ("get-supplier", "GET", "/companies/{companyId}/data/suppliers/{supplierId}", 200, "object", lambda c: c.get_supplier(C, "S-1")),
    ("create-supplier", "POST", "/companies/{companyId}/connections/{connectionId}/push/suppliers", 200, "object", lambda c: c.create_supplier(C, N, {"status": "Active"})),
    ("update-supplier", "PUT", "/companies/{companyId}/connections/{connectionId}/push/suppliers/{supplierId}", 200, "object", lambda c: c.update_supplier(C, N, "S-1", {"status": "Active"})),
]  # fmt: skip

BODIES = {
    "object": {},
    "array": [],
    "page": {"results": [], "pageNumber": 1, "pageSize": 100, "totalResults": 0},
}


def test_the_table_covers_all_48_operations_once():
    assert len({row[0] for row in OPERATIONS}) == len(OPERATIONS) == 48


@pytest.mark.parametrize("operation", OPERATIONS, ids=[row[0] for row in OPERATIONS])
def test_each_operation_uses_the_spec_verb_path_and_status(client, codat, operation):
    _, method, template, status, shape, call = operation
    path = template.format(**IDS)
    if shape is None:
        route = codat.route(method=method, path=path).respond(status)
    else:
        route = codat.route(method=method, path=path).respond(status, json=BODIES[shape])

    result = call(client)

    assert route.call_count == 1
    assert result == (None if shape is None else BODIES[shape])
    request = route.calls.last.request
    assert ("Idempotency-Key" in request.headers) == (method in ("POST", "PATCH"))
