"""Attachments: a file uploaded to a synced transaction."""

from django.http.multipartparser import MultiPartParserError

from .. import engine, services, syncs
from ..errors import EXPENSE_SERVICE, ApiError, invalid_field
from ..http import json_response


def upload_expense_attachment(request, company_id, sync_id, transaction_id):
    company = services.get_company(company_id)
    engine.advance_syncs(company)
    sync = syncs.get_sync(company, sync_id)
    txn = syncs.get_transaction(sync, transaction_id)
    try:
        upload = request.FILES.get("file")
    except MultiPartParserError:
        # No boundary, a bad boundary or a truncated body: the client sent no parseable form.
        raise ApiError(
            400,
            "The request body is not a valid multipart/form-data body.",
            service=EXPENSE_SERVICE,
        ) from None
    if upload is None:
        raise invalid_field(
            "file", "The file field is required.", "RequiredValidator", service=EXPENSE_SERVICE
        )
    attachment = syncs.attach(company, sync, txn, upload)
    return json_response(
        {"companyId": str(company.id), "id": attachment.id, "transactionId": txn.transaction_id}
    )
