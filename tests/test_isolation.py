"""Every portal route is covered by tenant isolation, role and CSRF checks, by walking the URLconf.

Company-scoped routes live under `c/<int:company_id>/`; their views resolve the company through
the user's membership (`integrations.portal.access.company_access`) and answer 404 otherwise.
A new route needs nothing here unless it takes a new kind of id: then `PARAMS` learns how to
make one such object for a company, and every check below covers the route at once:

- a member of another company gets 404 on GET and POST (and with its own company's id in the
  path but the other company's objects after it);
- a viewer of the company gets 403 on every unsafe request;
- with CSRF checks on, an owner's POST without the token is refused (403).
"""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from integrations.companies.models import Membership
from tests.models import factories

# Route prefixes that are not tenant data: Django's admin (staff only, its own permission
# checks), the embedded Codat sandbox (a stand-in for Codat itself, off in production), the
# webhook receiver (called by Codat, trusts only the signature), the partner API (its own
# keys; tests/api walks its routes) and the staff pages (staff only; tests/staff walks them).
NOT_TENANT_SCOPED = ("admin/", "codat-sandbox/", "webhooks/", "api/", "staff/")

# Routes with a parameter that is not a company's object, and why each is safe.
NOT_COMPANY_SCOPED = {
    # The token is the secret: a wrong one gets 404, and accepting joins only the invited company.
    "invitations/<str:token>/": "single-use invitation token",
    # Django's password reset: the signed uid/token pair is the secret.
    "accounts/reset/<uidb64>/<token>/": "password reset link",
}

COMPANY_PREFIX = "c/<int:company_id>/"

# Path parameters that name a kind of thing, not one company's object: nothing to cross over.
NOT_OBJECTS = {"data_type"}


def _transaction(company):
    return factories.make_transaction(company).pk


def _receipt(company):
    return factories.make_receipt(factories.make_transaction(company)).pk


# Path parameter name -> a function making one object of `company`, returning its id.
PARAMS = {
    "company_id": lambda company: company.pk,
    "transaction_id": _transaction,
    "receipt_id": _receipt,
    "category_id": lambda company: factories.make_category(company).pk,
    "card_id": lambda company: factories.make_card(company).pk,
    "sync_id": lambda company: factories.make_sync(company).pk,
    "membership_id": lambda company: factories.make_membership(company=company).pk,
    "invitation_id": lambda company: _invitation(company),
    "write_id": lambda company: _write_operation(company),
    # Not an object: the kind of ledger record to create (the view 404s any other word).
    "data_type": lambda company: "suppliers",
}


def _invitation(company):
    from integrations.companies.services import invite

    return invite(company, "someone@example.com", Membership.Role.MEMBER)[0].pk


def _write_operation(company):
    from integrations.syncs.models import WriteOperation

    return WriteOperation.objects.create(
        company=company,
        connection=company.accounting_connection() or factories.make_connection(company),
        data_type=WriteOperation.DataType.SUPPLIERS,
        push_operation_key=uuid.uuid4(),
    ).pk


def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def portal_routes():
    return [r for r in walk(get_resolver().url_patterns) if not r.startswith(NOT_TENANT_SCOPED)]


def company_routes():
    return sorted(r for r in portal_routes() if r.startswith(COMPANY_PREFIX))


def parameters(route):
    """The names of a route's path parameters, in order (`<int:company_id>` -> company_id)."""
    names = []
    for part in route.split("<")[1:]:
        spec = part.split(">", 1)[0]
        names.append(spec.split(":")[-1])
    return names


def url_for(route, ids):
    url = "/" + route
    for part in route.split("<")[1:]:
        spec = part.split(">", 1)[0]
        url = url.replace(f"<{spec}>", str(ids[spec.split(":")[-1]]))
    return url


def make_ids(route, company, company_for_others=None):
    """Objects for each of `route`'s parameters, of `company` (the company id of
    `company_for_others` when given: the cross-object case)."""
    ids = {}
    for name in parameters(route):
        owner = company
        if name == "company_id" and company_for_others is not None:
            owner = company_for_others
        ids[name] = PARAMS[name](owner)
    return ids


def test_every_route_with_a_parameter_is_covered():
    routes = portal_routes()
    assert routes, "the URLconf walk found nothing"
    stray = [
        r
        for r in routes
        if "<" in r and not r.startswith(COMPANY_PREFIX) and r not in NOT_COMPANY_SCOPED
    ]
    assert stray == [], f"routes with an id outside c/<company_id>/: {stray}"
    unknown = {n for r in company_routes() for n in parameters(r) if n not in PARAMS}
    assert unknown == set(), f"teach PARAMS to make these ids: {sorted(unknown)}"


@pytest.fixture
def two_tenants(db):
    mine = factories.make_company("Mine Ltd")
    theirs = factories.make_company("Theirs Ltd")
    me = factories.make_user("me")
    factories.make_membership(me, mine, Membership.Role.OWNER)
    return mine, theirs, me


def _routes_or_skip():
    return company_routes() or [None]


@pytest.mark.django_db
@pytest.mark.parametrize("route", _routes_or_skip())
def test_other_companies_get_404(route, two_tenants, client):
    if route is None:
        pytest.skip("no company-scoped routes yet")
    mine, theirs, me = two_tenants
    client.force_login(me)
    url = url_for(route, make_ids(route, theirs))
    assert client.get(url).status_code == 404, url
    assert client.post(url).status_code == 404, url
    if len([p for p in parameters(route) if p not in NOT_OBJECTS]) > 1:
        # My company's id in the path, their objects after it: still nothing.
        url = url_for(route, make_ids(route, theirs, company_for_others=mine))
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize("route", _routes_or_skip())
def test_viewers_change_nothing(route, two_tenants, client):
    if route is None:
        pytest.skip("no company-scoped routes yet")
    mine, _, _ = two_tenants
    viewer = factories.make_user("viewer")
    factories.make_membership(viewer, mine, Membership.Role.VIEWER)
    client.force_login(viewer)
    url = url_for(route, make_ids(route, mine))
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url)
        assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", _routes_or_skip())
def test_unsafe_requests_need_the_csrf_token(route, two_tenants):
    if route is None:
        pytest.skip("no company-scoped routes yet")
    mine, _, me = two_tenants
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    url = url_for(route, make_ids(route, mine))
    response = client.post(url)
    assert response.status_code == 403, f"POST {url} without a CSRF token: {response.status_code}"
