"""What the portal knows about each company's ledger, and how the partner's spend maps onto it.

Two halves: records cached from the accounting software through Codat (Codat's copy wins on
every refresh), and the partner's own categories and cards with the mapping the customer chose.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.companies.models import Company

CURRENCY_CODE = r"^[A-Z]{3}$"


class RecordStatus(models.TextChoices):
    # Codat's enum strings as values, so a refresh can store what it reads without a table.
    ACTIVE = "Active", "Active"
    ARCHIVED = "Archived", "Archived"
    PENDING = "Pending", "Pending"
    UNKNOWN = "Unknown", "Unknown"


class CachedRecord(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    # The ledger's own id, as Codat reports it: an arbitrary string such as "35" or "23_Bills".
    codat_id = models.CharField(max_length=255)
    # Codat's record as read; its decimals are kept as strings, exactly as they came.
    raw = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    last_refreshed_at = models.DateTimeField(default=timezone.now)
    # Set by the first refresh that no longer saw the record (deleted in the ledger, or, for
    # lists that only offer live records such as mapping options, archived there); cleared if
    # it comes back. The row stays, so mappings that point at it can say what went wrong.
    missing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["company", "codat_id"], name="%(class)s_unique_company_codat_id"
            ),
        ]

    @property
    def is_archived(self):
        return getattr(self, "status", None) == RecordStatus.ARCHIVED

    @property
    def is_missing(self):
        return self.missing_since is not None

    @property
    def is_usable(self):
        # Several platforms never report a status, so only an explicit archive rules one out.
        return not (self.is_archived or self.is_missing)


class LedgerAccount(CachedRecord):
    class Type(models.TextChoices):
        ASSET = "Asset", "Asset"
        LIABILITY = "Liability", "Liability"
        INCOME = "Income", "Income"
        EXPENSE = "Expense", "Expense"
        EQUITY = "Equity", "Equity"
        UNKNOWN = "Unknown", "Unknown"

    name = models.CharField(max_length=255)
    nominal_code = models.CharField(max_length=64, blank=True)
    account_type = models.CharField(max_length=16, choices=Type, default=Type.UNKNOWN)
    currency = models.CharField(max_length=3, blank=True)
    fully_qualified_category = models.CharField(max_length=255, blank=True)
    is_bank_account = models.BooleanField(default=False)
    valid_transaction_types = models.JSONField(default=list, blank=True)
    valid_for = models.JSONField(
        default=list, blank=True, help_text='e.g. ["expense-transactions.Payment"]'
    )
    status = models.CharField(max_length=16, choices=RecordStatus, default=RecordStatus.ACTIVE)

    class Meta(CachedRecord.Meta):
        ordering = ["nominal_code", "name"]

    def __str__(self):
        return f"{self.nominal_code} {self.name}".strip()

    def is_valid_for(self, valid_for_key):
        """Whether Codat will accept this account for a transaction of that type.

        `valid_for` (added by Codat in late 2024) is authoritative when present; older
        responses only carry `validTransactionTypes`, which covers expense transactions.
        """
        if self.valid_for:
            return valid_for_key in self.valid_for
        prefix = "expense-transactions."
        if valid_for_key.startswith(prefix):
            return valid_for_key.removeprefix(prefix) in self.valid_transaction_types
        return False


class TaxRate(CachedRecord):
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=64, blank=True)
    # Percentages as Codat sends them (20.0 means 20%).
    effective_rate = models.DecimalField(max_digits=9, decimal_places=4, default=0)
    total_rate = models.DecimalField(max_digits=9, decimal_places=4, default=0)
    valid_transaction_types = models.JSONField(default=list, blank=True)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]

    def __str__(self):
        # normalize() alone would print 20.0000 as 2E+1.
        return f"{self.name} ({Decimal(self.effective_rate).normalize():f}%)"


class TrackingCategory(CachedRecord):
    name = models.CharField(max_length=255)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    has_children = models.BooleanField(default=False)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]
        verbose_name_plural = "tracking categories"

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class Supplier(CachedRecord):
    name = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=RecordStatus, default=RecordStatus.ACTIVE)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(CachedRecord):
    name = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=RecordStatus, default=RecordStatus.ACTIVE)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]

    def __str__(self):
        return self.name


class BankAccount(CachedRecord):
    class Type(models.TextChoices):
        CREDIT = "Credit", "Credit"
        DEBIT = "Debit", "Debit"
        UNKNOWN = "Unknown", "Unknown"

    name = models.CharField(max_length=255)
    account_type = models.CharField(max_length=16, choices=Type, default=Type.UNKNOWN)
    currency = models.CharField(max_length=3, blank=True)
    nominal_code = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=RecordStatus, default=RecordStatus.ACTIVE)

    class Meta(CachedRecord.Meta):
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.currency})" if self.currency else self.name


class CompanyInfo(models.Model):
    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="ledger_info")
    company_name = models.CharField(max_length=255, blank=True)
    legal_name = models.CharField(max_length=255, blank=True)
    base_currency = models.CharField(max_length=3, blank=True)
    # Nothing dated on or before this can be written to the ledger; pre-flight checks it.
    ledger_lock_date = models.DateField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    last_refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "company info"
        verbose_name_plural = "company info"

    def __str__(self):
        return f"{self.company}: {self.legal_name or self.company_name or 'ledger info'}"


class LedgerRefresh(models.Model):
    """When each kind of ledger data was last read for a company, and how that went."""

    # Codat's data type names, which are also the path segment of `POST …/data/queue/{dataType}`.
    class DataType(models.TextChoices):
        ACCOUNTS = "chartOfAccounts", "Accounts"
        TAX_RATES = "taxRates", "Tax rates"
        TRACKING_CATEGORIES = "trackingCategories", "Tracking categories"
        SUPPLIERS = "suppliers", "Suppliers"
        CUSTOMERS = "customers", "Customers"
        BANK_ACCOUNTS = "bankAccounts", "Bank accounts"
        COMPANY_INFO = "company", "Company info"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ledger_refreshes")
    data_type = models.CharField(max_length=32, choices=DataType)
    requested_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["data_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "data_type"], name="ledgerrefresh_unique_company_data_type"
            ),
        ]

    def __str__(self):
        when = self.refreshed_at.isoformat(timespec="minutes") if self.refreshed_at else "never"
        return f"{self.company}: {self.get_data_type_display()} refreshed {when}"


class LedgerRead(models.Model):
    """One read of a company's ledger through Codat, from asking to having it cached.

    The row is the whole state of the work, so a worker killed at any line leaves something
    the sweeper can pick up: an expired lease means "nobody is on this any more".
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"  # Codat not asked yet
        READING = "reading", "Reading"  # Codat is fetching from the ledger
        IMPORTING = "importing", "Importing"  # Codat has it; copying it into our cache
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    OPEN_STATUSES = (Status.REQUESTED, Status.READING, Status.IMPORTING)

    class Reason(models.TextChoices):
        LINK = "link", "First read after Link"
        SCHEDULE = "schedule", "Scheduled"
        MANUAL = "manual", "Asked for by a person"
        CODAT = "codat", "Codat read the ledger on its own schedule"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ledger_reads")
    status = models.CharField(max_length=16, choices=Status, default=Status.REQUESTED)
    reason = models.CharField(max_length=16, choices=Reason)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    asked_at = models.DateTimeField(null=True, blank=True, help_text="When Codat was asked")
    read_at = models.DateTimeField(null=True, blank=True, help_text="When Codat finished reading")
    finished_at = models.DateTimeField(null=True, blank=True)
    # Polling fallback for a read.completed webhook that never comes.
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)
    # Taken with a conditional UPDATE by the worker doing a step; a killed worker's expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two reads of one company at once would race each other's upserts and double the
            # Codat requests; the database refuses the second.
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(status__in=["requested", "reading", "importing"]),
                name="ledgerread_one_open_per_company",
                violation_error_message="This company's ledger is already being read.",
            ),
        ]
        indexes = [
            # The sweeper: open reads, by when they next need looking at.
            models.Index(
                fields=["status", "next_check_at"],
                condition=Q(status__in=["requested", "reading", "importing"]),
                name="ledgerread_open",
            ),
            # The scheduler: each company's latest finished read.
            models.Index(fields=["company", "status", "-finished_at"], name="ledgerread_latest"),
        ]

    def __str__(self):
        return f"{self.company}: ledger read {self.get_status_display().lower()}"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class ExpenseCategory(models.Model):
    """One of the partner's own spend categories (e.g. Travel), mapped by the customer."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="expense_categories"
    )
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=32, help_text="The partner's stable code for the category")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "expense categories"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "code"], name="expensecategory_unique_company_code"
            ),
        ]

    def __str__(self):
        return self.name


class Card(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="cards")
    reference = models.CharField(max_length=64, help_text="The partner's own id for the card")
    name = models.CharField(max_length=100)
    cardholder = models.CharField(max_length=150)
    last_four = models.CharField(max_length=4)
    currency = models.CharField(max_length=3)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "reference"], name="card_unique_company_reference"
            ),
            models.CheckConstraint(
                condition=Q(last_four__regex=r"^[0-9]{4}$"), name="card_last_four_digits"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE), name="card_currency_iso_code"
            ),
        ]

    def __str__(self):
        return f"{self.name} ···{self.last_four}"


class MappingChange(models.Model):
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def _check_same_company(self, company, **related):
        # The database cannot see across two foreign keys, so the form/admin check does it:
        # one tenant's category must never point at another tenant's ledger.
        errors = {
            name: "Belongs to a different company."
            for name, obj in related.items()
            if obj is not None and obj.company_id != company.pk
        }
        if errors:
            raise ValidationError(errors)


class CategoryMapping(MappingChange):
    """Where spend in one partner category lands in the ledger."""

    # SET_NULL: a ledger record that disappears on refresh leaves the mapping incomplete, and
    # pre-flight turns that into "needs attention" instead of a failed sync.
    category = models.OneToOneField(
        ExpenseCategory, on_delete=models.CASCADE, related_name="mapping"
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tax_rate = models.ForeignKey(
        TaxRate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tracking_categories = models.ManyToManyField(TrackingCategory, blank=True, related_name="+")

    def __str__(self):
        return f"{self.category} → {self.account or 'unmapped'}"

    def clean(self):
        if self.category_id:
            self._check_same_company(
                self.category.company, account=self.account, tax_rate=self.tax_rate
            )


class CardMapping(MappingChange):
    card = models.OneToOneField(Card, on_delete=models.CASCADE, related_name="mapping")
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"{self.card} → {self.bank_account or 'unmapped'}"

    def clean(self):
        if self.card_id:
            self._check_same_company(self.card.company, bank_account=self.bank_account)


class CompanyConfiguration(MappingChange):
    """The defaults Codat applies when a transaction names no bank account or contact."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="configuration")
    default_bank_account = models.ForeignKey(
        BankAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"Configuration of {self.company}"

    @property
    def is_complete(self):
        # Codat's set-configuration call requires all three.
        return all(
            (self.default_bank_account_id, self.default_supplier_id, self.default_customer_id)
        )

    def clean(self):
        if self.company_id:
            self._check_same_company(
                self.company,
                default_bank_account=self.default_bank_account,
                default_supplier=self.default_supplier,
                default_customer=self.default_customer,
            )
