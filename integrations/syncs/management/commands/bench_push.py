"""Benchmark the sync pipeline end to end against the sandbox served over real HTTP.

    python manage.py bench_push --companies 100 --transactions 20000
    python manage.py bench_push --companies 10 --transactions 2000 --naive

Everything runs on a throwaway database (a temporary SQLite file, or BENCH_DATABASE_URL, e.g. a
PostgreSQL database made for it), never the project's own: the command migrates it, serves the
project on a free loopback port with gunicorn (the sandbox, and the webhook receiver when there
is one), links and maps N companies through the connect services and the ledger import, and
creates M ready expenses spread over them.

The worker is a forked process running the real services on a pool of threads, the way a Celery
worker with a thread pool and beat would: pre-flight then push per company, follow for due
syncs, resume for interrupted sends, and the webhook events the receiver stored. It stops when
no transaction is in flight. Codat requests are counted in the worker (every httpx request to
the configured Codat URL) and, as a cross-check, by the sandbox's own daily-quota counter.

The batched run (50 per call, webhooks first when the project has a receiver, polling after
SYNC_POLL_DELAY_SECONDS as fallback) is followed by the naive way (one transaction per call,
every sync polled) on a fresh copy of the same workload, unless --naive asks for that alone.
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import importlib
import multiprocessing
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import environ
import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from django.db.models import Count, F, Max
from django.urls import Resolver404, resolve
from django.utils import timezone

from integrations.codat.client import MAX_TRANSACTIONS_PER_CALL
from integrations.codat.errors import CodatError
from integrations.codat.factory import codat_client
from integrations.companies import services as companies
from integrations.companies.models import Company, Connection
from integrations.ledger import upsert
from integrations.ledger.models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    Customer,
    ExpenseCategory,
    LedgerAccount,
    RecordStatus,
    Supplier,
)
from integrations.syncs.models import Sync, WebhookEvent
from integrations.syncs.services import follow, preflight, push
from integrations.transactions.models import Transaction

API_KEY = "sandbox-dev-key"
# A throwaway Standard Webhooks secret shared by the served sandbox and receiver.
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bench-push-webhook-secret-32-byt").decode()
RECEIVER_PATH = "/webhooks/codat/"
BENCH_SITE = Path(settings.BASE_DIR) / "scripts" / "benchsite"
NAIVE_BATCH = 1
# How long the served sandbox keeps a sync in progress (CODAT_SANDBOX_SYNC_DELAY_SECONDS).
SANDBOX_SYNC_DELAY = 1
CREATE_BATCH = 1000
SYNC_EVENTS = (follow.SYNC_SUCCESSFUL, follow.SYNC_UNSUCCESSFUL)
IN_FLIGHT = (Transaction.Status.READY, *Transaction.IN_FLIGHT_STATUSES)
# What the worker's loop waits between looks at the database, as beat's shortest schedule would.
TICK_SECONDS = 0.1
ROUTES = (
    ("create", re.compile(r"/(expense|reimbursable-expense|adjustment)-transactions$")),
    ("sync status", re.compile(r"/syncs/[^/]+/status$")),
    ("sync transactions", re.compile(r"/syncs/[^/]+/transactions$")),
)


class Command(BaseCommand):
    help = "Push N companies' worth of transactions through the sync pipeline and measure it."

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=10)
        parser.add_argument("--transactions", type=int, default=2000)
        parser.add_argument(
            "--naive", action="store_true", help="only the naive way: one call per transaction"
        )
        parser.add_argument(
            "--naive-transactions",
            type=int,
            help="size of the naive run's workload (default: the same as --transactions); "
            "throughputs are compared per second, so a smaller naive run still gives the ratio",
        )
        parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
        parser.add_argument("--platform", default="qhyg", help="platform to link (default qhyg)")
        parser.add_argument(
            "--poll-delay",
            type=float,
            help="batched run: seconds before an open sync is polled (default: "
            "SYNC_POLL_DELAY_SECONDS with webhooks, else 1, the sandbox's sync delay); the naive "
            "run always polls after 1",
        )
        parser.add_argument(
            "--max-seconds", type=float, default=3600, help="give up a run after this long"
        )
        parser.add_argument(
            "--server-workers", type=int, default=2, help="gunicorn workers serving the sandbox"
        )

    def handle(self, *args, **options):
        if not 1 <= options["companies"] <= 1000:
            raise CommandError("--companies must be 1..1000")
        if not options["companies"] <= options["transactions"] <= 1_000_000:
            raise CommandError("--transactions must be at least --companies, at most 1,000,000")
        receiver = _receiver_available()
        with _throwaway_database() as (workdir, database_label):
            self.stdout.write(f"database: {database_label}")
            server = Server(workdir, options["server_workers"])
            try:
                with server.serving(webhooks=False):
                    started = time.perf_counter()
                    ids = set_up_companies(options["companies"], options["platform"])
                    self.stdout.write(
                        f"set up {len(ids)} linked, mapped companies in "
                        f"{time.perf_counter() - started:.1f} s ({server.label})"
                    )
                runs = []
                if not options["naive"]:
                    with server.serving(webhooks=receiver):
                        runs.append(self._run(server, ids, options, naive=False, webhooks=receiver))
                with server.serving(webhooks=False):
                    runs.append(self._run(server, ids, options, naive=True, webhooks=False))
            finally:
                server.stop()
        if len(runs) == 2 and runs[1].per_second:
            self.stdout.write(
                f"batched / naive throughput: {runs[0].per_second / runs[1].per_second:.1f}x"
            )
        if not receiver and not options["naive"]:
            self.stdout.write(
                f"note: this build has no webhook receiver at {RECEIVER_PATH}; every sync was "
                "finished by polling"
            )
        if any(run.unfinished or run.errors for run in runs):
            raise CommandError("some transactions did not reach a final state (see above)")

    def _run(self, server, company_ids, options, *, naive: bool, webhooks: bool) -> RunResult:
        label = "naive (1 per call, every sync polled)" if naive else "batched (50 per call)"
        size = options["transactions"]
        if naive and options["naive_transactions"]:
            size = max(options["naive_transactions"], len(company_ids))
        # The naive run's workload is a fresh copy over the same companies; rows are told
        # apart by when they were made.
        since = timezone.now()
        create_transactions(company_ids, size)
        # The naive way polls each sync as soon as the sandbox can have finished it; the
        # batched way waits for webhooks first when there are any.
        poll_delay = SANDBOX_SYNC_DELAY if naive else options["poll_delay"]
        if poll_delay is None:
            # With webhooks, the project's own setting; without, nothing is worth waiting for.
            poll_delay = settings.SYNC_POLL_DELAY_SECONDS if webhooks else SANDBOX_SYNC_DELAY
        plan = RunPlan(
            company_ids=company_ids,
            batch_size=NAIVE_BATCH if naive else MAX_TRANSACTIONS_PER_CALL,
            webhooks=webhooks,
            threads=options["threads"],
            poll_delay=poll_delay,
            max_seconds=options["max_seconds"],
            codat_url=server.url,
        )
        first_sync = Sync.objects.aggregate(last=Max("pk"))["last"] or 0
        first_event = WebhookEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        counted_before = server.quota_used()
        result = run_worker(plan)
        result.sandbox_requests = server.quota_used() - counted_before
        result.measure(company_ids, since, first_sync, first_event)
        self.stdout.write(result.report(label, size))
        return result


# --- The throwaway database and the served project ----------------------------------------------


def _receiver_available() -> bool:
    """Whether this build receives Codat's webhooks (the receiver and its event processing)."""
    try:
        resolve(RECEIVER_PATH)
    except Resolver404:
        return False
    return importlib.util.find_spec("integrations.syncs.events") is not None


@contextlib.contextmanager
def _throwaway_database():
    """Point the default database at a fresh one for the run, and back afterwards.

    The settings dict is changed in place: Django's connection handler holds that same dict,
    so every thread's connection (and the forked worker's) opens the benchmark's database.
    """
    workdir = Path(tempfile.mkdtemp(prefix="bench-push-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # As in settings: WAL so readers never wait, writers queue for the lock.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 60,
        }
    saved = dict(settings.DATABASES["default"])
    _forget_connection()
    live = settings.DATABASES["default"]
    live.clear()
    live.update({**saved, "OPTIONS": {}, **config, "CONN_MAX_AGE": 60, "TEST": {}})
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield workdir, url.split("@")[-1] if "@" in url else url
    finally:
        _forget_connection()
        live.clear()
        live.update(saved)
        shutil.rmtree(workdir, ignore_errors=True)


def _forget_connection() -> None:
    # This thread's wrapper was built for the old engine; the next use builds a new one.
    connections.close_all()
    del connections["default"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The project served by gunicorn on a loopback port, on the benchmark's database."""

    def __init__(self, workdir: Path, workers: int):
        self.workdir = workdir
        self.workers = workers
        self.state_dir = workdir / "sandbox-state"
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.label = ""

    @contextlib.contextmanager
    def serving(self, *, webhooks: bool):
        self.start(webhooks=webhooks)
        try:
            yield self
        finally:
            self.stop()

    def start(self, *, webhooks: bool) -> None:
        port = _free_port()
        root = f"http://127.0.0.1:{port}"
        self.url = f"{root}/codat-sandbox"
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            database_url = f"sqlite:///{database['NAME']}"
        else:
            database_url = os.environ["BENCH_DATABASE_URL"]
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url,
                "DJANGO_SETTINGS_MODULE": "bench_settings",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(BENCH_SITE), str(settings.BASE_DIR), env.get("PYTHONPATH")])
                ),
                "BENCH_SANDBOX_STATE_DIR": str(self.state_dir),
                "CODAT_SANDBOX_ENABLED": "true",
                "CODAT_SANDBOX_URL": self.url,
                "CODAT_BASE_URL": self.url,
                "CODAT_SANDBOX_API_KEYS": API_KEY,
                "CODAT_API_KEY": API_KEY,
                "CODAT_SANDBOX_DAILY_QUOTA": "100000000",
                # Codat's own limit: at most 10 requests in flight per company.
                "CODAT_SANDBOX_CONCURRENCY": "10",
                "CODAT_SANDBOX_SYNC_DELAY_SECONDS": str(SANDBOX_SYNC_DELAY),
                "CODAT_SANDBOX_WEBHOOK_URL": f"{root}{RECEIVER_PATH}" if webhooks else "",
                "CODAT_SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "CODAT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "CODAT_WEBHOOK_PREVIOUS_SECRETS": "",
                # The receiver stores each event and queues it; the benchmark's worker processes
                # the stored events itself, so nothing may reach a developer's broker.
                "CELERY_BROKER_URL": "memory://",
                "LOG_LEVEL": "WARNING",
            }
        )
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [
            str(gunicorn),
            "expenses_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
        ]
        self.log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed argv)
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.label = f"gunicorn {self.workers} workers x 4 threads on {root}"
        settings.CODAT_SANDBOX_URL = settings.CODAT_BASE_URL = self.url
        settings.CODAT_API_KEY = API_KEY
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise CommandError(f"the server exited: {self._log_tail()}")
            try:
                httpx.get(f"{self.url}/companies", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise CommandError("the server did not start within 60 s") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        self.log.close()

    def _log_tail(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")[-2000:]

    def quota_used(self) -> int:
        """The sandbox's own count of the API requests it answered today (its quota counter)."""
        from codat_sandbox import locks

        # The sandbox keeps one counter file per UTC day (codat_sandbox/limits.py).
        path = self.state_dir / "quota" / datetime.now(UTC).date().isoformat()
        if not path.exists():
            return 0
        return locks.counter(path).read() or 0


# --- Setting up linked, mapped companies --------------------------------------------------------


class _LinkForm(html.parser.HTMLParser):
    """The hidden fields of the Link page's form, for pressing Approve like a browser."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


def approve_link(link_url: str) -> None:
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        page = browser.get(link_url)
        page.raise_for_status()
        form = _LinkForm()
        form.feed(page.text)
        answer = browser.post(
            urljoin(str(page.url), str(page.url)),
            data={**form.fields, "decision": "approve"},
            headers={"Referer": str(page.url)},
        )
        if answer.status_code >= 400:
            raise CommandError(f"Link approve answered {answer.status_code}")


def set_up_company(index: int, platform: str) -> int:
    """One company, connected and read through the real services, then mapped."""
    close_old_connections()
    company = Company.objects.create(name=f"Bench {index:04d}")
    connection = companies.connect_accounting(company, platform)
    approve_link(connection.link_url)
    with codat_client() as client:
        remote = client.get_connection(
            str(company.codat_company_id), str(connection.codat_connection_id)
        )
        Connection.objects.filter(pk=connection.pk).update(
            status=Connection.Status(remote["status"])
        )
        companies.connect_partner_expense(company)
        upsert.import_ledger(client, company, stamp=timezone.now())
    map_company(company)
    return company.pk


def map_company(company: Company) -> None:
    """What a person does on the mapping screens: a category, a card and the defaults."""
    currency = CompanyInfo.objects.get(company=company).base_currency
    key = f"expense-transactions.{Transaction.ExpenseType.PAYMENT}"
    accounts = LedgerAccount.objects.filter(
        company=company, status=RecordStatus.ACTIVE, is_bank_account=False
    ).order_by("nominal_code")
    account = next(
        (a for a in accounts if a.is_valid_for(key) and a.account_type == "Expense"),
        next(a for a in accounts if a.is_valid_for(key)),
    )
    banks = BankAccount.objects.filter(
        company=company, status=RecordStatus.ACTIVE, currency__in=("", currency)
    ).order_by("-account_type")  # Credit (a card account) before Debit
    bank = banks.first()
    supplier = Supplier.objects.filter(
        company=company, status=RecordStatus.ACTIVE, currency__in=("", currency)
    ).first()
    customer = Customer.objects.filter(company=company, status=RecordStatus.ACTIVE).first()
    CompanyConfiguration.objects.update_or_create(
        company=company,
        defaults={
            "default_bank_account": bank,
            "default_supplier": supplier,
            "default_customer": customer,
        },
    )
    category = ExpenseCategory.objects.create(company=company, name="Travel", code="TRAVEL")
    CategoryMapping.objects.create(category=category, account=account)
    card = Card.objects.create(
        company=company,
        reference="bench-card",
        name="Company card",
        cardholder="Bench Holder",
        last_four="4242",
        currency=currency,
    )
    CardMapping.objects.create(card=card, bank_account=bank)


def set_up_companies(count: int, platform: str) -> list[int]:
    # A few at a time: each is a dozen requests and a Link page.
    with ThreadPoolExecutor(max_workers=min(8, count)) as pool:
        ids = list(pool.map(lambda i: set_up_company(i, platform), range(count)))
    connections.close_all()
    return ids


def create_transactions(company_ids: list[int], total: int) -> None:
    """`total` ready card expenses spread evenly over the companies, written in bulk.

    A thousand rows at a time: the worker is forked from this process, and whatever this
    process holds would count in the worker's peak RSS.
    """
    cards = {c.company_id: c for c in Card.objects.filter(company_id__in=company_ids)}
    categories = {
        c.company_id: c for c in ExpenseCategory.objects.filter(company_id__in=company_ids)
    }
    today = date.today()
    for start in range(0, total, CREATE_BATCH):
        rows = []
        for i in range(start, min(start + CREATE_BATCH, total)):
            company_id = company_ids[i % len(company_ids)]
            card = cards[company_id]
            rows.append(
                Transaction(
                    company_id=company_id,
                    kind=Transaction.Kind.EXPENSE,
                    expense_type=Transaction.ExpenseType.PAYMENT,
                    card=card,
                    category=categories[company_id],
                    currency=card.currency,
                    issue_date=today,
                    merchant_name=f"Bench merchant {i % 97}",
                    net_amount=Decimal(10 + i % 90) + Decimal("0.50"),
                    tax_amount=Decimal("0"),
                    status=Transaction.Status.READY,
                )
            )
        Transaction.objects.bulk_create(rows)
    connections.close_all()


# --- The worker -----------------------------------------------------------------------------------


@dataclass
class RunPlan:
    company_ids: list[int]
    batch_size: int
    webhooks: bool
    threads: int
    poll_delay: float
    max_seconds: float
    codat_url: str


@dataclass
class RunResult:
    wall: float = 0.0
    requests: dict = field(default_factory=dict)
    peak_rss_kb: int = 0
    errors: list = field(default_factory=list)
    events_processed: int = 0
    sandbox_requests: int = 0
    # Filled in from the database after the run.
    statuses: dict = field(default_factory=dict)
    by_webhook: int = 0
    by_poll: int = 0
    refused: int = 0
    syncs: int = 0
    events: int = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def transactions(self) -> int:
        return sum(self.statuses.values())

    @property
    def unfinished(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in IN_FLIGHT)

    @property
    def per_second(self) -> float:
        return self.transactions / self.wall if self.wall else 0.0

    def measure(self, company_ids, since: datetime, first_sync: int, first_event: int) -> None:
        rows = Transaction.objects.filter(company_id__in=company_ids, created_at__gte=since)
        self.statuses = dict(
            rows.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        syncs = Sync.objects.filter(company_id__in=company_ids, pk__gt=first_sync)
        finished = syncs.filter(completed_at__isnull=False)
        # Polling closes a sync in the same write that stamps the poll; a webhook does not poll.
        self.by_poll = finished.filter(last_polled_at=F("completed_at")).count()
        self.by_webhook = finished.count() - self.by_poll
        self.refused = syncs.filter(send_state=Sync.SendState.REJECTED).count()
        self.syncs = syncs.count()
        self.events = WebhookEvent.objects.filter(
            pk__gt=first_event, event_type__in=SYNC_EVENTS
        ).count()

    def report(self, label: str, asked: int) -> str:
        per_thousand = 1000 * self.total_requests / max(self.transactions, 1)
        lines = [
            f"--- {label}",
            f"transactions: {self.transactions} of {asked}; final states: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())),
            f"wall time: {self.wall:.1f} s",
            f"throughput: {self.per_second:.1f} transactions/s",
            f"Codat requests: {self.total_requests} ({per_thousand:.1f} per 1,000 transactions; "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.requests.items()))
            + f"); the sandbox counted {self.sandbox_requests}",
            f"syncs: {self.syncs}, finished by webhook {self.by_webhook}, by polling "
            f"{self.by_poll}, refused {self.refused}; webhook events received {self.events}, "
            f"processed by the worker {self.events_processed}",
            f"worker peak RSS: {self.peak_rss_kb / 1024:.0f} MB",
        ]
        if self.errors:
            lines.append(f"worker errors ({len(self.errors)}), first: {self.errors[0]}")
        return "\n".join(lines)


def run_worker(plan: RunPlan) -> RunResult:
    """Run the plan in a forked process, so its peak RSS is the worker's alone."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_worker_main, args=(plan, sender), daemon=True)
    process.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        process.join()
        raise CommandError(f"the worker died (exit code {process.exitcode})") from None
    process.join()
    return result


def _worker_main(plan: RunPlan, pipe) -> None:
    result = RunResult()
    try:
        # Production runs without DEBUG; with it Django keeps every query of every thread.
        settings.DEBUG = False
        settings.SYNC_POLL_DELAY_SECONDS = plan.poll_delay
        settings.SYNC_POLL_MAX_SECONDS = max(plan.poll_delay * 4, 10)
        requests = _count_requests(plan.codat_url)
        Worker(plan, result).run()
        result.requests = dict(requests)
    except Exception:
        result.errors.append(traceback.format_exc())
    result.peak_rss_kb = _peak_rss_kb()
    pipe.send(result)
    pipe.close()


def _count_requests(codat_url: str) -> Counter:
    """Count every request this process sends to Codat, by kind.

    The worker is a throwaway process, so wrapping httpx's one send method is the seam that
    sees every Codat client the services build, whatever they pass it.
    """
    counts: Counter = Counter()
    lock = threading.Lock()
    original = httpx.Client.send

    def send(self, request, **kwargs):
        if str(request.url).startswith(codat_url):
            path = request.url.path
            kind = next((name for name, route in ROUTES if route.search(path)), "other")
            with lock:
                counts[f"{request.method} {kind}"] += 1
        return original(self, request, **kwargs)

    httpx.Client.send = send
    return counts


def _peak_rss_kb() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Worker:
    """The pipeline's tasks, run on a thread pool as beat and a Celery worker would run them.

    Each job is keyed (push a company, follow a sync, ...) and never queued twice at once; the
    services claim their rows, so the keys only save work, they do not make it safe.
    """

    def __init__(self, plan: RunPlan, result: RunResult):
        self.plan = plan
        self.result = result
        self.pool = ThreadPoolExecutor(max_workers=plan.threads)
        self.lock = threading.Lock()
        self.busy: set = set()
        self.push_not_before: dict[int, float] = {}
        self.process_event = None
        if plan.webhooks:
            self.process_event = importlib.import_module("integrations.syncs.events").process_event

    def run(self) -> None:
        plan = self.plan
        started = time.perf_counter()
        try:
            for company_id in plan.company_ids:
                self.submit(("push", company_id), self.preflight_and_push, company_id)
            while time.perf_counter() - started < plan.max_seconds:
                if self.loop_once():
                    break
                time.sleep(TICK_SECONDS)
        finally:
            self.pool.shutdown(wait=True)
            self.result.wall = time.perf_counter() - started

    def loop_once(self) -> bool:
        """One look at the database; True once nothing is in flight and no job is running."""
        ids = self.plan.company_ids
        now = time.monotonic()
        queued = (
            Transaction.objects.filter(company_id__in=ids, status=Transaction.Status.QUEUED)
            .values_list("company_id", flat=True)
            .distinct()
        )
        for company_id in queued:
            if self.push_not_before.get(company_id, 0) <= now:
                self.submit(("push", company_id), self.push, company_id)
        if self.process_event is not None:
            events = WebhookEvent.objects.filter(
                processed_at__isnull=True, event_type__in=SYNC_EVENTS
            ).values_list("pk", flat=True)
            for pk in events[:500]:
                self.submit(("event", pk), self.event, pk)
        for pk in follow.due_syncs().filter(company_id__in=ids).values_list("pk", flat=True)[:500]:
            self.submit(("follow", pk), self.follow, pk)
        for pk in push.unsent_syncs().filter(company_id__in=ids).values_list("pk", flat=True):
            self.submit(("resume", pk), push.resume_sync, pk)
        with self.lock:
            idle = not self.busy
        in_flight = Transaction.objects.filter(company_id__in=ids, status__in=IN_FLIGHT).exists()
        return idle and not in_flight

    def submit(self, key, function, *args) -> None:
        with self.lock:
            if key in self.busy:
                return
            self.busy.add(key)
        self.pool.submit(self._call, key, function, *args)

    def _call(self, key, function, *args) -> None:
        try:
            function(*args)
        except Exception as exc:  # a task failing is reported, as Celery would log it
            with self.lock:
                self.result.errors.append(f"{key}: {exc!r}")
        finally:
            close_old_connections()
            with self.lock:
                self.busy.discard(key)

    def preflight_and_push(self, company_id: int) -> None:
        preflight.preflight_company(company_id)
        self.push(company_id)

    def push(self, company_id: int) -> None:
        outcome = push.push_company(company_id, batch_size=self.plan.batch_size)
        if outcome.retry_after is not None:
            self.push_not_before[company_id] = time.monotonic() + outcome.retry_after

    def follow(self, sync_id: int) -> None:
        # A failed read is retried by the next look, after the backoff follow_sync stored.
        with contextlib.suppress(CodatError):
            follow.follow_sync(sync_id)

    def event(self, event_id: int) -> None:
        # The registered handler only queues the Codat reads (syncs.follow_sync_event); with no
        # broker here, this worker runs that task's service itself, as a Celery worker would.
        self.process_event(event_id)
        follow.handle_sync_event(event_id)
        with self.lock:
            self.result.events_processed += 1
