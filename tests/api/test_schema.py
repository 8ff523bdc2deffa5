"""schemathesis against the served schema: generated requests (valid and not) to every
operation, with a real key and real ids, must never get a 5xx and must get answers that
conform to the schema (status codes, content types, bodies)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.transactions.models import Transaction
from tests.api.conftest import spend

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_keeps_the_connection(known):
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction on PostgreSQL; Django's own test client unhooks this the same way (and
    hooks it back after each of its requests, hence after `known`)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def known(api, company):
    """A company and a transaction the generated requests point at (random ids would only
    ever reach the 404)."""
    body = api.post(f"/companies/{company.pk}/transactions", {"transactions": [spend()]}).json()
    return {"company": str(company.pk), "transaction": body["transactions"][0]["id"]}


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_honours_its_schema(case, api_key, known, wsgi_keeps_the_connection):
    if "company_id" in case.path_parameters:
        case.path_parameters["company_id"] = known["company"]
    if "transaction_id" in case.path_parameters:
        case.path_parameters["transaction_id"] = known["transaction"]
    response = case.call(headers={"Authorization": f"Bearer {api_key[1]}"})
    case.validate_response(response, checks=CHECKS)


def test_it_reaches_the_real_rows(known):
    assert Transaction.objects.filter(pk=known["transaction"]).exists()
