"""Codat's paths directly below the sandbox prefix, with no trailing slashes (Codat has none),
plus the Link pages and the ledger viewer under their own sub-paths."""

from django.urls import path, re_path

from .http import endpoint
from .views import (
    attachments,
    base,
    companies,
    configuration,
    connections,
    ledger,
    link,
    manage_data,
    push_operations,
    records,
    syncs,
    transactions,
)

app_name = "codat_sandbox"

C = "companies/<str:company_id>"
SYNCS = f"{C}/sync/expenses/syncs"
CONN = f"{C}/connections/<str:connection_id>"

urlpatterns = [
    # Companies
    path(
        "companies",
        endpoint(GET=companies.list_companies, POST=companies.create_company),
        name="companies",
    ),
    path(
        C,
        endpoint(
            GET=companies.get_company,
            PUT=companies.replace_company,
            PATCH=companies.update_company,
            DELETE=companies.delete_company,
        ),
        name="company",
    ),
    # Connections
    path(
        f"{C}/connections",
        endpoint(GET=connections.list_connections, POST=connections.create_connection),
        name="connections",
    ),
    path(
        CONN,
        endpoint(
            GET=connections.get_connection,
            DELETE=connections.delete_connection,
            PATCH=connections.unlink_connection,
        ),
        name="connection",
    ),
    path(
        f"{C}/sync/expenses/connections/partnerExpense",
        endpoint(POST=connections.create_partner_expense_connection),
        name="partner-expense-connection",
    ),
    # Company info, configuration, mapping options
    path(f"{C}/data/info", endpoint(GET=companies.get_company_info), name="company-info"),
    path(
        f"{C}/sync/expenses/config",
        endpoint(
            GET=configuration.get_company_configuration,
            POST=configuration.set_company_configuration,
        ),
        name="configuration",
    ),
    path(
        f"{C}/sync/expenses/mappingOptions",
        endpoint(GET=configuration.get_mapping_options),
        name="mapping-options",
    ),
    # Sync status: the literal segments must come before {syncId}.
    path(
        f"{SYNCS}/lastSuccessful/status",
        endpoint(GET=syncs.get_last_successful_sync),
        name="sync-last-successful",
    ),
    path(f"{SYNCS}/latest/status", endpoint(GET=syncs.get_latest_sync), name="sync-latest"),
    path(f"{SYNCS}/list/status", endpoint(GET=syncs.list_syncs), name="sync-list"),
    path(f"{SYNCS}/<str:sync_id>/status", endpoint(GET=syncs.get_sync_by_id), name="sync"),
    path(
        f"{SYNCS}/<str:sync_id>/transactions",
        endpoint(GET=syncs.list_sync_transactions),
        name="sync-transactions",
    ),
    path(
        f"{SYNCS}/<str:sync_id>/transactions/<str:transaction_id>",
        endpoint(GET=syncs.get_sync_transaction),
        name="sync-transaction",
    ),
    path(
        f"{SYNCS}/<str:sync_id>/transactions/<str:transaction_id>/attachments",
        endpoint(POST=attachments.upload_expense_attachment),
        name="attachments",
    ),
    # Transactions
    path(
        f"{C}/sync/expenses/expense-transactions",
        endpoint(POST=transactions.create_expense_transaction),
        name="expense-transactions",
    ),
    path(
        f"{C}/sync/expenses/expense-transactions/<str:transaction_id>",
        endpoint(PUT=transactions.update_expense_transaction),
        name="expense-transaction",
    ),
    path(
        f"{C}/sync/expenses/transfer-transactions/<str:transaction_id>",
        endpoint(PUT=transactions.create_transfer_transaction),
        name="transfer-transaction",
    ),
    path(
        f"{C}/sync/expenses/adjustment-transactions",
        endpoint(POST=transactions.create_adjustment_transaction),
        name="adjustment-transactions",
    ),
    path(
        f"{C}/sync/expenses/reimbursable-expense-transactions",
        endpoint(POST=transactions.create_reimbursable_expense_transaction),
        name="reimbursable-transactions",
    ),
    path(
        f"{C}/sync/expenses/reimbursable-expense-transactions/<str:transaction_id>",
        endpoint(PUT=transactions.update_reimbursable_expense_transaction),
        name="reimbursable-transaction",
    ),
    # Manage data
    path(f"{C}/data/all", endpoint(POST=manage_data.refresh_all_data_types), name="refresh-all"),
    path(f"{C}/dataStatus", endpoint(GET=manage_data.get_data_status), name="data-status"),
    path(
        f"{C}/data/queue/<str:data_type>",
        endpoint(POST=manage_data.refresh_data_type),
        name="refresh-data-type",
    ),
    path(
        f"{C}/data/history", endpoint(GET=manage_data.list_pull_operations), name="pull-operations"
    ),
    path(
        f"{C}/data/history/<str:dataset_id>",
        endpoint(GET=manage_data.get_pull_operation),
        name="pull-operation",
    ),
    # Push operations
    path(f"{C}/push", endpoint(GET=push_operations.list_push_operations), name="push-operations"),
    path(
        f"{C}/push/<str:push_operation_key>",
        endpoint(GET=push_operations.get_push_operation),
        name="push-operation",
    ),
    # Writes
    path(f"{CONN}/push/accounts", endpoint(POST=records.create_account), name="push-accounts"),
    path(
        f"{CONN}/options/chartOfAccounts",
        endpoint(GET=records.get_create_chart_of_accounts_model),
        name="options-accounts",
    ),
    path(
        f"{CONN}/push/bankAccounts",
        endpoint(POST=records.create_bank_account),
        name="push-bank-accounts",
    ),
    path(
        f"{CONN}/options/bankAccounts",
        endpoint(GET=records.get_create_bank_accounts_model),
        name="options-bank-accounts",
    ),
    path(
        f"{CONN}/options/suppliers",
        endpoint(GET=records.get_create_suppliers_model),
        name="options-suppliers",
    ),
    path(
        f"{CONN}/options/customers",
        endpoint(GET=records.get_create_customers_model),
        name="options-customers",
    ),
    path(f"{C}/data/customers", endpoint(GET=records.list_customers), name="customers"),
    path(
        f"{C}/data/customers/<str:customer_id>",
        endpoint(GET=records.get_customer),
        name="customer",
    ),
    path(f"{CONN}/push/customers", endpoint(POST=records.create_customer), name="push-customers"),
    path(
        f"{CONN}/push/customers/<str:customer_id>",
        endpoint(PUT=records.update_customer),
        name="push-customer",
    ),
    path(f"{C}/data/suppliers", endpoint(GET=records.list_suppliers), name="suppliers"),
    path(
        f"{C}/data/suppliers/<str:supplier_id>",
        endpoint(GET=records.get_supplier),
        name="supplier",
    ),
    path(f"{CONN}/push/suppliers", endpoint(POST=records.create_supplier), name="push-suppliers"),
    path(
        f"{CONN}/push/suppliers/<str:supplier_id>",
        endpoint(PUT=records.update_supplier),
        name="push-supplier",
    ),
    # Link (what linkUrl and the company redirect point at)
    path("link/company/<uuid:company_id>/", link.company_start, name="link-company"),
    path(
        "link/companies/<uuid:company_id>/connections/<uuid:connection_id>/start",
        link.start,
        name="link-start",
    ),
    # Ledger viewer
    path("", ledger.index, name="ledger-index"),
    # Where `make run` and the README send a person to watch the spend land.
    path("ledger/", ledger.index, name="ledger-home"),
    path("ledger/<uuid:company_id>/", ledger.company_ledger, name="ledger"),
    path(
        "ledger/<uuid:company_id>/attachments/<str:attachment_id>",
        ledger.download_attachment,
        name="ledger-attachment",
    ),
    path("ledger/<uuid:company_id>/faults/", ledger.faults, name="ledger-faults"),
    # Anything else below the prefix is an API path Codat does not have: answer it as Codat's
    # gateway would (JSON ErrorMessage 404 with the rate-limit headers), not with Django's HTML
    # page. The HTML namespaces (Link, the ledger viewer) keep Django's own 404s.
    re_path(
        r"^(?!link/|ledger/).*$",
        endpoint(**{method: base.unknown_path for method in base.ALL_METHODS}),
        name="unknown-path",
    ),
]
