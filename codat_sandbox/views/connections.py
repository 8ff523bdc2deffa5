"""Connections, including the partner expense connection."""

from .. import schemas, serializers, services
from ..http import json_response, no_content, paged, validated_body
from .base import base_url


def list_connections(request, company_id):
    company = services.get_company(company_id)
    base = base_url(request)
    return paged(
        request,
        [serializers.connection(c, base) for c in company.connections.all()],
        optional=("integrationKey",),
    )


def create_connection(request, company_id):
    company = services.get_company(company_id)
    body = validated_body(request, schemas.CREATE_CONNECTION_REQUEST)
    conn = services.create_connection(company, body["platformKey"])
    return json_response(serializers.connection(conn, base_url(request)))


def get_connection(request, company_id, connection_id):
    conn = services.get_connection(services.get_company(company_id), connection_id)
    return json_response(serializers.connection(conn, base_url(request)))


def delete_connection(request, company_id, connection_id):
    conn = services.get_connection(services.get_company(company_id), connection_id)
    services.delete_connection(conn)
    return no_content(200)


def unlink_connection(request, company_id, connection_id):
    conn = services.get_connection(services.get_company(company_id), connection_id)
    body = validated_body(request, schemas.UNLINK_CONNECTION_REQUEST)
    services.unlink(conn, body["status"])
    return json_response(serializers.connection(conn, base_url(request)))


def create_partner_expense_connection(request, company_id):
    conn = services.create_partner_expense_connection(services.get_company(company_id))
    return json_response(serializers.connection(conn, base_url(request)))
