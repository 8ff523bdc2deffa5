"""A large, realistic data set for measuring the staff pages and the admin at scale.

`seed_demo --companies 10000 --transactions 1000000` calls `seed()`. Every row is made here as a
plain dict of column values with its primary key chosen up front, so the rows of one chunk of
companies can be written table by table: with PostgreSQL's COPY (psycopg 3 `cursor.copy`) on
PostgreSQL, with bulk_create elsewhere (the tests' SQLite). The story each company tells is
consistent: transactions in the ledger were carried by a successful sync and have a Completed
item; failed ones by a failed sync whose Codat message clusters with other customers'; syncing
ones by a sync still open; a company that lost its ledger connection has work waiting on it.

The random generator is seeded, so the same flags give the same data.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models
from django.db import transaction as db_transaction
from django.utils import timezone

from integrations.companies.models import AuditEvent, Company, Connection, Membership
from integrations.ledger.models import (
    BankAccount,
    Card,
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    ExpenseCategory,
    LedgerAccount,
    Supplier,
    TaxRate,
)
from integrations.syncs.models import Sync, SyncTransaction, WebhookEvent, WriteOperation
from integrations.transactions.models import Receipt, Transaction

# Company names are "<Word> <Word> <Suffix> <number>": readable in lists, unique, searchable.
NAME_WORDS = [
    "Acme",
    "Apex",
    "Birch",
    "Blue",
    "Cedar",
    "Copper",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Oak",
    "Orbit",
    "Pine",
    "Quartz",
    "Raven",
    "Sable",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Zephyr",
]
NAME_KINDS = [
    "Coffee",
    "Bakery",
    "Design",
    "Studio",
    "Logistics",
    "Dental",
    "Outdoor",
    "Robotics",
    "Media",
    "Analytics",
    "Builders",
    "Consulting",
    "Foods",
    "Freight",
    "Labs",
    "Legal",
    "Motors",
    "Optics",
    "Pharma",
    "Print",
    "Retail",
    "Systems",
    "Travel",
]
NAME_SUFFIXES = ("Ltd", "Inc", "LLC", "GmbH", "Pty Ltd", "Co")

# Codat's platforms, weighted roughly by how common they are among small businesses.
PLATFORMS = [
    # key, name, base currency, weight
    ("qhyg", "QuickBooks Online", "USD", 34),
    ("gbol", "Xero", "GBP", 30),
    ("akxx", "Oracle NetSuite", "USD", 8),
    ("knfz", "Sage Intacct", "USD", 7),
    ("pqsw", "QuickBooks Desktop", "USD", 5),
    ("trji", "Dynamics 365 Business Central", "EUR", 6),
    ("fbrh", "FreeAgent", "GBP", 5),
    ("rwuv", "Zoho Books", "AUD", 5),
]

# What each company's story is; the staff triage list should show all of these.
STATES = [
    ("healthy", 70),
    ("failing", 11),
    ("syncing", 5),
    ("stuck", 1),
    ("needs_auth", 6),
    ("never_synced", 3),
    ("not_connected", 4),
]

MERCHANTS = [
    "Uber",
    "Lyft",
    "Delta",
    "United",
    "Hilton",
    "Marriott",
    "Pret",
    "Starbucks",
    "Amazon",
    "Staples",
    "Figma",
    "Slack",
    "Zoom",
    "Atlassian",
    "Shell",
    "BP",
    "Chevron",
    "Hertz",
    "Avis",
    "Airbnb",
    "Trainline",
    "Deliveroo",
    "WeWork",
    "Adobe",
    "Dropbox",
]

CATEGORIES = [
    # code, name, account name, nominal code
    ("TRAVEL", "Travel", "Travel and subsistence", "7400"),
    ("MEALS", "Meals and entertainment", "Entertainment", "7600"),
    ("SOFTWARE", "Software subscriptions", "Computer software", "7700"),
]

VALID_FOR = [
    "expense-transactions.Payment",
    "expense-transactions.Refund",
    "reimbursable-expense-transactions",
]

# Codat failures that recur across customers; ids, numbers and names differ every time, which
# is what the error clusters normalise away. (status code, item status, template, weight)
FAILURES = [
    (5130, "PushError", "Account {n} is archived or deleted in {platform}.", 30),
    (5130, "ValidationError", "Tax rate '{code}' is not valid for account {n}.", 18),
    (5120, "PushError", "Supplier with id {uuid} could not be found.", 12),
    (
        4000,
        "ValidationError",
        "Bank account {uuid} has currency {ccy}, which does not match the transaction ({ccy2}).",
        10,
    ),
    (5130, "PushError", "Issue date {date} is before the ledger lock date {date2}.", 10),
    (5130, "PushError", "Duplicate document number {n}: a bill with this number exists.", 8),
    (5000, "PushError", "Internal error while processing request {hex}. Try again later.", 7),
    (5130, "PushError", "Tracking category {n} is inactive.", 5),
]
CURRENCIES = ["USD", "GBP", "EUR", "AUD", "CAD"]

# Preferred COPY/INSERT chunk: companies whose rows are written (and committed) together.
CHUNK_COMPANIES = 250
SYNC_EVENTS = ("expenses.sync.successful", "expenses.sync.unsuccessful")


@dataclass
class Stats:
    counts: dict = field(default_factory=lambda: defaultdict(int))
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        parts = ", ".join(f"{n:,} {label}" for label, n in self.counts.items())
        return f"{parts} in {time.monotonic() - self.started:.0f} s"


class Writer:
    """Buffers rows per model and writes them: COPY on PostgreSQL, bulk_create otherwise."""

    # Parents before children, so bulk_create (no deferred constraints on SQLite) never
    # inserts a row before the row it points at.
    ORDER = [
        get_user_model(),
        Company,
        Membership,
        Connection,
        LedgerAccount,
        TaxRate,
        BankAccount,
        Supplier,
        CompanyInfo,
        ExpenseCategory,
        CategoryMapping,
        Card,
        CardMapping,
        CompanyConfiguration,
        Transaction,
        Sync,
        SyncTransaction,
        Receipt,
        WebhookEvent,
        WriteOperation,
        AuditEvent,
    ]

    def __init__(self, stats: Stats):
        self.rows: dict = defaultdict(list)
        self.stats = stats
        self.copy = connection.vendor == "postgresql"
        self._columns = {}

    def add(self, model, **values) -> None:
        self.rows[model].append(values)

    def columns(self, model):
        """(attname, column, is_json, default) for each concrete column of `model`."""
        if model not in self._columns:
            spec = []
            for f in model._meta.concrete_fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    default = timezone.now
                elif f.has_default():
                    default = f.default
                elif f.null:
                    default = None
                elif isinstance(f, models.CharField | models.TextField):
                    default = ""
                else:
                    default = None
                spec.append((f.attname, f.column, isinstance(f, models.JSONField), default))
            self._columns[model] = spec
        return self._columns[model]

    def flush(self) -> None:
        with db_transaction.atomic():
            if self.copy:
                self._skip_fk_triggers()
            for model in self.ORDER:
                rows = self.rows.pop(model, [])
                if rows:
                    (self._copy if self.copy else self._bulk_create)(model, rows)
                    self.stats.counts[str(model._meta.verbose_name_plural)] += len(rows)
        assert not self.rows, f"models missing from Writer.ORDER: {list(self.rows)}"

    def _skip_fk_triggers(self) -> None:
        """Skip PostgreSQL's per-row foreign-key checks for this chunk, where allowed.

        The generator gives every row a parent it made itself (the tests' SQLite run, which
        checks every key, shows it), and the deferred checks of a million rows cost more than
        writing them. Needs a superuser; anyone else simply gets the checks.
        """
        try:
            with db_transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pass

    def _values(self, model, row):
        for attname, _column, is_json, default in self.columns(model):
            if attname not in row:
                yield attname, default() if callable(default) else default, is_json
            else:
                yield attname, row[attname], is_json

    def _bulk_create(self, model, rows) -> None:
        objs = [model(**{a: v for a, v, _ in self._values(model, row)}) for row in rows]
        model.objects.bulk_create(objs, batch_size=500)

    def _copy(self, model, rows) -> None:
        spec = self.columns(model)
        names = ", ".join(connection.ops.quote_name(column) for _, column, _, _ in spec)
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"COPY {table} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(v, cls=DjangoJSONEncoder) if is_json else v
                        for _, v, is_json in self._values(model, row)
                    ]
                )


class Ids:
    """The next free integer primary key of each model (rows carry their ids when written)."""

    def __init__(self):
        self.next = {}

    def __call__(self, model) -> int:
        if model not in self.next:
            top = model.objects.aggregate(top=models.Max("pk"))["top"] or 0
            self.next[model] = top + 1
        value = self.next[model]
        self.next[model] += 1
        return value


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _sizes(rng, companies: int, transactions: int) -> list[int]:
    """Transactions per company: a long tail (a few big spenders, many small ones)."""
    weights = [min(rng.paretovariate(1.3), 60.0) for _ in range(companies)]
    scale = transactions / sum(weights)
    sizes = [int(w * scale) for w in weights]
    short = transactions - sum(sizes)
    for i in rng.sample(range(companies), k=min(short, companies)):
        sizes[i] += 1
    while sum(sizes) < transactions:  # more transactions than companies, rounding left over
        sizes[rng.randrange(companies)] += 1
    return sizes


class Generator:
    def __init__(self, *, seed: int, stats: Stats, now: datetime):
        self.rng = random.Random(seed)  # noqa: S311 - made-up demo data, not secrets
        self.stats = stats
        self.now = now
        self.today = timezone.localdate(now)
        self.ids = Ids()
        self.writer = Writer(stats)
        self.password = make_password("expenses-demo")
        self.failure_weights = [f[3] for f in FAILURES]

    # --- one company ---------------------------------------------------------------------

    def company(self, number: int, size: int) -> None:
        rng, w = self.rng, self.writer
        key, platform, currency, _ = rng.choices(PLATFORMS, [p[3] for p in PLATFORMS])[0]
        state = _weighted(rng, STATES)
        company_id = self.ids(Company)
        created = self.now - timedelta(days=rng.randint(100, 700), minutes=rng.randint(0, 1440))
        name = (
            f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_KINDS)} "
            f"{rng.choice(NAME_SUFFIXES)} {number:05d}"
        )
        w.add(
            Company,
            id=company_id,
            name=name,
            codat_company_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            auto_sync_enabled=True,
            auto_sync_interval_minutes=rng.choice((15, 15, 30, 60)),
            created_at=created,
        )
        user_id = self.ids(get_user_model())
        w.add(
            get_user_model(),
            id=user_id,
            username=f"owner{company_id}",
            email=f"owner{company_id}@example.com",
            password=self.password,
            first_name="Owner",
            last_name=str(company_id),
            is_active=True,
            date_joined=created,
        )
        w.add(
            Membership,
            id=self.ids(Membership),
            user_id=user_id,
            company_id=company_id,
            role=Membership.Role.OWNER,
            created_at=created,
        )
        ctx = {"id": company_id, "key": key, "platform": platform, "currency": currency}
        ctx["user"] = user_id
        if state != "not_connected":
            status = Connection.Status.LINKED
            if state == "needs_auth":
                status = rng.choice(
                    [Connection.Status.DEAUTHORIZED] * 3
                    + [Connection.Status.PENDING_AUTH, Connection.Status.UNLINKED]
                )
            self.connections(ctx, status, created)
            self.ledger(ctx, created)
        self.spend(ctx, state, size, created)
        w.add(
            AuditEvent,
            id=self.ids(AuditEvent),
            actor_id=user_id,
            actor_label=f"owner{company_id}",
            company_id=company_id,
            object_id=str(company_id),
            object_label=name,
            action="company.settings",
            changes={"auto_sync_enabled": {"before": False, "after": True}},
            at=created + timedelta(hours=1),
        )

    def connections(self, ctx, status, created) -> None:
        rng, w = self.rng, self.writer
        linked_at = created + timedelta(hours=rng.randint(1, 48))
        ctx["connection"] = self.ids(Connection)
        w.add(
            Connection,
            id=ctx["connection"],
            company_id=ctx["id"],
            codat_connection_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            platform_key=ctx["key"],
            platform_name=ctx["platform"],
            source_type=Connection.SourceType.ACCOUNTING,
            status=status,
            created_at=linked_at,
            updated_at=linked_at,
        )
        ctx["linked"] = status == Connection.Status.LINKED
        w.add(
            Connection,
            id=self.ids(Connection),
            company_id=ctx["id"],
            codat_connection_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            platform_key="",
            platform_name="",
            source_type=Connection.SourceType.EXPENSE,
            status=Connection.Status.LINKED,
            created_at=linked_at,
            updated_at=linked_at,
        )

    def ledger(self, ctx, created) -> None:
        """A light ledger: what pre-flight and the mapping pages need, a few rows per company."""
        rng, w, cid, ccy = self.rng, self.writer, ctx["id"], ctx["currency"]
        at = created + timedelta(days=1)
        common = {"company_id": cid, "last_refreshed_at": at}
        accounts = []
        for index, (_, _, account_name, code) in enumerate(CATEGORIES):
            pk = self.ids(LedgerAccount)
            accounts.append(pk)
            w.add(
                LedgerAccount,
                id=pk,
                codat_id=str(100 + index),
                name=account_name,
                nominal_code=code,
                account_type=LedgerAccount.Type.EXPENSE,
                currency=ccy,
                valid_for=VALID_FOR,
                **common,
            )
        tax = self.ids(TaxRate)
        w.add(TaxRate, id=tax, codat_id="TAX20", name="Standard 20%", code="TAX20",
              effective_rate=Decimal("20"), total_rate=Decimal("20"), **common)  # fmt: skip
        bank = self.ids(BankAccount)
        w.add(BankAccount, id=bank, codat_id="BANK1", name="Company card account",
              account_type=BankAccount.Type.CREDIT, currency=ccy, nominal_code="2100",
              **common)  # fmt: skip
        supplier = self.ids(Supplier)
        w.add(Supplier, id=supplier, codat_id="SUP1", name="Card spend", currency=ccy, **common)
        w.add(CompanyInfo, id=self.ids(CompanyInfo), company_id=cid, company_name=ctx["platform"],
              legal_name=f"Company {cid}", base_currency=ccy, last_refreshed_at=at)  # fmt: skip
        ctx["categories"] = []
        for index, (code, name, _, _) in enumerate(CATEGORIES):
            category = self.ids(ExpenseCategory)
            ctx["categories"].append(category)
            w.add(ExpenseCategory, id=category, company_id=cid, code=code, name=name,
                  created_at=created)  # fmt: skip
            # One in ten companies left a category unmapped (the triage list counts them).
            if index < 2 or rng.random() > 0.1:
                w.add(CategoryMapping, id=self.ids(CategoryMapping), category_id=category,
                      account_id=accounts[index], tax_rate_id=tax, updated_by_id=ctx["user"],
                      updated_at=at)  # fmt: skip
        card = self.ids(Card)
        ctx["card"] = card
        w.add(Card, id=card, company_id=cid, reference=f"card-{cid}", name="Company card",
              cardholder="Owner", last_four=f"{rng.randint(0, 9999):04d}", currency=ccy,
              created_at=created)  # fmt: skip
        w.add(CardMapping, id=self.ids(CardMapping), card_id=card, bank_account_id=bank,
              updated_by_id=ctx["user"], updated_at=at)  # fmt: skip
        w.add(CompanyConfiguration, id=self.ids(CompanyConfiguration), company_id=cid,
              default_bank_account_id=bank, default_supplier_id=supplier,
              updated_by_id=ctx["user"], updated_at=at)  # fmt: skip
        ctx["supplier"] = supplier
        if rng.random() < 0.1:
            ok = rng.random() < 0.8
            w.add(
                WriteOperation,
                id=self.ids(WriteOperation),
                company_id=cid,
                connection_id=ctx["connection"],
                push_operation_key=uuid.UUID(int=rng.getrandbits(128), version=4),
                data_type=WriteOperation.DataType.SUPPLIERS,
                status=WriteOperation.Status.SUCCESS if ok else WriteOperation.Status.FAILED,
                status_code=200 if ok else 400,
                record_id=f"SUP{rng.randint(2, 999)}" if ok else "",
                error_message="" if ok else "Supplier name already exists in the ledger.",
                requested_at=at,
                completed_at=at + timedelta(seconds=20),
            )

    # --- its spend, syncs, receipts and webhooks --------------------------------------------

    def spend(self, ctx, state, size, created) -> None:
        rng = self.rng
        if not size:
            return
        # Spend over the last 90 days, oldest first.
        offsets = sorted((rng.random() * 90 for _ in range(size)), reverse=True)
        txns = [self.transaction(ctx, self.now - timedelta(days=d)) for d in offsets]
        connected = "connection" in ctx
        # The newest few are waiting: drafts, ready ones, ones needing attention.
        waiting = min(len(txns), rng.randint(0, 4) + len(txns) // 40)
        if state in ("never_synced", "not_connected"):
            waiting = len(txns)
        synced, waiting_rows = txns[: len(txns) - waiting], txns[len(txns) - waiting :]
        tail_state = {"failing": "failed", "syncing": "open", "stuck": "stuck"}.get(state)
        if state == "needs_auth" and synced:
            tail_state = "failed_auth" if rng.random() < 0.5 else None
        self.history(ctx, synced, tail_state)
        for txn in waiting_rows:
            if not connected or (state == "needs_auth"):
                if rng.random() < 0.5:
                    self.attention(txn, Transaction.AttentionCode.CONNECTION_NOT_LINKED,
                                   "Reconnect your accounting software.", "connection")  # fmt: skip
                else:
                    txn["status"] = Transaction.Status.DRAFT
            else:
                roll = rng.random()
                if roll < 0.35:
                    txn["status"] = Transaction.Status.READY
                elif roll < 0.6:
                    txn["status"] = Transaction.Status.DRAFT
                elif roll < 0.97:
                    self.attention(txn, Transaction.AttentionCode.NO_CATEGORY,
                                   "Choose an expense category.", "transaction")  # fmt: skip
                    txn["category_id"] = None
                else:
                    txn["status"] = Transaction.Status.HANDLED
                    txn["handled_reason"] = "Entered in the ledger by hand by support."
        for txn in txns:
            self.writer.add(Transaction, **txn)

    def transaction(self, ctx, when: datetime) -> dict:
        rng = self.rng
        reimbursable = rng.random() < 0.12 and "supplier" in ctx
        net = Decimal(rng.randint(300, 150000)) / 100
        tax = (net * Decimal("0.2")).quantize(Decimal("0.01")) if rng.random() < 0.6 else 0
        categories = ctx.get("categories")
        return {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "company_id": ctx["id"],
            "kind": Transaction.Kind.REIMBURSABLE if reimbursable else Transaction.Kind.EXPENSE,
            "expense_type": "" if reimbursable else Transaction.ExpenseType.PAYMENT,
            "card_id": None if reimbursable else ctx.get("card"),
            "category_id": rng.choice(categories) if categories else None,
            "supplier_id": ctx.get("supplier") if reimbursable else None,
            "merchant_name": rng.choice(MERCHANTS),
            "reference": f"R{rng.randint(10000, 99999)}",
            "issue_date": when.date(),
            "currency": ctx["currency"],
            "net_amount": net,
            "tax_amount": tax,
            "status": Transaction.Status.COMPLETED,
            "status_changed_at": when,
            "created_at": when,
            "updated_at": when,
        }

    def attention(self, txn, code, reason, screen) -> None:
        txn.update(
            status=Transaction.Status.NEEDS_ATTENTION,
            attention_code=code,
            needs_attention_reason=reason,
            attention_screen=screen,
        )

    def failure_message(self, ctx, template: str) -> str:
        rng = self.rng
        ccy2 = rng.choice([c for c in CURRENCIES if c != ctx["currency"]])
        return template.format(
            n=rng.randint(100, 99999),
            platform=ctx["platform"],
            code=f"TX{rng.randint(1, 99)}",
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            ccy=ctx["currency"],
            ccy2=ccy2,
            date=(self.today - timedelta(days=rng.randint(30, 400))).isoformat(),
            date2=(self.today - timedelta(days=rng.randint(1, 29))).isoformat(),
            hex=f"{rng.getrandbits(64):016x}",
        )

    def history(self, ctx, txns: list, tail_state: str | None) -> None:
        """Syncs carrying `txns` in order; most succeed, a few fail (some retried later).

        `tail_state` decides the company's latest sync: failed, open, stuck (1010), failed
        because the connection was lost, or (None) an ordinary one.
        """
        rng = self.rng
        pending = list(txns)
        retry: list = []
        while pending or retry:
            batch = retry + pending[: max(0, rng.randint(5, 50) - len(retry))]
            pending = pending[len(batch) - len(retry) :]
            retry = []
            last = not pending
            outcome = "ok"
            if last and tail_state:
                outcome = tail_state
            elif rng.random() < 0.04:
                outcome = "failed"
            failed_rows = self.sync(ctx, batch, outcome)
            if outcome == "failed" and not last:
                # Most failures were fixed and sent again with the next batch.
                retry = [t for t in failed_rows if rng.random() < 0.7][:20]

    def sync(self, ctx, batch: list, outcome: str) -> list:
        rng, w = self.rng, self.writer
        requested = max(t["created_at"] for t in batch) + timedelta(minutes=rng.randint(5, 240))
        requested = min(requested, self.now - timedelta(minutes=rng.randint(1, 20)))
        if outcome == "stuck":
            requested = self.now - timedelta(hours=rng.randint(1, 6))
        sync_id = self.ids(Sync)
        codat_sync_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        open_ = outcome in ("open", "stuck")
        done = requested + timedelta(seconds=rng.randint(20, 400))
        failed_rows = []
        items = []
        code = None
        message = ""
        if outcome == "failed" or outcome == "failed_auth":
            if outcome == "failed_auth":
                code, item_status, template = 4220, "PushError", "Company {uuid} is deauthorised."
            else:
                code, item_status, template, _ = rng.choices(FAILURES, self.failure_weights)[0]
            message = self.failure_message(ctx, template)
            # Usually the whole batch fails for one cause; sometimes only part of it.
            failing = batch if rng.random() < 0.7 else batch[: max(1, len(batch) // 3)]
            failing_ids = {t["id"] for t in failing}
            for txn in batch:
                if txn["id"] in failing_ids:
                    # Each row's message differs in its ids; the pattern is the same.
                    row_message = self.failure_message(ctx, template)
                    items.append((txn, item_status, row_message, ""))
                    txn.update(
                        status=Transaction.Status.FAILED,
                        status_changed_at=done,
                        attention_code=Transaction.AttentionCode.REJECTED_BY_LEDGER,
                        needs_attention_reason=row_message,
                        attention_screen=Transaction.Screen.LEDGER,
                        ledger_record_id="",
                    )
                    failed_rows.append(txn)
                else:
                    items.append((txn, "Completed", "", self.completed(txn, done)))
        elif open_:
            code = 1010 if outcome == "stuck" else 1000
            for txn in batch:
                items.append((txn, "Pending", "", ""))
                txn.update(status=Transaction.Status.SYNCING, status_changed_at=requested)
        else:
            code = 2000
            for txn in batch:
                items.append((txn, "Completed", "", self.completed(txn, done)))
        completed = sum(1 for i in items if i[1] == "Completed")
        failed = sum(1 for i in items if i[1] in ("PushError", "ValidationError"))
        w.add(
            Sync,
            id=sync_id,
            company_id=ctx["id"],
            codat_sync_id=codat_sync_id,
            kind=Sync.Kind.REIMBURSABLE
            if batch[0]["kind"] == Transaction.Kind.REIMBURSABLE
            else Sync.Kind.EXPENSE,
            status_code=code,
            status_text={1000: "InProgress", 1010: "InProgress", 2000: "Success"}.get(
                code, "Failed"
            ),
            error_message=message,
            data_pushed=completed > 0,
            total_count=len(batch),
            completed_count=completed,
            failed_count=failed,
            requested_at=requested,
            completed_at=None if open_ else done,
            last_polled_at=self.now - timedelta(minutes=2) if open_ else done,
            send_state=Sync.SendState.ACCEPTED,
            attempts=rng.randint(1, 8) if open_ else 1,
            next_attempt_at=self.now + timedelta(minutes=5) if open_ else None,
        )
        for txn, status, text, record in items:
            w.add(
                SyncTransaction,
                id=self.ids(SyncTransaction),
                sync_id=sync_id,
                transaction_id=txn["id"],
                status=status,
                message=text,
                ledger_record_id=record,
                updated_at=requested if open_ else done,
            )
        if not open_:
            event = SYNC_EVENTS[0] if code == 2000 else SYNC_EVENTS[1]
            received = done + timedelta(seconds=rng.randint(1, 30))
            w.add(
                WebhookEvent,
                id=self.ids(WebhookEvent),
                webhook_id=f"msg_{rng.getrandbits(96):024x}",
                event_type=event,
                company_id=ctx["id"],
                payload={
                    "eventType": event,
                    "generatedDate": done.isoformat(),
                    "payload": {"syncId": str(codat_sync_id), "transactions": len(items)},
                },
                generated_at=done,
                received_at=received,
                outcome=WebhookEvent.Outcome.PROCESSED,
                attempts=1,
                queued_at=received,
                claimed_at=received,
                processed_at=received + timedelta(seconds=1),
            )
        return failed_rows

    def completed(self, txn: dict, done: datetime) -> str:
        """Mark `txn` in the ledger, maybe with a receipt; returns its ledger record id."""
        rng = self.rng
        record = str(rng.randint(1000, 9999999))
        txn.update(
            status=Transaction.Status.COMPLETED,
            status_changed_at=done,
            ledger_record_id=record,
            attention_code="",
            needs_attention_reason="",
            attention_screen="",
        )
        if rng.random() < 0.6:
            self.receipt(txn, done)
        return record

    def receipt(self, txn: dict, done: datetime) -> None:
        rng = self.rng
        roll = rng.random()
        status, error, attachment = Receipt.UploadStatus.UPLOADED, "", ""
        if roll < 0.05:
            status, error = Receipt.UploadStatus.FAILED, "Codat did not answer in time (5 tries)."
        elif roll < 0.08:
            status = Receipt.UploadStatus.REJECTED
            error = f"File too large for the ledger: {rng.randint(11, 40)} MB (limit 10 MB)."
        elif roll < 0.1:
            status = Receipt.UploadStatus.PENDING
        if status == Receipt.UploadStatus.UPLOADED:
            attachment = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        pdf = rng.random() < 0.5
        self.writer.add(
            Receipt,
            id=self.ids(Receipt),
            transaction_id=txn["id"],
            file=f"receipts/{txn['company_id']}/{txn['id']}/{rng.getrandbits(64):016x}"
            + (".pdf" if pdf else ".jpg"),
            original_filename=f"receipt-{rng.randint(1, 9999)}" + (".pdf" if pdf else ".jpg"),
            size=rng.randint(20_000, 3_000_000),
            content_type="application/pdf" if pdf else "image/jpeg",
            upload_status=status,
            codat_attachment_id=attachment,
            error=error,
            attempts=0 if status == Receipt.UploadStatus.PENDING else 1,
            idempotency_key=uuid.UUID(int=rng.getrandbits(128), version=4),
            created_at=done - timedelta(minutes=rng.randint(1, 600)),
            uploaded_at=done + timedelta(minutes=1) if attachment else None,
        )


def seed(*, companies: int, transactions: int, seed: int = 10, stdout=None) -> Stats:
    """Add `companies` companies holding `transactions` transactions in all, with their story."""
    stats = Stats()
    generator = Generator(seed=seed, stats=stats, now=timezone.now())
    first = Company.objects.count() + 1
    sizes = _sizes(generator.rng, companies, transactions)
    for start in range(0, companies, CHUNK_COMPANIES):
        for index in range(start, min(start + CHUNK_COMPANIES, companies)):
            generator.company(first + index, sizes[index])
        generator.writer.flush()
        if stdout is not None:
            done = min(start + CHUNK_COMPANIES, companies)
            stdout.write(f"  {done:,}/{companies:,} companies: {stats.line()}")
    if connection.vendor == "postgresql":
        # Rows came with their ids, so the identity sequences must be moved past them; fresh
        # statistics let the planner (and the admin's row estimates) see the new size, and the
        # visibility map lets counts read indexes alone (what autovacuum would do, in time).
        sql = connection.ops.sequence_reset_sql(no_style(), Writer.ORDER)
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
            if connection.get_autocommit():
                cursor.execute("VACUUM ANALYZE")
            else:  # inside a test's transaction, where VACUUM cannot run
                cursor.execute("ANALYZE")
    return stats
