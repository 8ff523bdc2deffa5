"""Configuration and Mapping options."""

from .. import schemas, serializers, services
from ..errors import EXPENSE_SERVICE
from ..http import json_response, validated_body


def get_company_configuration(request, company_id):
    company = services.get_company(company_id)
    return json_response(serializers.company_configuration(company.expense_config))


def set_company_configuration(request, company_id):
    company = services.get_company(company_id)
    body = validated_body(request, schemas.COMPANY_CONFIGURATION, service=EXPENSE_SERVICE)
    return json_response(services.set_configuration(company, body))


def get_mapping_options(request, company_id):
    return json_response(services.mapping_options(services.get_company(company_id)))
