"""The partner API's request and response bodies (camelCase on the wire).

Money is a decimal string in and out (never a JSON number, so no float ever touches an
amount); dates are ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from integrations.transactions.models import Receipt, Transaction

MONEY_PATTERN = r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$"
RATE_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,8})?$"


def _positive_rate(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("The rate must be more than zero.")
    return value


def _positive_amount(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("The amount must be more than zero.")
    return value


Money = Annotated[
    str,
    StringConstraints(pattern=MONEY_PATTERN),
    Field(description='A decimal string, e.g. "12.50" (up to 4 decimal places).'),
]
PositiveMoney = Annotated[Money, AfterValidator(_positive_amount)]
Rate = Annotated[
    str,
    StringConstraints(pattern=RATE_PATTERN),
    AfterValidator(_positive_rate),
    Field(description="Foreign units per base unit, as a decimal string."),
]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217, e.g. GBP")
]
# One line of printable text: no control characters (a newline in a name would break the
# invitation email's subject; PostgreSQL refuses NUL in any text).
LINE = r"^[^\x00-\x1f\x7f]*$"
NOT_BLANK_LINE = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"
# An id: no spaces at either end, nothing unprintable.
REFERENCE = r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$"


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("Enter a valid email address.") from None
    return value


Reference = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=REFERENCE)]
Text = Annotated[str, StringConstraints(max_length=255, pattern=LINE)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK_LINE)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=LINE), AfterValidator(_email)]
# Free text over several lines: anything but NUL.
Notes = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]


def short_name(n: int):
    return Annotated[str, StringConstraints(min_length=1, max_length=n, pattern=NOT_BLANK_LINE)]


def short_id(n: int):
    return Annotated[str, StringConstraints(min_length=1, max_length=n, pattern=REFERENCE)]


class CamelSchema(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class InSchema(CamelSchema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def money(value) -> str | None:
    """A decimal as an exact string, with two places at least ("5.00", "1.2345", "0.85")."""
    if value is None:
        return None
    value = Decimal(value).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return f"{value:f}"


# --- Companies -----------------------------------------------------------------------------------


class CompanyIn(InSchema):
    name: Name
    owner_email: Email = Field(
        description="Gets an invitation to the portal as the company's owner."
    )
    partner_reference: Reference | None = None


class CompanyUpdate(InSchema):
    name: Name | None = None
    partner_reference: Reference | None = None


class ConnectionOut(CamelSchema):
    status: str = Field(description="PendingAuth, Linked, Unlinked or Deauthorized")
    platform_key: str
    platform_name: str


class CompanyOut(CamelSchema):
    id: int
    name: str
    partner_reference: str | None
    created_at: datetime
    health: Literal["ok", "syncing", "failing", "needs_auth", "never_synced"]
    connection: ConnectionOut | None = None
    transaction_counts: dict[str, int] | None = Field(
        default=None, description="Transactions by status (only when reading one company)."
    )


class CompanyPage(CamelSchema):
    items: list[CompanyOut]
    next_cursor: str | None


# --- Categories and cards ------------------------------------------------------------------------


class CategoryIn(InSchema):
    name: short_name(100)
    active: bool = True


class CategoryOut(CamelSchema):
    reference: str
    name: str
    active: bool


class CardIn(InSchema):
    name: short_name(100)
    cardholder: short_name(150)
    last_four: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    currency: Currency
    active: bool = True


class CardOut(CamelSchema):
    reference: str
    name: str
    cardholder: str
    last_four: str
    currency: str
    active: bool


# --- Transactions --------------------------------------------------------------------------------


class LineIn(InSchema):
    net_amount: Money
    tax_amount: Money = "0"


class TransferSideIn(InSchema):
    bank_account_id: short_id(255) = Field(
        description="The ledger's id of the bank account (as the portal shows it)."
    )
    amount: PositiveMoney


class TransferIn(InSchema):
    from_: TransferSideIn = Field(alias="from")
    to: TransferSideIn


TransactionKind = Literal["expense", "reimbursable", "transfer"]
ExpenseType = Literal["Payment", "Refund", "Reward", "Chargeback"]


class TransactionIn(InSchema):
    reference: Reference = Field(
        description="Your id for the transaction, unique per company; the idempotency key."
    )
    kind: TransactionKind = "expense"
    type: ExpenseType | None = Field(
        default=None, description="Card expenses only (default Payment)."
    )
    issue_date: date
    due_date: date | None = None
    currency: Currency
    currency_rate: Rate | None = None
    merchant_name: Text = ""
    card: Reference | None = Field(default=None, description="The card's reference.")
    category: short_id(32) | None = Field(
        default=None, description="The expense category's reference."
    )
    supplier_id: short_id(255) | None = Field(
        default=None, description="Ledger supplier id (the employee on a reimbursable claim)."
    )
    lines: list[LineIn] = Field(
        default_factory=list,
        max_length=1,
        description="Net and tax amounts; one line per transaction (not for transfers).",
    )
    transfer: TransferIn | None = None
    notes: Notes = ""

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "transfer":
            if self.transfer is None:
                raise ValueError("A transfer needs `transfer` with its from and to sides.")
            if self.lines:
                raise ValueError("A transfer has no lines.")
        else:
            if len(self.lines) != 1:
                raise ValueError("Send one line with its net and tax amounts.")
            if self.transfer is not None:
                raise ValueError("Only transfers have `transfer`.")
        if self.type is not None and self.kind != "expense":
            raise ValueError("Only card expenses have a type.")
        if self.due_date and self.due_date < self.issue_date:
            raise ValueError("The due date is before the issue date.")
        return self


class TransactionBatchIn(InSchema):
    transactions: list[TransactionIn] = Field(min_length=1, max_length=500)


class LineOut(CamelSchema):
    net_amount: str
    tax_amount: str


class TransferSideOut(CamelSchema):
    bank_account_id: str | None
    amount: str | None


class TransferOut(CamelSchema):
    from_: TransferSideOut = Field(alias="from")
    to: TransferSideOut


Plain = Transaction.PlainStatus


class TransactionOut(CamelSchema):
    id: UUID
    reference: str
    kind: str
    type: str | None
    issue_date: date
    due_date: date | None
    currency: str
    currency_rate: str | None
    merchant_name: str
    card: str | None
    category: str | None
    supplier_id: str | None
    lines: list[LineOut]
    transfer: TransferOut | None
    notes: str
    status: Literal[tuple(Plain.values)] = Field(  # type: ignore[valid-type]
        description="The status in the words the portal shows: " + ", ".join(Plain.values)
    )
    status_label: str
    ledger_record_id: str | None = Field(description="The ledger's record id, once synced.")
    reason: str | None = Field(description="Why it needs attention or failed, in plain words.")
    reason_code: str | None
    created_at: datetime
    updated_at: datetime


class TransactionBatchOut(CamelSchema):
    transactions: list[TransactionOut]
    created: int = Field(description="How many were new; the rest were already stored.")


class TransactionPage(CamelSchema):
    items: list[TransactionOut]
    next_cursor: str | None


class ReceiptOut(CamelSchema):
    id: int
    filename: str
    size: int
    content_type: str
    upload_state: Literal[tuple(Receipt.UploadStatus.values)]  # type: ignore[valid-type]
    error: str | None
    created_at: datetime
    uploaded_at: datetime | None
