import uuid
from pathlib import PurePath

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.companies.models import Company
from integrations.ledger.models import CURRENCY_CODE, BankAccount, Card, ExpenseCategory, Supplier

MONEY = {"max_digits": 18, "decimal_places": 4}


class TransactionQuerySet(models.QuerySet):
    def with_receipt_state(self):
        """Annotate what `Transaction.plain_status` needs to tell "receipt missing" apart, so a
        list of transactions costs one query."""
        kept = Receipt.objects.filter(transaction=OuterRef("pk")).exclude(
            upload_status__in=Receipt.LOST_STATUSES
        )
        return self.annotate(has_receipt=Exists(kept))


class Transaction(models.Model):
    """A piece of the partner's spend on its way to the ledger.

    The primary key is also the id Codat knows the transaction by: Codat treats it as the
    idempotency key (unique per company), so a resend after a lost response cannot duplicate.
    """

    class Kind(models.TextChoices):
        EXPENSE = "expense", "Card expense"
        REIMBURSABLE = "reimbursable", "Reimbursable claim"
        TRANSFER = "transfer", "Transfer"
        ADJUSTMENT = "adjustment", "Adjustment"

    # Codat's enum strings, sent as the expense's `type` as they are.
    class ExpenseType(models.TextChoices):
        PAYMENT = "Payment", "Payment"
        REFUND = "Refund", "Refund"
        REWARD = "Reward", "Reward"
        CHARGEBACK = "Chargeback", "Chargeback"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        READY = "ready", "Ready to sync"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        QUEUED = "queued", "Queued"
        PUSHING = "pushing", "Sending"
        SYNCING = "syncing", "Syncing"
        COMPLETED = "completed", "In the ledger"
        FAILED = "failed", "Failed"
        # An operator settled it by hand (entered in the ledger directly, or written off): final,
        # nothing will send it, and the reason says what was done.
        HANDLED = "handled", "Handled outside the portal"

    # Why a transaction needs attention: a stable code the pages and the partner API can act on,
    # beside the sentence in `needs_attention_reason` a person reads.
    class AttentionCode(models.TextChoices):
        CONNECTION_NOT_LINKED = "connection_not_linked", "Accounting software not connected"
        LEDGER_NOT_LOADED = "ledger_not_loaded", "Ledger details not loaded yet"
        KIND_NOT_SUPPORTED = "kind_not_supported", "Not supported by the accounting software"
        TYPE_NOT_SUPPORTED = "type_not_supported", "Transaction type not supported"
        NO_CATEGORY = "no_category", "No expense category"
        CATEGORY_NOT_MAPPED = "category_not_mapped", "Category not mapped to an account"
        ACCOUNT_ARCHIVED = "account_archived", "Mapped account archived"
        ACCOUNT_NOT_VALID = "account_not_valid", "Mapped account not valid for this type"
        TAX_RATE_NOT_VALID = "tax_rate_not_valid", "Tax rate not valid for this type"
        NO_BANK_ACCOUNT = "no_bank_account", "No bank account"
        BANK_ACCOUNT_ARCHIVED = "bank_account_archived", "Bank account archived"
        CARD_TYPE_REFUSED = "card_type_refused", "Needs a credit card account"
        NO_CONTACT = "no_contact", "No supplier or customer"
        CONTACT_ARCHIVED = "contact_archived", "Supplier or customer archived"
        CONTACT_CURRENCY = "contact_currency", "Supplier currency differs"
        CURRENCY_NOT_ALLOWED = "currency_not_allowed", "Currency combination not allowed"
        CURRENCY_RATE_MISSING = "currency_rate_missing", "Exchange rate missing"
        TRANSFER_INCOMPLETE = "transfer_incomplete", "Transfer accounts or amounts missing"
        LOCKED_PERIOD = "locked_period", "Dated in a locked period"
        REJECTED_BY_CODAT = "rejected_by_codat", "Refused by Codat"
        REJECTED_BY_LEDGER = "rejected_by_ledger", "Refused by the accounting software"
        EDIT_NOT_SUPPORTED = "edit_not_supported", "Change it in the accounting software"

    # The page where the person fixes it; delivery apps turn this into a link.
    class Screen(models.TextChoices):
        TRANSACTION = "transaction", "The transaction"
        CATEGORY_MAPPING = "category_mapping", "Category mapping"
        CARD_MAPPING = "card_mapping", "Card mapping"
        COMPANY_DEFAULTS = "company_defaults", "Company defaults"
        CONNECTION = "connection", "Accounting connection"
        LEDGER = "ledger", "The accounting software itself"

    class PlainStatus(models.TextChoices):
        """What a person reads about a transaction, the same words in the portal and the API."""

        DRAFT = "draft", "Draft"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        READY = "ready", "Ready"
        QUEUED = "queued", "Queued"
        SYNCING = "syncing", "Syncing"
        IN_LEDGER = "in_ledger", "In the ledger"
        RECEIPT_MISSING = "receipt_missing", "Receipt missing"
        FAILED = "failed", "Failed"
        HANDLED_OUTSIDE = "handled_outside", "Handled outside the portal"

    # Spend a receipt belongs to; transfers and adjustments have none.
    RECEIPT_KINDS = (Kind.EXPENSE, Kind.REIMBURSABLE)

    IN_FLIGHT_STATUSES = (Status.QUEUED, Status.PUSHING, Status.SYNCING)
    EDITABLE_STATUSES = (Status.DRAFT, Status.READY, Status.NEEDS_ATTENTION, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.EXPENSE)
    expense_type = models.CharField(
        max_length=16,
        choices=ExpenseType,
        blank=True,
        help_text="Card expenses only; reimbursable claims and transfers have no type.",
    )
    # RESTRICT: a card or category with spend against it cannot be deleted on its own (archive
    # it instead), yet deleting the whole company still cascades through both.
    card = models.ForeignKey(
        Card, on_delete=models.RESTRICT, null=True, blank=True, related_name="transactions"
    )
    category = models.ForeignKey(
        ExpenseCategory,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    # The employee (held as a supplier) on a reimbursable claim; on card spend it overrides
    # the company's default supplier.
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merchant_name = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    net_amount = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    # Foreign units per base unit, as Codat defines it; required when a currency is not base.
    currency_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    from_bank_account = models.ForeignKey(
        BankAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_amount = models.DecimalField(**MONEY, null=True, blank=True)
    to_bank_account = models.ForeignKey(
        BankAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_amount = models.DecimalField(**MONEY, null=True, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    # When `status` last changed; the sweeper re-queues work that sits in flight too long.
    status_changed_at = models.DateTimeField(default=timezone.now)
    needs_attention_reason = models.TextField(blank=True)
    # What the operator did when they marked it handled outside the portal (status "handled").
    handled_reason = models.TextField(blank=True)
    attention_code = models.CharField(max_length=32, choices=AttentionCode, blank=True)
    attention_screen = models.CharField(max_length=24, choices=Screen, blank=True)
    ledger_record_id = models.CharField(max_length=255, blank=True)
    # The partner's own id for the transaction (partner API intake), unique per company, and a
    # hash of the body it came with: the same reference and body again is a replay, a different
    # body is a conflict.
    partner_reference = models.CharField(max_length=100, blank=True)
    partner_body_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Changed after it was written to the ledger: the next push sends Codat's update, not a
    # create (or, where the platform takes no updates, pre-flight says to change it there).
    pending_edit = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "partner_reference"],
                condition=~Q(partner_reference=""),
                name="transaction_unique_company_partner_reference",
                violation_error_message=(
                    "This company already has a transaction with that reference."
                ),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE),
                name="transaction_currency_iso_code",
                violation_error_message="Currency must be a three-letter ISO code, e.g. GBP.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="expense",
                        expense_type__in=["Payment", "Refund", "Reward", "Chargeback"],
                    )
                    | (~Q(kind="expense") & Q(expense_type=""))
                ),
                name="transaction_expense_type_only_on_expenses",
                violation_error_message="Card expenses need a type; other kinds have none.",
            ),
            models.CheckConstraint(
                condition=~Q(status="needs_attention") | ~Q(needs_attention_reason=""),
                name="transaction_attention_has_reason",
                violation_error_message="Say what needs attention.",
            ),
            models.CheckConstraint(
                condition=~Q(status="handled") | ~Q(handled_reason=""),
                name="transaction_handled_has_reason",
                violation_error_message="Say how it was handled outside the portal.",
            ),
            models.CheckConstraint(
                condition=Q(currency_rate__isnull=True) | Q(currency_rate__gt=0),
                name="transaction_currency_rate_positive",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(from_amount__isnull=True) | Q(from_amount__gt=0))
                    & (Q(to_amount__isnull=True) | Q(to_amount__gt=0))
                ),
                name="transaction_transfer_amounts_positive",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | Q(due_date__gte=models.F("issue_date")),
                name="transaction_due_not_before_issue",
            ),
        ]
        indexes = [
            # The push worker: Transaction.objects.filter(company=c, status="ready")
            # .order_by("issue_date"), so oldest spend goes first and the batch is cheap to find.
            models.Index(
                fields=["company", "issue_date"],
                condition=Q(status="ready"),
                name="transaction_ready_by_company",
            ),
            # The company's transaction list, newest first.
            models.Index(fields=["company", "-issue_date"], name="transaction_company_recent"),
            # The sweeper: in-flight rows whose status has not moved since a cutoff.
            models.Index(
                fields=["status_changed_at"],
                condition=Q(status__in=["queued", "pushing", "syncing"]),
                name="transaction_in_flight",
            ),
            # The admin's change list: every transaction in its default order (newest spend
            # first), read backwards a page at a time instead of sorting a million rows.
            models.Index(fields=["issue_date", "created_at", "id"], name="transaction_admin_order"),
            # The admin filtered by status ("failed", the operator's usual question): its count
            # reads this index alone, and its page is the index read backwards.
            models.Index(
                fields=["status", "issue_date", "created_at", "id"], name="transaction_admin_status"
            ),
        ]

    def __str__(self):
        what = self.merchant_name or self.get_kind_display()
        # Amounts are stored to 4 places (Codat's precision); people read money to 2.
        amount = self.total_amount
        shown = f"{amount:.2f}" if amount is not None else "?"
        return f"{what} {shown} {self.currency} on {self.issue_date}"

    @property
    def total_amount(self):
        if self.kind == self.Kind.TRANSFER and self.from_amount is not None:
            return self.from_amount
        return (self.net_amount or 0) + (self.tax_amount or 0)

    @property
    def plain_status(self) -> "Transaction.PlainStatus":
        """The one definition of the status a person sees (pill, filter, API).

        A synced expense without a receipt that can still reach the ledger reads "receipt
        missing", the thing to do next, rather than "in the ledger". Lists annotate
        `has_receipt` with `with_receipt_state()`; one row alone asks the database.
        """
        status = self.Status
        plain = self.PlainStatus
        if self.status == status.COMPLETED:
            if self.kind in self.RECEIPT_KINDS and not self._has_receipt():
                return plain.RECEIPT_MISSING
            return plain.IN_LEDGER
        return {
            status.DRAFT: plain.DRAFT,
            status.READY: plain.READY,
            status.NEEDS_ATTENTION: plain.NEEDS_ATTENTION,
            status.QUEUED: plain.QUEUED,
            status.PUSHING: plain.SYNCING,
            status.SYNCING: plain.SYNCING,
            status.FAILED: plain.FAILED,
            status.HANDLED: plain.HANDLED_OUTSIDE,
        }[self.status]

    def _has_receipt(self) -> bool:
        if hasattr(self, "has_receipt"):  # annotated by with_receipt_state()
            return self.has_receipt
        return self.receipts.exclude(upload_status__in=Receipt.LOST_STATUSES).exists()

    @classmethod
    def plain_status_filter(cls, plain: str) -> Q:
        """The rows whose `plain_status` is `plain`, as a filter on a with_receipt_state()
        queryset (the list's status filter and the API's)."""
        status, kinds = cls.Status, cls.RECEIPT_KINDS
        completed = Q(status=status.COMPLETED)
        missing = completed & Q(kind__in=kinds, has_receipt=False)
        return {
            cls.PlainStatus.DRAFT: Q(status=status.DRAFT),
            cls.PlainStatus.READY: Q(status=status.READY),
            cls.PlainStatus.NEEDS_ATTENTION: Q(status=status.NEEDS_ATTENTION),
            cls.PlainStatus.QUEUED: Q(status=status.QUEUED),
            cls.PlainStatus.SYNCING: Q(status__in=[status.PUSHING, status.SYNCING]),
            cls.PlainStatus.IN_LEDGER: completed & ~missing,
            cls.PlainStatus.RECEIPT_MISSING: missing,
            cls.PlainStatus.FAILED: Q(status=status.FAILED),
            cls.PlainStatus.HANDLED_OUTSIDE: Q(status=status.HANDLED),
        }[plain]

    @property
    def valid_for_key(self):
        """This transaction's entry in Codat's `validFor` list on mapping-option accounts."""
        if self.kind == self.Kind.EXPENSE:
            return f"expense-transactions.{self.expense_type}"
        return {
            self.Kind.REIMBURSABLE: "reimbursable-expense-transactions",
            self.Kind.TRANSFER: "transfer-transactions",
            self.Kind.ADJUSTMENT: "adjustment-transactions",
        }[self.kind]

    @property
    def is_editable(self):
        return self.status in self.EDITABLE_STATUSES

    @staticmethod
    def attention(code="", reason="", screen="") -> dict:
        """The fields that tell a person what to fix, for an UPDATE: what is wrong (a code), in
        words, and the screen that fixes it are set together, or cleared together (no args)."""
        return {
            "attention_code": code,
            "needs_attention_reason": reason,
            "attention_screen": screen,
        }


def receipt_upload_to(receipt, filename):
    # An opaque stored name: users' filenames are kept in `original_filename`, never in paths.
    suffix = PurePath(filename).suffix.lower()[:10]
    transaction = receipt.transaction
    return f"receipts/{transaction.company_id}/{transaction.pk}/{uuid.uuid4().hex}{suffix}"


class Receipt(models.Model):
    class UploadStatus(models.TextChoices):
        PENDING = "pending", "Waiting to upload"
        UPLOADING = "uploading", "Uploading"
        UPLOADED = "uploaded", "Uploaded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Not accepted by the ledger"

    # Receipts that will never reach the ledger as they are: the transaction still lacks one.
    LOST_STATUSES = (UploadStatus.FAILED, UploadStatus.REJECTED)

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="receipts")
    file = models.FileField(upload_to=receipt_upload_to, max_length=255)
    original_filename = models.CharField(max_length=255)
    size = models.BigIntegerField(help_text="Bytes")
    content_type = models.CharField(max_length=100)
    upload_status = models.CharField(
        max_length=16, choices=UploadStatus, default=UploadStatus.PENDING
    )
    codat_attachment_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sent with each upload. A timeout keeps it (Codat replays a finished upload instead of
    # attaching the file twice); an error answer replaces it, as Codat would replay the error.
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False)
    # An upload under the current key timed out, so the file may be attached already: the key
    # is kept from then on, whatever later answers say (an error answer to a retry does not
    # show that the first request failed).
    key_in_doubt = models.BooleanField(default=False)
    # A failed upload waits until then before the next try (None: as soon as it is due).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the current upload was claimed; a claim older than the lease is a dead worker's.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="receipt_size_non_negative"),
            models.CheckConstraint(
                condition=~Q(upload_status="uploaded") | ~Q(codat_attachment_id=""),
                name="receipt_uploaded_has_attachment_id",
            ),
        ]
        indexes = [
            # The upload worker: receipts still waiting, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(upload_status="pending"),
                name="receipt_pending_upload",
            ),
            # The admin's change list, newest first, a page at a time.
            models.Index(fields=["created_at", "id"], name="receipt_admin_order"),
            # Receipts failing, per transaction (a company's drill-down, the health summary): a
            # few percent of the rows, so a small partial index instead of a scan of them all.
            models.Index(
                fields=["transaction"],
                condition=Q(upload_status__in=["failed", "rejected"]),
                name="receipt_failing",
            ),
        ]

    def __str__(self):
        return f"{self.original_filename} ({self.get_upload_status_display()})"
