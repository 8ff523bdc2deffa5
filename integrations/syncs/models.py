"""The history of every write to Codat: syncs, their transactions, push operations, webhooks.

Rows are created before or as the work happens and closed with its outcome, so the health
page, the admin and the workers all read state from here rather than from logs or Celery.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from integrations.companies.models import Company, Connection
from integrations.transactions.models import Transaction


class SyncQuerySet(models.QuerySet):
    def open(self):
        """Syncs Codat has not finished: not yet acknowledged, or reporting a 1xxx code.

        A request Codat refused outright never became a sync, so it is not open either.
        """
        return self.filter(Q(status_code__isnull=True) | Q(status_code__lt=2000)).exclude(
            send_state="rejected"
        )

    def finished(self):
        return self.filter(status_code__gte=2000)


class Sync(models.Model):
    """One Codat sync: every expense, reimbursable, adjustment or transfer write starts one."""

    class Kind(models.TextChoices):
        EXPENSE = "expense", "Expense transactions"
        EXPENSE_UPDATE = "expense_update", "Expense update"
        REIMBURSABLE = "reimbursable", "Reimbursable expenses"
        REIMBURSABLE_UPDATE = "reimbursable_update", "Reimbursable update"
        ADJUSTMENT = "adjustment", "Adjustments"
        TRANSFER = "transfer", "Transfer"

    # Codat's syncStatusCode values (codat-api.md 4.7). The leading digit carries the meaning
    # (1 running, 2 done, 4/5 failed), which is how codes not listed here are classified.
    class StatusCode(models.IntegerChoices):
        IN_PROGRESS = 1000, "In progress"
        LONG_RUNNING = 1010, "In progress for over 10 minutes"
        SUCCESS = 2000, "Success"
        SUCCESS_NOTHING_WRITTEN = 2040, "Success, nothing written"
        CONFIGURATION_ERROR = 4000, "Configuration error"
        COMPANY_NOT_FOUND = 4040, "Company deleted or de-authorised"
        COMPANY_DEAUTHORIZED = 4220, "Company deleted or de-authorised"
        BILLING_EXPIRED = 4260, "Accounting software billing expired"
        SERVER_ERROR = 5000, "Codat server error"
        DUPLICATE = 5080, "Duplication protection"
        PROCESSING_ERROR = 5120, "Data processing error"
        WRITE_ERROR = 5130, "Data write error"

    # Where the write request itself stands, apart from the sync Codat runs once it accepted it.
    class SendState(models.TextChoices):
        SENDING = "sending", "Sending"
        # Not sent, or refused before Codat did anything (429, 409 same key in flight):
        # sending again with the same Idempotency-Key is safe.
        RETRY = "retry", "Waiting to send again"
        # A 5xx, a timeout or a crash: Codat may have started the sync. Its syncs are checked
        # for these transactions before anything is sent again.
        UNKNOWN = "unknown", "Outcome unknown"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Refused"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="syncs")
    # Null while the write request is in flight: the row is made first, with the Idempotency-Key
    # the request carries, so a crash between sending and saving the answer can be replayed.
    codat_sync_id = models.UUIDField(unique=True, null=True, blank=True)
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=Kind)
    # `choices` only labels the codes we know; workers store whatever code Codat reports.
    status_code = models.PositiveIntegerField(choices=StatusCode, null=True, blank=True)
    status_text = models.CharField(max_length=64, blank=True, help_text="Codat's syncStatus")
    error_message = models.TextField(blank=True)
    data_pushed = models.BooleanField(default=False)
    total_count = models.PositiveIntegerField(default=0)
    completed_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    send_state = models.CharField(max_length=16, choices=SendState, default=SendState.SENDING)
    # Requests made for this sync beyond the first send: resends and polls, for the backoff.
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the sender or the poller should next look at this sync.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim on the sync while it sends or polls; older than the lease means it died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = SyncQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status_code__isnull=True) | Q(codat_sync_id__isnull=False),
                name="sync_status_needs_sync_id",
            ),
            models.CheckConstraint(
                condition=Q(completed_count__lte=F("total_count") - F("failed_count")),
                name="sync_counts_within_total",
            ),
        ]
        indexes = [
            # The latest sync of a company (health, the company page).
            models.Index(fields=["company", "-requested_at"], name="sync_company_latest"),
            # Sync health's hourly buckets (services/health.py recount_hours): syncs that
            # finished in an hour, counted by outcome.
            models.Index(fields=["completed_at"], name="sync_completed_at"),
            # The admin's change list: every sync, newest first, a page at a time.
            models.Index(fields=["requested_at", "id"], name="sync_admin_order"),
            # The poller: open syncs, least recently polled first.
            models.Index(
                fields=["last_polled_at"],
                condition=Q(status_code__isnull=True) | Q(status_code__lt=2000),
                name="sync_open_by_last_polled",
            ),
            # The sender and poller: unfinished syncs whose next look is due.
            models.Index(
                fields=["next_attempt_at"],
                condition=~Q(send_state="rejected")
                & (Q(status_code__isnull=True) | Q(status_code__lt=2000)),
                name="sync_unfinished_due",
            ),
        ]

    def __str__(self):
        sync_id = self.codat_sync_id or "not yet acknowledged"
        return f"{self.get_kind_display()} sync {sync_id} ({self.status_label})"

    @staticmethod
    def code_is_terminal(code):
        # Anything outside 1xxx is final, so an unfamiliar code can never be polled forever.
        return code is not None and not 1000 <= code < 2000

    @staticmethod
    def code_is_success(code):
        return code is not None and 2000 <= code < 3000

    @property
    def status_label(self):
        if self.status_code is None:
            return self.SendState(self.send_state).label
        if self.status_code in self.StatusCode.values:
            return self.StatusCode(self.status_code).label
        return f"Code {self.status_code}"

    @property
    def is_terminal(self):
        return self.send_state == self.SendState.REJECTED or self.code_is_terminal(self.status_code)

    @property
    def is_success(self):
        return self.code_is_success(self.status_code)

    @property
    def is_failure(self):
        return self.is_terminal and not self.is_success

    @property
    def is_long_running(self):
        return self.status_code == self.StatusCode.LONG_RUNNING

    @property
    def is_duplicate(self):
        # 5080 means Codat already holds this data: reconcile what is there, never re-send.
        return self.status_code == self.StatusCode.DUPLICATE


class SyncTransaction(models.Model):
    """One transaction's part in one sync, as Codat reported it."""

    class Status(models.TextChoices):
        PENDING = "Pending", "Pending"
        COMPLETED = "Completed", "Completed"
        VALIDATION_ERROR = "ValidationError", "Validation error"
        PUSH_ERROR = "PushError", "Push error"
        UNKNOWN = "Unknown", "Unknown"

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="items")
    # RESTRICT: a transaction that has been sent to the ledger keeps its history; only
    # deleting the whole company (which cascades through both) removes it.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.RESTRICT, related_name="sync_items"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    message = models.TextField(blank=True)
    ledger_record_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sync", "transaction"], name="synctransaction_unique_sync_transaction"
            ),
        ]

    def __str__(self):
        return f"{self.transaction_id} in {self.sync.codat_sync_id}: {self.status}"


class WriteOperation(models.Model):
    """A Codat push operation: creating a supplier, customer, account or bank account."""

    class DataType(models.TextChoices):
        SUPPLIERS = "suppliers", "Supplier"
        CUSTOMERS = "customers", "Customer"
        ACCOUNTS = "chartOfAccounts", "Account"
        BANK_ACCOUNTS = "bankAccounts", "Bank account"

    class Status(models.TextChoices):
        PENDING = "Pending", "Pending"
        SUCCESS = "Success", "Success"
        FAILED = "Failed", "Failed"
        TIMED_OUT = "TimedOut", "Timed out"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="write_operations")
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="write_operations"
    )
    push_operation_key = models.UUIDField(unique=True)
    data_type = models.CharField(max_length=32, choices=DataType)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    record_id = models.CharField(max_length=255, blank=True, help_text="The created record's id")
    error_message = models.TextField(blank=True)
    validation = models.JSONField(default=dict, blank=True)
    # What the person typed, as sent to Codat: a failed write's form is shown again with it,
    # next to Codat's validation errors, so nothing has to be typed twice.
    request_body = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            # The poller: write operations still pending, oldest first.
            models.Index(
                fields=["requested_at"],
                condition=Q(status="Pending"),
                name="writeoperation_pending",
            ),
            # The admin's change list, newest first.
            models.Index(fields=["requested_at", "id"], name="writeoperation_admin_order"),
        ]

    def __str__(self):
        return f"{self.get_data_type_display()} write {self.push_operation_key} ({self.status})"

    @property
    def is_terminal(self):
        return self.status != self.Status.PENDING


class WebhookEvent(models.Model):
    """A webhook delivery from Codat, stored on receipt and processed in the background."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSING = "processing", "Being processed"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (no handler for this event type)"
        FAILED = "failed", "Failed"

    # Codat delivers at least once and keeps the `webhook-id` header across retries, so this
    # unique column is what makes a redelivery a no-op.
    webhook_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    # The whole signed envelope (id, eventType, generatedDate, payload) as Codat sent it.
    payload = models.JSONField(default=dict)
    # Codat's generatedDate: deliveries can arrive out of order, this says which came first.
    generated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the processing task was last sent for it, and when a worker last claimed it: the
    # sweeper uses them to tell a lost message or a dead worker from work still in progress.
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When it reached its final outcome (processed, ignored or failed).
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_at__isnull=True, outcome__in=["pending", "processing"])
                | Q(processed_at__isnull=False, outcome__in=["processed", "ignored", "failed"]),
                name="webhookevent_processed_at_iff_final",
            ),
        ]
        indexes = [
            # The processing task and sweeper: events not processed yet, oldest first.
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="webhookevent_unprocessed",
            ),
            # The admin's change list and a company's webhooks, newest first.
            models.Index(fields=["received_at", "id"], name="webhookevent_admin_order"),
            models.Index(fields=["company", "-received_at"], name="webhookevent_company_recent"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.webhook_id}"

    @property
    def is_processed(self):
        return self.processed_at is not None

    @property
    def data(self) -> dict:
        """The event's own payload (the envelope's ``payload``), what handlers read."""
        inner = self.payload.get("payload") if isinstance(self.payload, dict) else None
        return inner if isinstance(inner, dict) else {}


class RequestLease(models.Model):
    """One of a Codat company's request slots, for the limiter when there is no Redis.

    Each company has a fixed number of rows (one per allowed in-flight request); a request
    claims a free or expired row with a conditional UPDATE and frees it afterwards. The lease
    runs out on its own, so a worker killed mid-request cannot hold a slot for ever.
    """

    codat_company_id = models.CharField(max_length=64)
    slot = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["codat_company_id", "slot"], name="requestlease_unique_company_slot"
            ),
        ]

    def __str__(self):
        return f"slot {self.slot} of {self.codat_company_id}"


# --- Sync health summaries (integrations/syncs/services/health.py keeps them) -------------------
#
# The staff pages read these instead of aggregating a million transactions per request. They
# are derived data: the pipeline's hooks keep them current, a beat task repairs drift and
# `health.rebuild_all()` recomputes every row; deleting them loses nothing.


class CompanyHealth(models.Model):
    """One row per company: what the triage list shows and sorts by, computed in one place."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, primary_key=True, related_name="health_summary"
    )
    # Company.health_from's answer, and health.health_score's (higher is worse).
    health = models.CharField(max_length=16, choices=Company.Health)
    score = models.PositiveSmallIntegerField(default=0)
    stuck = models.BooleanField(default=False, help_text="A sync open too long, or 1010")
    connection_status = models.CharField(max_length=16, choices=Connection.Status, blank=True)
    platform_key = models.CharField(max_length=4, blank=True)
    platform_name = models.CharField(max_length=100, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_code = models.PositiveIntegerField(null=True, blank=True)
    last_failure_message = models.TextField(blank=True)
    syncs_7d = models.PositiveIntegerField(default=0)
    failed_syncs_7d = models.PositiveIntegerField(default=0)
    waiting_count = models.PositiveIntegerField(default=0)
    oldest_waiting_at = models.DateTimeField(null=True, blank=True)
    failed_count = models.PositiveIntegerField(default=0)
    attention_count = models.PositiveIntegerField(default=0)
    unmapped_categories = models.PositiveIntegerField(default=0)
    receipts_failing = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "company health"
        indexes = [
            # The triage list: worst first, a page at a time.
            models.Index(fields=["-score", "company"], name="companyhealth_triage"),
            # The drift repair: the rows refreshed longest ago.
            models.Index(fields=["refreshed_at"], name="companyhealth_refreshed"),
        ]

    def __str__(self):
        return f"{self.company_id}: {self.health} ({self.score})"

    @property
    def failure_rate(self) -> float | None:
        return self.failed_syncs_7d / self.syncs_7d if self.syncs_7d else None


class SyncHour(models.Model):
    """Syncs that finished in one hour, by outcome: the chart and the success rates."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Written"
        EMPTY = "empty", "Nothing to write"
        FAILED = "failed", "Failed"

    hour = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["hour", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["hour", "outcome"], name="synchour_unique_hour_outcome")
        ]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}:00 {self.outcome}: {self.count}"


class ErrorCluster(models.Model):
    """Failures across every customer with one root cause: a status code and Codat's message
    with the ids, numbers and names taken out (health.normalise_message)."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    key = models.CharField(max_length=64, unique=True, help_text="Hash of code and pattern")
    # The sync's status code; null when Codat refused the request before a sync began (a 400).
    status_code = models.PositiveIntegerField(null=True, blank=True)
    item_status = models.CharField(max_length=16, blank=True, help_text="Codat's item status")
    pattern = models.TextField()
    sample_message = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.OPEN)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Open members (transactions not yet in the ledger) and their companies; and all-time.
    transactions_count = models.PositiveIntegerField(default=0)
    companies_count = models.PositiveIntegerField(default=0)
    total_transactions = models.PositiveIntegerField(default=0)
    total_companies = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        indexes = [
            # The clusters list: open ones (or resolved ones) most recently seen first.
            models.Index(fields=["state", "-last_seen_at"], name="errorcluster_state_recent"),
        ]

    def __str__(self):
        code = self.status_code or "refused"
        return f"{code}: {self.pattern[:80]}"

    @property
    def is_open(self):
        return self.state == self.State.OPEN


class ErrorClusterMember(models.Model):
    """One transaction in a cluster; resolved once the transaction reaches the ledger (or its
    next failure has another cause)."""

    cluster = models.ForeignKey(ErrorCluster, on_delete=models.CASCADE, related_name="members")
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="error_clusters"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    sync = models.ForeignKey(
        Sync, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "transaction"], name="errorclustermember_unique"
            )
        ]
        indexes = [
            # Resolving: a transaction's open memberships (sync closed, repair pass).
            models.Index(
                fields=["transaction"],
                condition=Q(resolved_at__isnull=True),
                name="errorclustermember_open",
            ),
            # The cluster page: its members, newest first.
            models.Index(fields=["cluster", "-last_seen_at"], name="errorclustermember_recent"),
        ]

    def __str__(self):
        return f"{self.transaction_id} in cluster {self.cluster_id}"
