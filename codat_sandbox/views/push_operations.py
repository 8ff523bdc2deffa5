"""Push operations: reading them gives a pending one its chance to finish or time out."""

from django.utils import timezone

from .. import engine, serializers, services
from ..errors import ApiError
from ..http import json_response, paged, parse_uuid
from ..models import PushOperation


def list_push_operations(request, company_id):
    company = services.get_company(company_id)
    now = timezone.now()
    for op in company.push_operations.filter(status=PushOperation.Status.PENDING):
        engine.advance_push(op, now)
    return paged(
        request,
        [serializers.push_operation(op) for op in company.push_operations.all()],
        optional=("completedOnUtc",),
    )


def get_push_operation(request, company_id, push_operation_key):
    company = services.get_company(company_id)
    not_found = ApiError(404, f"Push operation {push_operation_key} not found")
    op = company.push_operations.filter(pk=parse_uuid(push_operation_key, not_found)).first()
    if op is None:
        raise not_found
    engine.advance_push(op)
    op.refresh_from_db()
    return json_response(serializers.push_operation(op))
