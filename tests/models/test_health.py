from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.companies.models import Company

from .factories import make_company, make_connection, make_sync

pytestmark = pytest.mark.django_db

H = Company.Health


def company_with(connection_status, sync_codes):
    """A company whose accounting connection has `connection_status` (None: no connection) and
    whose syncs, oldest first, reported `sync_codes` ("requested": not yet acknowledged;
    "rejected": refused by Codat before it became a sync)."""
    company = make_company()
    if connection_status:
        make_connection(company, status=connection_status)
    start = timezone.now() - timedelta(hours=len(sync_codes))
    for i, code in enumerate(sync_codes):
        if code == "requested":
            fields = {"codat_sync_id": None, "status_code": None}
        elif code == "rejected":
            fields = {"codat_sync_id": None, "status_code": None, "send_state": "rejected"}
        else:
            fields = {"status_code": code}
        make_sync(company, requested_at=start + timedelta(hours=i), **fields)
    return company


CASES = [
    ("no connection at all", None, [], H.NEEDS_AUTH),
    ("waiting for the user in Link", "PendingAuth", [], H.NEEDS_AUTH),
    ("linked, nothing sent yet", "Linked", [], H.NEVER_SYNCED),
    ("push request in flight", "Linked", ["requested"], H.SYNCING),
    ("sync in progress", "Linked", [1000], H.SYNCING),
    ("sync running long", "Linked", [1010], H.SYNCING),
    ("sync succeeded", "Linked", [2000], H.OK),
    ("sync had nothing to write", "Linked", [2040], H.OK),
    ("sync failed to write", "Linked", [5130], H.FAILING),
    ("config error", "Linked", [4000], H.FAILING),
    ("an unlisted failure code", "Linked", [4999], H.FAILING),
    ("failure fixed by a later success", "Linked", [5130, 2000], H.OK),
    ("success followed by a failure", "Linked", [2000, 5120], H.FAILING),
    ("retry running after a failure", "Linked", [5130, 1000], H.SYNCING),
    ("request refused outright by Codat", "Linked", ["rejected"], H.FAILING),
    ("refused request after a success", "Linked", [2000, "rejected"], H.FAILING),
    ("deauthorised after syncing well", "Deauthorized", [2000], H.NEEDS_AUTH),
    ("unlinked", "Unlinked", [2000], H.NEEDS_AUTH),
]


@pytest.mark.parametrize(
    ("connection_status", "codes", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_it_computes_health(connection_status, codes, expected):
    company = company_with(connection_status, codes)
    assert company.health == expected
    annotated = Company.objects.with_health().get(pk=company.pk)
    assert annotated.health == expected


def test_it_judges_by_the_newest_accounting_connection():
    company = make_company()
    make_connection(company, status="Deauthorized", created_at=timezone.now() - timedelta(days=2))
    make_connection(company, status="Linked", platform_key="gbol")
    make_sync(company, status_code=2000)
    assert company.health == H.OK


def test_it_ignores_the_expense_connection_for_authorisation():
    company = make_company()
    make_connection(company, source_type="Expense", platform_key="sfex", status="Linked")
    assert company.health == H.NEEDS_AUTH


def test_it_annotates_health_for_a_whole_list_in_one_query(django_assert_num_queries):
    for status, codes in [("Linked", [2000]), ("Linked", [5130]), (None, []), ("Linked", [])]:
        company_with(status, codes)
    with django_assert_num_queries(1):
        healths = sorted(c.health for c in Company.objects.with_health())
    assert healths == sorted([H.OK, H.FAILING, H.NEEDS_AUTH, H.NEVER_SYNCED])
