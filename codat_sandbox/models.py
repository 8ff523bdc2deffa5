"""The sandbox's own tables. Nothing here is shared with the portal; names carry a Sandbox prefix
so the admin and the database never confuse them with the portal's Company or Connection."""

import datetime
import uuid

from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from . import locks
from .jsonutil import CodatJSONEncoder, DecimalJSONDecoder


def JSON(**kwargs):
    return models.JSONField(encoder=CodatJSONEncoder, decoder=DecimalJSONDecoder, **kwargs)


class SandboxCompany(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tags = JSON(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_sync = models.DateTimeField(null=True, blank=True)
    # The Expenses company configuration (bankAccount/supplier/customer), None until it is set.
    expense_config = JSON(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = "company"
        verbose_name_plural = "companies"

    def __str__(self):
        return self.name

    def accounting_connection(self):
        return self.connections.filter(source_type=SandboxConnection.SourceType.ACCOUNTING).first()


class SandboxConnection(models.Model):
    class Status(models.TextChoices):
        PENDING_AUTH = "PendingAuth"
        LINKED = "Linked"
        UNLINKED = "Unlinked"
        DEAUTHORIZED = "Deauthorized"

    class SourceType(models.TextChoices):
        ACCOUNTING = "Accounting"
        EXPENSE = "Expense"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="connections"
    )
    platform_key = models.CharField(max_length=4)
    platform_name = models.CharField(max_length=100)
    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    integration_id = models.UUIDField(default=uuid.uuid4)
    source_id = models.UUIDField(default=uuid.uuid4)
    created = models.DateTimeField(default=timezone.now)
    last_sync = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = "connection"
        constraints = [
            # A Codat company has one accounting connection (to change software you create a new
            # company); the database enforces it so two racing creates cannot both win.
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(source_type="Accounting"),
                name="sandbox_one_accounting_connection",
            ),
        ]

    def __str__(self):
        return f"{self.platform_name} ({self.status})"


class LedgerRecord(models.Model):
    """One record in the company's fake accounting software: reference data seeded on link
    (chartOfAccounts, taxRates, ...) and what syncs and push operations wrote (expenses, bills,
    transfers, journals, new suppliers ...). `data` is the record in Codat's camelCase shape."""

    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="ledger")
    data_type = models.CharField(max_length=50)
    record_id = models.CharField(max_length=100)
    data = JSON(default=dict)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "data_type", "record_id"], name="sandbox_ledger_record_unique"
            ),
        ]

    def __str__(self):
        return f"{self.data_type}/{self.record_id}"


class SandboxSync(models.Model):
    class Kind(models.TextChoices):
        EXPENSE = "expense"
        EXPENSE_UPDATE = "expense_update"
        REIMBURSABLE = "reimbursable"
        REIMBURSABLE_UPDATE = "reimbursable_update"
        TRANSFER = "transfer"
        ADJUSTMENT = "adjustment"

    class State(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"

    # The syncStatusCode values the sandbox reports (codat-api.md 4.7).
    class StatusCode(models.IntegerChoices):
        IN_PROGRESS = 1000, "In progress"
        LONG_RUNNING = 1010, "In progress for over 10 minutes"
        SUCCESS = 2000, "Success"
        SUCCESS_NOTHING_WRITTEN = 2040, "Success, nothing written"
        COMPANY_NOT_FOUND = 4040, "Company deleted or de-authorised"
        SERVER_ERROR = 5000, "Codat server error"
        WRITE_ERROR = 5130, "Data write error"

    SUCCESS_CODES = (StatusCode.SUCCESS, StatusCode.SUCCESS_NOTHING_WRITTEN)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="syncs")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    # `choices` labels the codes the sandbox produces; the column takes any code Codat has.
    status_code = models.IntegerField(choices=StatusCode, default=StatusCode.IN_PROGRESS)
    status_text = models.CharField(max_length=50, default="Started")
    error_message = models.TextField(blank=True)
    exception_message = models.TextField(blank=True)
    data_pushed = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = "sync"
        indexes = [
            # advance(): "syncs not done whose due_at has passed".
            models.Index(fields=["state", "due_at"], name="sandbox_sync_due"),
        ]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.status_code})"

    @property
    def succeeded(self) -> bool:
        return self.status_code in self.SUCCESS_CODES


class SyncTransaction(models.Model):
    class Status(models.TextChoices):
        PENDING = "Pending"
        COMPLETED = "Completed"
        VALIDATION_ERROR = "ValidationError"
        PUSH_ERROR = "PushError"

    sync = models.ForeignKey(SandboxSync, on_delete=models.CASCADE, related_name="transactions")
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="sync_transactions"
    )
    transaction_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=30, choices=SandboxSync.Kind.choices)
    payload = JSON(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True)
    record_id = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The duplicate check: "has this company already completed transaction X?"
            models.Index(fields=["company", "transaction_id"], name="sandbox_txn_company_id"),
        ]

    def __str__(self):
        return f"{self.transaction_id} ({self.status})"


class SandboxAttachment(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="attachments"
    )
    transaction = models.ForeignKey(
        SyncTransaction, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created"]
        verbose_name = "attachment"

    def __str__(self):
        return self.filename


class PushOperation(models.Model):
    class Status(models.TextChoices):
        PENDING = "Pending"
        FAILED = "Failed"
        SUCCESS = "Success"
        TIMED_OUT = "TimedOut"

    key = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="push_operations"
    )
    connection_id = models.UUIDField()
    data_type = models.CharField(max_length=50)
    operation = models.CharField(max_length=10, default="Create")  # Create / Update
    record = JSON(default=dict)
    record_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_code = models.IntegerField(default=202)
    error_message = models.TextField(blank=True)
    validation = JSON(null=True, blank=True)
    timeout_in_minutes = models.IntegerField(null=True, blank=True)
    # The update's forceUpdate: write even when the ledger's record changed after the
    # sourceModifiedDate the client sent.
    force_update = models.BooleanField(default=False)
    requested = models.DateTimeField(default=timezone.now)
    completed = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested"]
        indexes = [
            # advance(): "pending push operations whose due_at has passed".
            models.Index(fields=["status", "due_at"], name="sandbox_push_due"),
        ]

    def __str__(self):
        return f"{self.operation} {self.data_type} ({self.status})"


class PullOperation(models.Model):
    # The states of Codat's PullOperation the sandbox goes through: a read completes whole
    # (codat-api.md lists the rest).
    class Status(models.TextChoices):
        QUEUED = "Queued"
        COMPLETE = "Complete"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="pull_operations"
    )
    connection_id = models.UUIDField()
    data_type = models.CharField(max_length=50)
    status = models.CharField(max_length=30, choices=Status, default=Status.QUEUED)
    requested = models.DateTimeField(default=timezone.now)
    completed = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    # The read (Link's initial fetch, or one refresh request) this pull belongs to: its pulls
    # complete together and one read.completed webhook reports them all.
    read_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["requested"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="sandbox_pull_due"),
            # complete_due_pulls(): "the pulls of read X", claimed and reported together.
            models.Index(fields=["read_id"], name="sandbox_pull_read"),
        ]

    def __str__(self):
        return f"{self.data_type} ({self.status})"


# How long a request may run before its in-flight claim on an Idempotency-Key is taken to belong
# to a dead process: 30 s (gunicorn's worker timeout and the portal's client timeout; no client
# still waits after that) plus a few seconds' grace. Injected latency is added on top per request.
MAX_REQUEST_DURATION = datetime.timedelta(seconds=30)
IN_FLIGHT_LEASE = MAX_REQUEST_DURATION + datetime.timedelta(seconds=5)


def _in_flight_lease():
    return timezone.now() + IN_FLIGHT_LEASE


class IdempotencyRecord(models.Model):
    """The first response to an Idempotency-Key, replayed for 90 minutes (Codat's window).

    While the first request runs the row is in flight, owned by that request's token until
    `lease_expires_at`; a claim whose lease ran out belongs to a request that died, so the next
    request with the key takes it over instead of answering 409 for the key's lifetime.
    """

    key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    in_flight = models.BooleanField(default=True)
    owner = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(default=_in_flight_lease)
    status_code = models.IntegerField(null=True, blank=True)
    headers = JSON(default=dict)
    body = models.BinaryField(default=b"")
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self):
        return self.key


class RateUsage(models.Model):
    """Requests counted per UTC day: Codat's quota resets at 00:00 UTC.

    The gateway counts in a file (see limits.count_request) and copies the count here at most
    about once a second per process, so `count` can trail the live figure by that much.
    """

    day = models.DateField(unique=True)
    count = models.IntegerField(default=0)
    # When the day's quota ran out (client.rateLimit.reached was queued), and when the
    # matching client.rateLimit.reset was queued once a later day began.
    reached_at = models.DateTimeField(null=True, blank=True)
    reset_queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.day}: {self.count}"


class WebhookMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company_id = models.UUIDField(null=True, blank=True)
    event_type = models.CharField(max_length=100)
    body = models.TextField()
    attempts = models.IntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created"]
        indexes = [
            # advance(): "undelivered messages whose next attempt is due".
            models.Index(fields=["next_attempt_at"], name="sandbox_webhook_due"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.id}"


# Every sleeping request holds a server thread, so the bounds keep a fault a test rather than an
# outage. A timeout must still outlast the portal's client timeout (CODAT_TIMEOUT_SECONDS, 30 s
# by default) to be one, so it may go to twice that.
FAULT_MAX_ERROR_RATE = 100
FAULT_MAX_LATENCY_MS = 30_000
FAULT_MAX_TIMEOUT_SECONDS = 60


class FaultSettings(models.Model):
    """Fault injection, off by default. The row with no company applies to every company; a
    company's own row, when present, wins over it."""

    company = models.OneToOneField(
        SandboxCompany,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fault_settings",
    )
    error_rate = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(FAULT_MAX_ERROR_RATE, "A percentage cannot exceed 100.")],
        help_text="Percent of API requests answered with a 500 or 503 (0 to 100).",
    )
    latency_ms = models.PositiveIntegerField(
        default=0,
        validators=[
            MaxValueValidator(
                FAULT_MAX_LATENCY_MS, f"Latency is at most {FAULT_MAX_LATENCY_MS} ms (30 seconds)."
            )
        ],
        help_text="Added to every API request (at most 30000 ms).",
    )
    timeout_seconds = models.PositiveIntegerField(
        default=0,
        validators=[
            MaxValueValidator(
                FAULT_MAX_TIMEOUT_SECONDS,
                f"A timeout is at most {FAULT_MAX_TIMEOUT_SECONDS} seconds.",
            )
        ],
        help_text="When set, requests sleep this long before answering (past a client timeout; "
        "at most 60 s).",
    )
    quota_exhausted = models.BooleanField(default=False, help_text="Answer every request 429.")
    long_running_syncs = models.BooleanField(
        default=False, help_text="Syncs stay in progress (1010) instead of finishing."
    )
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "fault settings"
        verbose_name_plural = "fault settings"
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(company__isnull=True),
                name="sandbox_one_global_fault_row",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    error_rate__lte=FAULT_MAX_ERROR_RATE,
                    latency_ms__lte=FAULT_MAX_LATENCY_MS,
                    timeout_seconds__lte=FAULT_MAX_TIMEOUT_SECONDS,
                ),
                name="sandbox_fault_bounds",
            ),
        ]

    def __str__(self):
        return f"Faults for {self.company or 'all companies'}"

    @property
    def any_active(self) -> bool:
        return bool(
            self.error_rate
            or self.latency_ms
            or self.timeout_seconds
            or self.quota_exhausted
            or self.long_running_syncs
        )


def faults_version_counter() -> locks.Counter:
    """Bumped on every FaultSettings change; each process reloads its cached rows on a new value."""
    return locks.counter(locks.state_dir() / "faults-version")


@receiver(post_save, sender=FaultSettings)
@receiver(post_delete, sender=FaultSettings)
def _fault_settings_changed(sender, **kwargs):
    # Now, for this process (and tests, whose transactions never commit), and again once the
    # change is committed, so a process that reloaded in between does not keep the old rows.
    faults_version_counter().add()
    transaction.on_commit(faults_version_counter().add)
