"""Expenses, Reimbursements, Adjustments and Transfers: each create or update starts a sync and
answers its id."""

from .. import schemas, services, syncs
from ..errors import EXPENSE_SERVICE
from ..http import json_response, validated_body
from ..models import SandboxSync


def _sync_created(sync: SandboxSync, status: int = 200):
    return json_response({"syncId": str(sync.id)}, status=status)


def _create(request, company_id, schema, kind, operation):
    company = services.get_company(company_id)
    items = validated_body(request, schema, service=EXPENSE_SERVICE)
    return _sync_created(syncs.create_transactions(company, kind, operation, items))


def _update(request, company_id, transaction_id, *, schema, operation, kinds, label, status):
    company = services.get_company(company_id)
    txn_id = syncs.parse_transaction_id(transaction_id)
    body = validated_body(request, schema, service=EXPENSE_SERVICE)
    sync = syncs.update_transaction(
        company, txn_id, body, operation=operation, kinds=kinds, label=label
    )
    return _sync_created(sync, status=status)


def create_expense_transaction(request, company_id):
    return _create(
        request, company_id, schemas.CREATE_EXPENSE_REQUEST, SandboxSync.Kind.EXPENSE, "expense"
    )


def update_expense_transaction(request, company_id, transaction_id):
    return _update(
        request,
        company_id,
        transaction_id,
        schema=schemas.UPDATE_EXPENSE_REQUEST,
        operation="expense_update",
        kinds=(SandboxSync.Kind.EXPENSE, SandboxSync.Kind.EXPENSE_UPDATE),
        label="expense transaction",
        status=202,  # the spec's only 202: updates are accepted, not yet applied
    )


def create_reimbursable_expense_transaction(request, company_id):
    return _create(
        request,
        company_id,
        schemas.CREATE_REIMBURSABLE_REQUEST,
        SandboxSync.Kind.REIMBURSABLE,
        "reimbursable",
    )


def update_reimbursable_expense_transaction(request, company_id, transaction_id):
    return _update(
        request,
        company_id,
        transaction_id,
        schema=schemas.UPDATE_REIMBURSABLE_REQUEST,
        operation="reimbursable_update",
        kinds=(SandboxSync.Kind.REIMBURSABLE, SandboxSync.Kind.REIMBURSABLE_UPDATE),
        label="reimbursable expense",
        status=200,
    )


def create_adjustment_transaction(request, company_id):
    return _create(
        request,
        company_id,
        schemas.CREATE_ADJUSTMENT_REQUEST,
        SandboxSync.Kind.ADJUSTMENT,
        "adjustment",
    )


def create_transfer_transaction(request, company_id, transaction_id):
    company = services.get_company(company_id)
    txn_id = syncs.parse_transaction_id(transaction_id)
    body = validated_body(request, schemas.TRANSFER_REQUEST, service=EXPENSE_SERVICE)
    return _sync_created(syncs.put_transfer(company, txn_id, body))
