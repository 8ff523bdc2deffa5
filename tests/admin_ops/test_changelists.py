"""Every admin change list loads, searches and filters; the large ones cost the same number of
queries at any size and never count the whole table by hand."""

import uuid
from unittest import mock

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.companies import admin_scale
from integrations.companies.admin_scale import EstimatedCountPaginator, LargeTableAdmin
from integrations.companies.models import AuditEvent
from integrations.syncs.models import (
    CompanyHealth,
    ErrorCluster,
    ErrorClusterMember,
    SyncTransaction,
    WebhookEvent,
)
from integrations.transactions.models import Transaction
from tests.models.factories import (
    make_company,
    make_connection,
    make_full_graph,
    make_receipt,
    make_sync,
    make_transaction,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label)


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model,model_admin", REGISTERED, ids=lambda v: getattr(v, "__name__", ""))
def test_every_change_list_loads_searches_and_filters(admin_client, model, model_admin):
    make_full_graph()
    url = changelist(model)
    assert admin_client.get(url).status_code == 200
    if model_admin.search_fields:
        # Words, a uuid and a number: exact-id search fields must not choke on any of them.
        for q in ("acme", str(uuid.uuid4()), "42"):
            assert admin_client.get(url, {"q": q}).status_code == 200, q
    response = admin_client.get(url)
    for spec in response.context["cl"].filter_specs:
        for choice in list(spec.choices(response.context["cl"]))[1:2]:
            assert admin_client.get(url + choice["query_string"]).status_code == 200, choice


def add_rows(n):
    """n of everything the large change lists show, each on its own company."""
    for i in range(n):
        company = make_company(f"Company {i}", codat_company_id=uuid.uuid4())
        make_connection(company)
        txn = make_transaction(company, status="failed", needs_attention_reason="Refused")
        make_receipt(txn)
        sync = make_sync(company, send_state="accepted", status_code=5130)
        SyncTransaction.objects.create(sync=sync, transaction=txn, status="PushError")
        WebhookEvent.objects.create(
            webhook_id=f"msg_{uuid.uuid4().hex}", event_type="expenses.sync.unsuccessful"
        )
        AuditEvent.record(None, "mapping.change", obj=txn, company=company)
        CompanyHealth.objects.create(company=company, health="failing")
        cluster = ErrorCluster.objects.create(key=uuid.uuid4().hex, pattern="Account <n>")
        ErrorClusterMember.objects.create(cluster=cluster, transaction=txn, company=company)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


LARGE = [m for m, a in REGISTERED if isinstance(a, LargeTableAdmin)] + [
    m for m, _ in REGISTERED if m._meta.model_name in ("company", "companyhealth", "errorcluster")
]


def test_the_large_tables_use_the_estimating_paginator_and_no_full_count():
    names = {m._meta.model_name for m, a in REGISTERED if isinstance(a, LargeTableAdmin)}
    assert names >= {
        "transaction",
        "receipt",
        "sync",
        "synctransaction",
        "webhookevent",
        "writeoperation",
        "auditevent",
    }
    for model, model_admin in REGISTERED:
        if model._meta.model_name in names:
            assert model_admin.paginator is EstimatedCountPaginator
            assert model_admin.show_full_result_count is False


def test_change_list_query_counts_do_not_grow_with_the_rows(admin_client):
    add_rows(2)
    small = {m: queries(admin_client, changelist(m)) for m in LARGE}
    small["failed"] = queries(admin_client, changelist(Transaction) + "?status__exact=failed")
    add_rows(12)
    large = {m: queries(admin_client, changelist(m)) for m in LARGE}
    large["failed"] = queries(admin_client, changelist(Transaction) + "?status__exact=failed")
    assert large == small


def test_the_transactions_change_list_query_count_is_pinned(
    admin_client, django_assert_num_queries
):
    add_rows(3)
    # session, user, the page's rows (with their companies in one join), its count.
    with django_assert_num_queries(4):
        admin_client.get(changelist(Transaction))


def test_the_paginator_counts_small_or_filtered_tables_exactly():
    for i in range(3):
        make_transaction(make_company(f"C{i}"), status="ready" if i else "failed")
    everything = Transaction.objects.order_by("pk")
    assert EstimatedCountPaginator(everything, 2).count == 3
    # The estimate only for an unfiltered table; a filter always counts.
    with mock.patch.object(admin_scale, "estimated_count", return_value=1_000_000) as estimate:
        assert EstimatedCountPaginator(everything, 2).count == 1_000_000
        assert EstimatedCountPaginator(everything.filter(status="failed"), 2).count == 1
    assert estimate.call_count == 1


def test_the_estimate_comes_from_postgresql_statistics():
    make_transaction()
    if connection.vendor != "postgresql":
        assert admin_scale.estimated_count(Transaction, exact_below=10) is None
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Transaction._meta.db_table}")
    # Below the threshold it counts; at or above it trusts the statistics.
    assert admin_scale.estimated_count(Transaction, exact_below=10) == 1
    assert admin_scale.estimated_count(Transaction, exact_below=1) == 1
    assert admin_scale.estimated_rows(Transaction) == 1


def test_a_pasted_uuid_is_searched_by_the_indexed_id_fields_only(admin_client):
    txn = make_transaction(merchant_name="Pret")
    make_transaction(merchant_name=f"Shop {txn.pk}")  # would match a words search
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(changelist(Transaction), {"q": str(txn.pk)})
    assert list(response.context["cl"].result_list) == [txn]
    table = Transaction._meta.db_table
    searches = [q["sql"] for q in captured.captured_queries if table in q["sql"]]
    assert searches and not any("LIKE" in sql.upper() for sql in searches)
    # Words still search the text columns.
    response = admin_client.get(changelist(Transaction), {"q": "pret"})
    assert list(response.context["cl"].result_list) == [txn]
