"""Every portal route that takes an id is covered by a tenant-isolation case.

Company-scoped views resolve the company through the user's membership and answer 404 otherwise.
This test walks the URLconf: a new route with a path parameter fails here until a case below
proves that a member of another company gets 404 from it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Route prefixes that are not tenant data: Django's admin (staff only, its own permission
# checks), the embedded Codat sandbox (a stand-in for Codat itself, off in production) and the
# webhook receiver (called by Codat, not a user: it trusts only the signature, and the company
# comes from the signed payload, never from the URL).
NOT_TENANT_SCOPED = ("admin/", "codat-sandbox/", "webhooks/")

# route (as Django prints it) -> a function(client_of_other_company, company) returning the URL.
ISOLATION_CASES: dict = {}


def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def test_every_route_with_a_parameter_has_an_isolation_case():
    routes = [r for r in walk(get_resolver().url_patterns) if not r.startswith(NOT_TENANT_SCOPED)]
    assert routes, "the URLconf walk found nothing"
    unchecked = [r for r in routes if "<" in r and r not in ISOLATION_CASES]
    assert unchecked == [], f"routes without a tenant-isolation case: {unchecked}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ISOLATION_CASES) or [None])
def test_other_companies_get_404(route, client):
    if route is None:
        pytest.skip("no company-scoped routes yet")
