"""Real Celery worker processes on Redis for the crash test and the chaos run.

The workers are separate processes, so they must share the database with the test and its
live server: that is PostgreSQL's test database (pytest-django's SQLite test database lives in
this process's memory, where no worker can see it). Each run has a queue of its own, so workers
of other runs sharing the broker never take its tasks, nor it theirs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from codat_sandbox.models import LedgerRecord, SandboxAttachment
from codat_sandbox.models import SyncTransaction as SandboxItem
from expenses_portal.celery import app
from integrations.syncs import tasks
from integrations.syncs.services import preflight
from integrations.transactions.models import Receipt, Transaction
from tests.integration.helpers import API_KEY, tiny_png
from tests.models.factories import make_receipt

from .helpers import linked_portal

ROOT = Path(__file__).resolve().parents[2]
# Set by .ci/run: there a missing Redis is a broken CI machine, not a reason to skip.
REDIS_REQUIRED = os.environ.get("EXPECT_DATABASE_VENDOR") == "postgresql"


def require_workers() -> None:
    """Skip (locally) or fail (in CI) unless worker processes can share this test's world."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: worker processes must share the test database, and "
            "pytest-django's SQLite test database is in this process's memory"
        )
    broker = settings.CELERY_BROKER_URL
    problem = None
    if not broker.startswith(("redis://", "rediss://")):
        problem = f"the Celery broker is {broker.split(':')[0]}, not Redis (set CELERY_BROKER_URL)"
    else:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:
            problem = f"Redis is unreachable at {broker}: {exc}"
    if problem:
        if REDIS_REQUIRED:
            pytest.fail(problem)
        pytest.skip(problem)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class WorkerPool:
    """`size` worker processes (threads pool) consuming this run's queue; any may be killed."""

    sandbox_url: str
    log_dir: Path
    size: int = 2
    threads: int = 4
    settings_env: dict = field(default_factory=dict)
    queue: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")
    processes: list = field(default_factory=list)
    started_at: list = field(default_factory=list)
    kills: int = 0

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            # Short-lived connections: a killed worker's sessions must not linger on the server.
            DATABASE_CONN_MAX_AGE="0",
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CELERY_TASK_DEFAULT_QUEUE=self.queue,
            CODAT_SANDBOX_URL=self.sandbox_url,
            CODAT_BASE_URL=self.sandbox_url,
            CODAT_API_KEY=API_KEY,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            DJANGO_DEBUG="true",
            LOG_LEVEL="WARNING",
        )
        env.update({name: str(value) for name, value in self.settings_env.items()})
        return env

    def _spawn(self, index: int) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{index}.log", "ab")  # noqa: SIM115 (kept by Popen)
        command = [
            *(sys.executable, "-m", "celery", "-A", "expenses_portal", "worker"),
            *("--pool", "threads", "--concurrency", str(self.threads)),
            *("--queues", self.queue, "--hostname", f"{self.queue}-{index}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("--loglevel", "WARNING"),
        ]
        # Its own session, so a signal meant for the test run never reaches it, nor the reverse.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return process

    def start(self) -> None:
        for index in range(self.size):
            self.processes.append(self._spawn(index))
            self.started_at.append(time.monotonic())

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random worker (at whatever line it is on) and start a fresh one."""
        index = rng.randrange(len(self.processes))
        process = self.processes[index]
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1
        self.processes[index] = self._spawn(index)
        self.started_at[index] = time.monotonic()

    def youngest_age(self) -> float:
        return time.monotonic() - max(self.started_at)

    def send(self, task, *args) -> None:
        task.apply_async(args=args, queue=self.queue)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait()
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("worker-*.log"))
        )


def outstanding() -> dict:
    """What is not finished yet: transactions not in a final state, receipts not uploaded."""
    final = (Transaction.Status.COMPLETED, Transaction.Status.FAILED)
    return {
        "transactions": Transaction.objects.exclude(status__in=final).count(),
        "receipts": Receipt.objects.exclude(
            upload_status__in=(
                Receipt.UploadStatus.UPLOADED,
                Receipt.UploadStatus.FAILED,
                Receipt.UploadStatus.REJECTED,
            )
        ).count(),
    }


def stuck_report() -> list:
    """Where each unfinished transaction stands, and the syncs that carry it: what a failed run
    shows, so a hang can be diagnosed from the test's output alone."""
    from integrations.syncs.models import Sync

    final = (Transaction.Status.COMPLETED, Transaction.Status.FAILED)
    stuck = Transaction.objects.exclude(status__in=final)
    report = [dict(Counter(stuck.values_list("company_id", "status")))]
    syncs = Sync.objects.filter(items__transaction__in=stuck).distinct()
    report += list(
        syncs.values(
            "pk",
            "company_id",
            "send_state",
            "codat_sync_id",
            "status_code",
            "attempts",
            "last_error",
            "next_attempt_at",
            "claimed_at",
            "completed_at",
        )
    )
    return report


def act_as_beat(pool: WorkerPool, last: float, every: float = 1.0) -> float:
    """Send the poller the way beat would; returns when it last did.

    Beat's real interval is far longer than one pass takes. Sending every `every` seconds only
    when the queue is empty keeps that shape at test speed: passes never pile up in front of
    the tasks they hand work to.
    """
    now = time.monotonic()
    if now - last < every:
        return last
    with app.connection_for_write() as conn:
        backlog = conn.default_channel.client.llen(pool.queue)
    if backlog:
        return last
    pool.send(tasks.poll_syncs)
    return now


# --- The workload and the oracle -----------------------------------------------------------------


def spend_with_receipts(codat, companies: int, per_company: int, receipt_every: int) -> list:
    """Linked companies with ready card spend, every `receipt_every`-th with a receipt, all
    through pre-flight: what is left is the push, for the workers."""
    rows = []
    png = tiny_png()
    for _ in range(companies):
        portal = linked_portal(codat)
        for n in range(per_company):
            txn = portal.expense(net_amount=f"{10 + n}.00", merchant_name=f"Merchant {n}")
            if n % receipt_every == 0:
                make_receipt(
                    txn,
                    file=SimpleUploadedFile("receipt.png", png, "image/png"),
                    original_filename="receipt.png",
                    size=len(png),
                    content_type="image/png",
                )
            rows.append(txn)
        assert preflight.preflight_company(portal.company.pk).queued == per_company
    return rows


def assert_each_once_in_the_ledger(rows: list) -> None:
    """Every transaction synced, in the sandbox's ledger exactly once, receipts attached once.

    The sandbox's own tables are the oracle: what the accounting software holds.
    """
    ids = {str(txn.pk) for txn in rows}
    # Whatever record type the platform books an expense as, it names the transaction.
    written = Counter(
        data.get("transactionId") for data in LedgerRecord.objects.values_list("data", flat=True)
    )
    not_once = {txn_id: written[txn_id] for txn_id in ids if written[txn_id] != 1}
    assert not_once == {}, f"ledger records per transaction: {not_once}"
    completed = Counter(
        SandboxItem.objects.filter(status=SandboxItem.Status.COMPLETED).values_list(
            "transaction_id", flat=True
        )
    )
    not_once = {txn_id: completed[txn_id] for txn_id in ids if completed[txn_id] != 1}
    assert not_once == {}, f"completed sync items per transaction: {not_once}"
    statuses = Counter(Transaction.objects.values_list("status", flat=True))
    assert statuses == {Transaction.Status.COMPLETED: len(rows)}, statuses
    with_receipts = set(Receipt.objects.values_list("transaction_id", flat=True))
    attached = Counter(
        SandboxAttachment.objects.values_list("transaction__transaction_id", flat=True)
    )
    twice = {txn_id: n for txn_id, n in attached.items() if n != 1}
    assert twice == {}, f"receipts attached more than once: {twice}"
    uploads = Counter(Receipt.objects.values_list("upload_status", flat=True))
    not_uploaded = Receipt.objects.exclude(upload_status=Receipt.UploadStatus.UPLOADED)
    assert uploads == {Receipt.UploadStatus.UPLOADED: len(with_receipts)}, (
        uploads,
        list(not_uploaded.values("upload_status", "attempts", "error")[:5]),
    )
    missing = {str(pk) for pk in with_receipts} - set(attached)
    assert not missing, f"uploaded receipts the sandbox does not hold: {missing}"
