"""Sync and Transaction status. Each read first processes the company's due syncs, so a poll
never waits on the background thread."""

from .. import engine, serializers, services, syncs
from ..errors import EXPENSE_SERVICE, ApiError
from ..http import json_response, paged
from ..models import SandboxSync


def _company(company_id):
    company = services.get_company(company_id)
    engine.advance_syncs(company)
    return company


def get_last_successful_sync(request, company_id):
    company = _company(company_id)
    sync = (
        company.syncs.filter(status_code__in=SandboxSync.SUCCESS_CODES)
        .order_by("-completed")
        .first()
    )
    if sync is None:
        raise ApiError(
            404, f"No successful sync was found for company {company.id}", service=EXPENSE_SERVICE
        )
    return json_response(serializers.sync_status(sync))


def get_latest_sync(request, company_id):
    company = _company(company_id)
    sync = company.syncs.order_by("-created").first()
    if sync is None:
        raise ApiError(404, f"No sync was found for company {company.id}", service=EXPENSE_SERVICE)
    return json_response(serializers.sync_status(sync))


def list_syncs(request, company_id):
    company = _company(company_id)
    return json_response([serializers.sync_status(s) for s in company.syncs.order_by("-created")])


def get_sync_by_id(request, company_id, sync_id):
    company = _company(company_id)
    return json_response(serializers.sync_status(syncs.get_sync(company, sync_id)))


def list_sync_transactions(request, company_id, sync_id):
    sync = syncs.get_sync(_company(company_id), sync_id)
    return paged(
        request, [serializers.transaction(t) for t in sync.transactions.all()], filterable=False
    )


def get_sync_transaction(request, company_id, sync_id, transaction_id):
    sync = syncs.get_sync(_company(company_id), sync_id)
    return json_response([serializers.transaction(syncs.get_transaction(sync, transaction_id))])
