"""Every staff route refuses customers (404) and anonymous visitors (sign-in), on every method.

The routes are found by walking the URLconf under staff/, so a new page is covered the moment
it is routed; its path parameters need a maker in PARAMS.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from integrations.companies.models import Membership
from integrations.syncs.models import ErrorCluster
from tests.models.factories import make_company, make_membership, make_user

pytestmark = pytest.mark.django_db

PARAMS = {
    "company_id": lambda company: company.pk,
    "cluster_id": lambda company: ErrorCluster.objects.get_or_create(key="k", pattern="p")[0].pk,
    "action": lambda company: "retry-failed",
}


def staff_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return [r for r in walk(get_resolver().url_patterns) if r.startswith("staff/")]


def _url(route, company):
    path = route
    for name, make in PARAMS.items():
        for converter in ("int", "slug", "str", "uuid"):
            token = f"<{converter}:{name}>"
            if token in path:
                path = path.replace(token, str(make(company)))
    assert "<" not in path, f"{route}: add a maker for its parameter to PARAMS"
    return "/" + path


def test_the_walk_finds_the_staff_pages():
    routes = staff_routes()
    assert "staff/" in routes
    assert "staff/companies/<int:company_id>/<slug:action>/" in routes
    assert len(routes) >= 8


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_a_customer_gets_404_everywhere(client, method):
    company = make_company()
    owner = make_membership(company=company, role=Membership.Role.OWNER).user
    client.force_login(owner)
    for route in staff_routes():
        response = getattr(client, method)(_url(route, company))
        assert response.status_code in (403, 404), (route, method, response.status_code)


@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_is_sent_to_sign_in(client, method):
    company = make_company()
    for route in staff_routes():
        response = getattr(client, method)(_url(route, company))
        assert response.status_code in (302, 403, 404), (route, method)
        if response.status_code == 302:
            assert response.url.startswith("/accounts/login/"), route


def test_staff_get_in(client):
    client.force_login(make_user("sam", is_staff=True))
    company = make_company()
    for route in staff_routes():
        if "<slug:action>" in route:
            continue
        assert client.get(_url(route, company)).status_code == 200, route
