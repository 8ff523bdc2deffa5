"""Manage data: refreshes (pull operations) and the data status."""

from .. import serializers, services
from ..errors import PULL_SERVICE, ApiError, invalid_field
from ..http import json_response, no_content, paged, parse_uuid

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


def refresh_all_data_types(request, company_id):
    company = services.get_company(company_id)
    conn = services.linked_connection(company)
    services.queue_read(company, conn, services.EXPENSES_DATA_TYPES)
    return no_content(204)


def get_data_status(request, company_id):
    company = services.get_company(company_id)
    services.complete_due_pulls(company=company)
    return json_response(services.data_status(company))


def refresh_data_type(request, company_id, data_type):
    company = services.get_company(company_id)
    if data_type not in DATA_TYPES:
        raise invalid_field(
            "dataType",
            f"'{data_type}' is not a Codat data type.",
            "EnumValidator",
            service=PULL_SERVICE,
        )
    conn = services.linked_connection(company, request.GET.get("connectionId"))
    [pull] = services.queue_read(company, conn, [data_type])
    return json_response(serializers.pull_operation(pull))


def list_pull_operations(request, company_id):
    company = services.get_company(company_id)
    services.complete_due_pulls(company=company)
    return paged(
        request,
        [serializers.pull_operation(op) for op in company.pull_operations.all()],
        optional=("completed",),
    )


def get_pull_operation(request, company_id, dataset_id):
    company = services.get_company(company_id)
    services.complete_due_pulls(company=company)
    not_found = ApiError(404, f"No dataset was found with ID {dataset_id}", service=PULL_SERVICE)
    op = company.pull_operations.filter(pk=parse_uuid(dataset_id, not_found)).first()
    if op is None:
        raise not_found
    return json_response(serializers.pull_operation(op))
