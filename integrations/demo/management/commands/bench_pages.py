"""Server time and SQL queries of the pages that must stay fast at 10,000 companies.

    python manage.py bench_pages [--runs 20] [--only staff]

Each page is requested through Django's test client (the whole stack: middleware, view,
template; no network or browser), twice to warm caches and connections, then --runs times.
It prints p50 and p95 of the wall time per request, the median CPU time of this process and
time in SQL per request (on a busy machine wall time waits for a core; the CPU and SQL columns
say what the page itself costs), and the number of SQL queries of the last run. Staff pages
and the admin as a staff superuser; the customer's pages as the owner of the company with the
most transactions (the worst case). Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from integrations.companies.models import Company, Membership
from integrations.syncs.models import CompanyHealth


def _url(name, *args, query=""):
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return None


class Command(BaseCommand):
    help = "Print p50/p95 server time and SQL query count per page at the current data size."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help="Timed requests per page.")
        parser.add_argument("--only", default="", help="Only pages whose name contains this.")

    def handle(self, *args, **options):
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1.")
        staff = self.staff_user()
        big = self.biggest_company()
        owner = self.owner(big) if big else None
        failing = (
            CompanyHealth.objects.filter(health=Company.Health.FAILING)
            .order_by("-score", "company")
            .values_list("company_id", flat=True)
            .first()
        )
        pages = [
            ("staff overview", staff, _url("staff:overview")),
            ("staff triage", staff, _url("staff:triage") or _url("staff:companies")),
            (
                "staff triage, failing on Xero",
                staff,
                (_url("staff:triage") or _url("staff:companies") or "")
                + "?health=failing&platform=gbol",
            ),
            ("staff clusters", staff, _url("staff:clusters")),
            ("staff drill-down (biggest company)", staff, big and _url("staff:company", big)),
            ("staff drill-down (worst failing)", staff, failing and _url("staff:company", failing)),
            ("admin transactions", staff, _url("admin:transactions_transaction_changelist")),
            (
                "admin transactions, failed",
                staff,
                _url("admin:transactions_transaction_changelist", query="?status__exact=failed"),
            ),
            ("admin syncs", staff, _url("admin:syncs_sync_changelist")),
            ("admin sync items", staff, _url("admin:syncs_synctransaction_changelist")),
            ("admin receipts", staff, _url("admin:transactions_receipt_changelist")),
            ("admin webhook events", staff, _url("admin:syncs_webhookevent_changelist")),
            ("admin audit events", staff, _url("admin:companies_auditevent_changelist")),
            ("admin companies", staff, _url("admin:companies_company_changelist")),
            ("customer home", owner, _url("home")),
            ("customer transactions", owner, big and _url("portal:transactions", big)),
        ]
        only = options["only"].lower()
        clients = {}
        load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
        self.stdout.write(
            f"{Company.objects.count():,} companies; {options['runs']} runs per page after 2 "
            f"warm-ups; {connection.vendor}; load average {load} on {os.cpu_count()} CPUs"
        )
        self.stdout.write(
            f"{'page':<38} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} "
            f"{'sql p50':>8} {'queries':>8}"
        )
        with override_settings(ALLOWED_HOSTS=["*"], SECURE_SSL_REDIRECT=False):
            for name, user, url in pages:
                if only and only not in name.lower():
                    continue
                if not url or user is None:
                    self.stdout.write(f"{name:<38} {'skipped (no such page or no data)':>34}")
                    continue
                if user.pk not in clients:
                    clients[user.pk] = Client()
                    clients[user.pk].force_login(user)
                self.bench(name, clients[user.pk], url, options["runs"])

    def bench(self, name, client, url, runs):
        for _ in range(2):
            client.get(url)
        times, cpu, sql = [], [], []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        self.stdout.write(
            f"{name:<38} {response.status_code:>6} {p50:>8.1f} {p95:>8.1f} "
            f"{statistics.median(cpu):>8.1f} {statistics.median(sql):>8.1f} {len(queries):>8}"
        )

    def staff_user(self):
        User = get_user_model()
        user = User.objects.filter(is_staff=True, is_superuser=True, is_active=True).first()
        if user is None:
            raise CommandError("No active staff superuser: run `manage.py seed_demo` first.")
        return user

    def biggest_company(self):
        return (
            Company.objects.annotate(n=Count("transactions"))
            .order_by("-n")
            .values_list("pk", flat=True)
            .first()
        )

    def owner(self, company_id):
        membership = (
            Membership.objects.filter(company_id=company_id, role=Membership.Role.OWNER)
            .select_related("user")
            .first()
        )
        return membership.user if membership else None
