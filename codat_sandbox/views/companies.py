"""Companies and Company info."""

from django.db.models import Prefetch

from .. import query, schemas, serializers, services
from ..errors import CLIENTS_SERVICE, MALFORMED_QUERY, ApiError
from ..http import json_response, no_content, paged, validated_body
from ..models import SandboxCompany, SandboxConnection
from .base import base_url


def list_companies(request):
    companies = SandboxCompany.objects.prefetch_related(
        Prefetch("connections", queryset=SandboxConnection.objects.order_by("created"))
    )
    tags_query = request.GET.get("tags")
    if tags_query:
        try:
            tree = query.parse(tags_query)
        except query.QueryError:
            raise ApiError(400, MALFORMED_QUERY, service=CLIENTS_SERVICE) from None
        companies = [c for c in companies if query.matches(tree, c.tags or {})]
    base = base_url(request)
    records = [
        serializers.company(c, base, connections=list(c.connections.all())) for c in companies
    ]
    return paged(request, records, optional=("referenceParentCompany",))


def create_company(request):
    body = validated_body(request, schemas.COMPANY_REQUEST, service=CLIENTS_SERVICE)
    company = services.create_company(body, base_url(request))
    return json_response(serializers.company(company, base_url(request), []))


def get_company(request, company_id):
    company = services.get_company(company_id)
    return json_response(serializers.company(company, base_url(request)))


def replace_company(request, company_id):
    company = services.get_company(company_id)
    body = validated_body(request, schemas.COMPANY_REQUEST, service=CLIENTS_SERVICE)
    # PUT replaces: fields left out are cleared.
    company.name = services.company_name(body["name"])
    company.description = body.get("description") or ""
    company.tags = body.get("tags") or {}
    company.save(update_fields=["name", "description", "tags"])
    return json_response(serializers.company(company, base_url(request)))


def update_company(request, company_id):
    company = services.get_company(company_id)
    body = validated_body(request, schemas.COMPANY_UPDATE_REQUEST, service=CLIENTS_SERVICE)
    # PATCH: nulls and omitted fields leave the value alone.
    if body.get("name") is not None:
        # The pattern lets whitespace through; a name of only spaces is no name.
        body["name"] = services.company_name(body["name"])
    for field, attribute in (("name", "name"), ("description", "description"), ("tags", "tags")):
        if body.get(field) is not None:
            setattr(company, attribute, body[field])
    company.save(update_fields=["name", "description", "tags"])
    return json_response(serializers.company(company, base_url(request)))


def delete_company(request, company_id):
    services.delete_company(services.get_company(company_id), base_url(request))
    return no_content(204)


def get_company_info(request, company_id):
    company = services.get_company(company_id)
    services.require_fetched(company, "company")
    info = services.company_information(company)
    if info is None:
        raise ApiError(409, "The data set has not been requested.")
    return json_response(info)
