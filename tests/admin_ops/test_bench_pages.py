"""bench_pages runs at any size (a smoke test; the figures themselves go in docs/benchmarks.md)."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.models.factories import make_full_graph, make_membership, make_user

pytestmark = pytest.mark.django_db


def test_it_prints_time_and_queries_per_page():
    company = make_full_graph()
    make_membership(make_user("owner"), company)
    make_user("ops", is_staff=True, is_superuser=True)
    out = io.StringIO()
    call_command("bench_pages", runs=1, only="transactions", stdout=out)
    lines = out.getvalue().splitlines()
    assert "p95 ms" in lines[1] and "queries" in lines[1]
    rows = {line[:38].strip(): line.split() for line in lines[2:]}
    assert rows["admin transactions"][-6] == "200"
    assert rows["customer transactions"][-6] == "200"


def test_it_needs_a_staff_superuser():
    with pytest.raises(CommandError, match="staff superuser"):
        call_command("bench_pages", runs=1, stdout=io.StringIO())
