"""Shapes of Codat's Expenses API, field for field as on the wire (camelCase).

These are TypedDicts so callers build plain dicts with editor help and the client returns the
parsed JSON unchanged. Numbers marked ``format: decimal`` in the spec arrive as ``Decimal``
(the client parses floats that way); integers stay ``int``. Dates stay ISO 8601 strings because
Codat mixes ``Z``, offsets and unqualified local times (codat-api.md section 2) and only the
caller knows which interpretation it needs.

Responses are declared ``total=False``: Codat marks few fields required and omits or nulls
others freely, so callers should use ``.get`` for anything not marked ``Required``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, NotRequired, Required, TypedDict

# --- Shared pieces --------------------------------------------------------------------------------


class RecordRef(TypedDict):
    id: str


class Link(TypedDict):
    href: str


class PagingLinks(TypedDict, total=False):
    self: Required[Link]
    current: Required[Link]
    next: Link
    previous: Link


class Page[T](TypedDict, total=False):
    """A page of any list endpoint: ``results`` plus Codat's ``PagingInfo``."""

    results: Required[list[T]]
    pageNumber: Required[int]
    pageSize: Required[int]
    totalResults: Required[int]
    _links: PagingLinks


class ValidationItem(TypedDict, total=False):
    itemId: str | None
    message: str | None
    validatorName: str | None


class Validation(TypedDict, total=False):
    errors: list[ValidationItem] | None
    warnings: list[ValidationItem] | None


class ErrorMessage(TypedDict, total=False):
    """Body of every 4xx/5xx; Codat marks no field required."""

    statusCode: int
    service: str
    error: str
    correlationId: str
    validation: Validation | None
    canBeRetried: str
    detailedErrorCode: int


# --- Companies and connections --------------------------------------------------------------------

ConnectionStatus = Literal["PendingAuth", "Linked", "Unlinked", "Deauthorized"]
SourceType = Literal["Accounting", "Banking", "BankFeed", "Commerce", "Expense", "Other", "Unknown"]


class DataConnectionError(TypedDict, total=False):
    statusCode: str
    statusText: str
    errorMessage: str
    erroredOnUtc: str
    status: Literal["Active", "Resolved"] | None
    resolvedOnUtc: str


class Connection(TypedDict, total=False):
    id: Required[str]
    integrationId: Required[str]
    integrationKey: str
    sourceId: Required[str]
    sourceType: Required[SourceType]
    platformName: Required[str]
    linkUrl: Required[str]
    status: Required[ConnectionStatus]
    lastSync: str | None
    created: Required[str]
    dataConnectionErrors: list[DataConnectionError] | None
    connectionInfo: dict[str, Any] | None


class CompanyReference(TypedDict, total=False):
    id: str
    name: str
    description: str
    links: dict[str, str]
    tags: dict[str, str]


class Company(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    description: str
    redirect: Required[str]
    lastSync: str | None
    created: str
    createdByUserName: str | None
    products: list[str]
    tags: dict[str, str]
    referenceParentCompany: CompanyReference | None
    referenceSubsidiaryCompanies: list[CompanyReference]
    dataConnections: list[Connection]


class CompanyRequestBody(TypedDict):
    """Body of create and replace (PUT): fields left out are cleared on replace."""

    name: str
    description: NotRequired[str]
    tags: NotRequired[dict[str, str]]


class CompanyUpdateRequest(TypedDict, total=False):
    """Body of update (PATCH): omitted or null fields are left as they are."""

    name: str
    description: str | None
    tags: dict[str, str] | None


class CompanyAddress(TypedDict, total=False):
    type: str
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    country: str | None
    postalCode: str | None


class CompanyInformation(TypedDict, total=False):
    companyName: str | None
    accountingPlatformRef: str | None
    companyLegalName: str | None
    addresses: list[CompanyAddress] | None
    phoneNumbers: list[dict[str, Any]] | None
    webLinks: list[dict[str, Any]] | None
    ledgerLockDate: str | None
    registrationNumber: str | None
    taxNumber: str | None
    financialYearStartDate: str | None
    baseCurrency: str | None
    sourceUrls: dict[str, str] | None
    createdDate: str | None
    supplementalData: dict[str, Any] | None


# --- Mapping and configuration --------------------------------------------------------------------

TransactionType = Literal["Payment", "Refund", "Reward", "Chargeback"]
AccountType = Literal["Asset", "Liability", "Income", "Expense", "Equity"]


class AccountMappingInfo(TypedDict, total=False):
    id: str
    nominalCode: str | None
    name: str | None
    currency: str | None
    accountType: AccountType | None
    fullyQualifiedCategory: str | None
    isBankAccount: bool
    validTransactionTypes: list[TransactionType] | None
    validFor: list[str] | None


class TrackingCategoryMappingInfo(TypedDict, total=False):
    id: str
    name: str | None
    hasChildren: bool
    parentId: str | None


class TaxRateMappingInfo(TypedDict, total=False):
    id: str
    name: str | None
    code: str | None
    effectiveTaxRate: Decimal
    totalTaxRate: Decimal
    validTransactionTypes: list[TransactionType] | None


class MappingOptions(TypedDict, total=False):
    expenseProvider: str | None
    accounts: list[AccountMappingInfo] | None
    trackingCategories: list[TrackingCategoryMappingInfo] | None
    taxRates: list[TaxRateMappingInfo] | None


class CompanyConfiguration(TypedDict):
    bankAccount: RecordRef
    supplier: RecordRef
    customer: RecordRef


# --- Transactions ---------------------------------------------------------------------------------


class TrackingRef(TypedDict):
    id: str
    dataType: NotRequired[Literal["trackingCategories", "customers", "suppliers"]]


class InvoiceTo(TypedDict):
    id: str
    type: NotRequired[Literal["customer"]]


class ExpenseContactRef(TypedDict):
    id: str
    type: NotRequired[Literal["Supplier"]]


class ExpenseTransactionLine(TypedDict):
    netAmount: Decimal
    taxAmount: NotRequired[Decimal]
    taxRateRef: NotRequired[RecordRef]
    accountRef: NotRequired[RecordRef]
    itemRef: NotRequired[RecordRef | None]
    trackingRefs: NotRequired[list[TrackingRef] | None]
    invoiceTo: NotRequired[InvoiceTo | None]


class ExpenseTransaction(TypedDict):
    id: str
    type: TransactionType
    issueDate: str
    currency: str
    currencyRate: NotRequired[Decimal | None]
    contactRef: NotRequired[ExpenseContactRef]
    bankAccountRef: NotRequired[RecordRef]
    reference: NotRequired[str | None]
    merchantName: NotRequired[str]
    lines: NotRequired[list[ExpenseTransactionLine]]
    notes: NotRequired[str]
    postAsDraft: NotRequired[bool | None]


class UpdateExpenseRequest(TypedDict):
    """PUT body: an ``ExpenseTransaction`` without ``id``, ``reference`` and ``postAsDraft``."""

    type: TransactionType
    issueDate: str
    currency: str
    currencyRate: NotRequired[Decimal | None]
    contactRef: NotRequired[ExpenseContactRef]
    bankAccountRef: NotRequired[RecordRef]
    merchantName: NotRequired[str]
    lines: NotRequired[list[ExpenseTransactionLine]]
    notes: NotRequired[str]


class ReimbursableExpenseLine(TypedDict):
    netAmount: Decimal
    description: NotRequired[str]
    taxAmount: NotRequired[Decimal]
    taxRateRef: NotRequired[RecordRef]
    accountRef: NotRequired[RecordRef]
    itemRef: NotRequired[RecordRef | None]
    trackingRefs: NotRequired[list[TrackingRef] | None]
    invoiceTo: NotRequired[InvoiceTo | None]


class ReimbursableExpenseTransaction(TypedDict):
    id: str
    contactRef: RecordRef
    issueDate: str
    dueDate: str
    currency: str
    reference: NotRequired[str | None]
    apAccountRef: NotRequired[RecordRef | None]
    currencyRate: NotRequired[Decimal | None]
    notes: NotRequired[str]
    lines: NotRequired[list[ReimbursableExpenseLine]]


class UpdateReimbursableExpenseRequest(TypedDict):
    contactRef: RecordRef
    issueDate: str
    dueDate: str
    currency: str
    reference: NotRequired[str | None]
    apAccountRef: NotRequired[RecordRef | None]
    currencyRate: NotRequired[Decimal | None]
    notes: NotRequired[str]
    lines: NotRequired[list[ReimbursableExpenseLine]]


class AdjustmentTransactionLine(TypedDict):
    amount: Decimal
    accountRef: RecordRef
    description: NotRequired[str]
    trackingRefs: NotRequired[list[TrackingRef] | None]
    invoiceTo: NotRequired[InvoiceTo | None]


class AdjustmentTransaction(TypedDict):
    id: str
    date: str
    currency: str
    lines: list[AdjustmentTransactionLine]
    currencyRate: NotRequired[Decimal | None]
    reference: NotRequired[str | None]


class TransferSide(TypedDict):
    accountRef: RecordRef
    amount: Decimal


# ``from`` is a Python keyword, so this one has to use the functional syntax.
TransferTransactionRequest = TypedDict(
    "TransferTransactionRequest",
    {
        "date": str,
        "from": TransferSide,
        "to": TransferSide,
        "description": NotRequired[str],
    },
)


class SyncResponse(TypedDict):
    """What every transaction write returns: the sync it started."""

    syncId: str


# --- Syncs, transaction status, attachments -------------------------------------------------------


class CompanySyncStatus(TypedDict, total=False):
    companyId: str | None
    syncId: str | None
    syncStatusCode: int
    syncStatus: str | None
    errorMessage: str | None
    syncExceptionMessage: str | None
    syncUtc: str | None
    dataPushed: bool


TransactionStatusValue = Literal["Unknown", "Pending", "ValidationError", "Completed", "PushError"]


class TransactionStatus(TypedDict, total=False):
    transactionId: str | None
    status: TransactionStatusValue | None
    message: str | None
    integrationType: Literal["expenses", "bankfeeds"] | None


class Attachment(TypedDict, total=False):
    companyId: str
    id: str
    transactionId: str


# --- Manage data and push operations --------------------------------------------------------------

PullStatus = Literal[
    "Initial",
    "Queued",
    "Fetching",
    "MapQueued",
    "Mapping",
    "Complete",
    "FetchError",
    "MapError",
    "InternalError",
    "ProcessingQueued",
    "Processing",
    "ProcessingError",
    "ValidationQueued",
    "Validating",
    "ValidationError",
    "AuthError",
    "Cancelled",
    "NotSupported",
    "RateLimitError",
    "PermissionsError",
    "PrerequisiteNotMet",
]


class DataStatus(TypedDict, total=False):
    dataType: Required[str]
    currentStatus: Required[PullStatus]
    lastSuccessfulSync: str | None
    latestSyncId: str | None
    latestSuccessfulSyncId: str | None


class PullOperation(TypedDict, total=False):
    id: Required[str]
    companyId: Required[str]
    connectionId: Required[str]
    dataType: Required[str]
    status: Required[PullStatus]
    statusDescription: str | None
    errorMessage: str | None
    requested: Required[str]
    completed: str | None
    progress: Required[int]
    isCompleted: Required[bool]
    isErrored: Required[bool]


PushStatus = Literal["Pending", "Failed", "Success", "TimedOut"]


class PushChange(TypedDict, total=False):
    type: Literal["Unknown", "Created", "Modified", "Deleted", "AttachmentUploaded"]
    recordRef: dict[str, str]
    attachmentId: str | None


class PushOperation(TypedDict, total=False):
    companyId: Required[str]
    pushOperationKey: Required[str]
    dataConnectionKey: Required[str]
    requestedOnUtc: Required[str]
    status: Required[PushStatus]
    statusCode: Required[int]
    changes: list[PushChange] | None
    dataType: str | None
    completedOnUtc: str | None
    timeoutInMinutes: int | None
    timeoutInSeconds: int | None
    errorMessage: str | None
    validation: Validation | None


class PushOption(TypedDict, total=False):
    """Per-platform field requirements for creating a record (the "options" endpoints)."""

    type: Required[str]
    displayName: Required[str]
    description: str | None
    required: Required[bool]
    properties: dict[str, PushOption] | None
    options: list[dict[str, Any]] | None
    validation: dict[str, Any] | None


# --- Ledger records written through the generic push API ------------------------------------------

RecordStatus = Literal["Unknown", "Active", "Archived"]


class Address(TypedDict, total=False):
    type: Required[Literal["Unknown", "Billing", "Delivery"]]
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    country: str | None
    postalCode: str | None


class Supplier(TypedDict, total=False):
    id: str
    supplierName: str | None
    contactName: str | None
    emailAddress: str | None
    phone: str | None
    addresses: list[Address] | None
    registrationNumber: str | None
    taxNumber: str | None
    status: Required[RecordStatus]
    defaultCurrency: str | None
    metadata: dict[str, Any] | None
    supplementalData: dict[str, Any] | None
    modifiedDate: str | None
    sourceModifiedDate: str | None


class CustomerContact(TypedDict, total=False):
    name: str | None
    email: str | None
    phone: list[dict[str, Any]] | None
    address: Address | None
    status: Required[RecordStatus]
    modifiedDate: str | None


class Customer(TypedDict, total=False):
    id: str
    customerName: str | None
    contactName: str | None
    emailAddress: str | None
    defaultCurrency: str | None
    phone: str | None
    addresses: list[Address] | None
    contacts: list[CustomerContact] | None
    registrationNumber: str | None
    taxNumber: str | None
    status: Required[RecordStatus]
    metadata: dict[str, Any] | None
    supplementalData: dict[str, Any] | None
    modifiedDate: str | None
    sourceModifiedDate: str | None


class BankAccount(TypedDict, total=False):
    id: str
    accountName: str | None
    accountType: Literal["Unknown", "Credit", "Debit"]
    nominalCode: str | None
    sortCode: str | None
    accountNumber: str | None
    iBan: str | None
    currency: str
    balance: Decimal | None
    institution: str | None
    availableBalance: Decimal | None
    overdraftLimit: Decimal | None
    status: Literal["Unknown", "Active", "Archived", "Pending"]
    metadata: dict[str, Any] | None
    supplementalData: dict[str, Any] | None
    modifiedDate: str | None
    sourceModifiedDate: str | None


class AccountPrototype(TypedDict, total=False):
    nominalCode: str | None
    name: str | None
    description: str | None
    fullyQualifiedCategory: str | None
    fullyQualifiedName: str | None
    currency: str
    currentBalance: Decimal | None
    type: Literal["Unknown", "Asset", "Expense", "Income", "Liability", "Equity"]
    status: Literal["Unknown", "Active", "Archived", "Pending"]
    isBankAccount: bool
    validDatatypeLinks: list[dict[str, Any]] | None


class CreateAccountResponse(PushOperation, total=False):
    data: AccountPrototype


class CreateBankAccountResponse(PushOperation, total=False):
    data: BankAccount


class SupplierPushResponse(PushOperation, total=False):
    """``CreateSupplierResponse`` and ``UpdateSupplierResponse`` (same shape)."""

    data: Supplier


class CustomerPushResponse(PushOperation, total=False):
    """``CreateCustomerResponse`` and ``UpdateCustomerResponse`` (same shape)."""

    data: Customer


# --- Webhooks -------------------------------------------------------------------------------------


class WebhookEvent(TypedDict, total=False):
    """The envelope every new-style Codat webhook shares; ``payload`` depends on ``eventType``."""

    id: str
    eventType: str
    generatedDate: str
    payload: dict[str, Any]
