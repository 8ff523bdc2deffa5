"""Per-platform field rules for Codat's generic write API (accounts, bank accounts,
suppliers, customers): the `PushOption` model the "options" endpoints return, and
`validate_push()`, which enforces the same rules when a record is pushed.

Where the spec has a per-platform example for `get-create-chartOfAccounts-model` or
`get-create-bankAccounts-model` (Xero, QBO, QBD and Sage Intacct accounts; Dynamics,
FreeAgent and QBD bank accounts; the QBO Sandbox example stands in for QBO bank
accounts) the rules below copy its limits and wording. The spec has no option
examples for suppliers/customers, nor for the other platforms' accounts; those rules
are our own assumptions from each ledger's published field limits, marked "assumed".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from codat_sandbox.errors import validation_item
from codat_sandbox.platforms import PLATFORMS

DATA_TYPES = ("chartOfAccounts", "bankAccounts", "suppliers", "customers")
_ACCOUNT_LIKE = ("chartOfAccounts", "bankAccounts")

# Active ISO 4217 codes: enough to recognise a made-up or mistyped currency.
_CURRENCY_CODES = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD "
    "BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK "
    "JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK "
    "PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST "
    "XAF XCD XOF XPF YER ZAR ZMW ZWL"
)
CURRENCIES = frozenset(_CURRENCY_CODES.split())

ACCOUNT_TYPES = ("Unknown", "Asset", "Expense", "Income", "Liability", "Equity")
ACCOUNT_STATUSES = ("Unknown", "Active", "Archived", "Pending")
BANK_ACCOUNT_TYPES = ("Unknown", "Credit", "Debit")
CONTACT_STATUSES = ("Unknown", "Active", "Archived")
ADDRESS_TYPES = ("Unknown", "Billing", "Delivery")

# The categories the spec's Xero example offers.
XERO_CATEGORIES = (
    "Asset.Current",
    "Asset.Fixed",
    "Asset.Inventory",
    "Asset.NonCurrent",
    "Asset.Prepayment",
    "Expense.DirectCosts",
    "Expense.Expense",
    "Expense.Overhead",
    "Expense.Superannuation",
    "Expense.Wages",
    "Income.Sales",
    "Income.Revenue",
    "Income.Other",
    "Liability.Current",
    "Liability.Depreciation",
    "Liability.Liability",
    "Liability.NonCurrent",
    "Liability.PayAsYouGo",
    "Liability.Superannuation",
    "Liability.WagesPayable",
    "Equity.Equity",
)
# The categories the spec's QuickBooks Desktop example offers.
QBD_CATEGORIES = (
    "Asset.AccountsReceivable",
    "Asset.FixedAsset",
    "Asset.OtherCurrentAsset",
    "Asset.OtherAsset",
    "Income.Income",
    "Income.OtherIncome",
    "Liability.AccountsPayable",
    "Liability.CreditCard",
    "Liability.LongTermLiability",
    "Liability.OtherCurrentLiability",
    "Liability.CostOfGoodsSold",
    "Equity.Equity",
    "Expense.Expense",
    "Expense.OtherExpense",
)


@dataclass(frozen=True)
class FieldRule:
    name: str  # camelCase property of the record
    display: str
    description: str
    type: str = "String"  # PushOption type
    required: bool = False
    max_length: int | None = None
    unique: bool = False  # no other record of the data type may have the same value
    options: tuple[str, ...] | None = None  # exact allowed values
    # A fullyQualifiedCategory must start with one of the account types (used where the
    # platform's own list is too long or unknown to us).
    category_prefix: bool = False
    currency: bool = False  # ISO 4217
    email: bool = False
    warnings: tuple[str, ...] = field(default=())  # extra details shown as warnings
    information: tuple[str, ...] = field(default=())  # extra details shown as information


@dataclass(frozen=True)
class Model:
    display: str
    description: str
    fields: tuple[FieldRule, ...]


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


# --- chart of accounts -------------------------------------------------------------

_ACCOUNT_DISPLAY = "Nominal Account"
_ACCOUNT_DESCRIPTION = "Nominal Accounts are the categories a business uses to record transactions"
_NOMINAL = "The external reference given to each nominal account for a business"
_FQC = "The full category of the account e.g. Liability.Current or Income.Revenue"


def _account_model(*fields: FieldRule) -> Model:
    return Model(_ACCOUNT_DISPLAY, _ACCOUNT_DESCRIPTION, fields)


_ACCOUNTS: dict[str, Model] = {
    "gbol": _account_model(
        FieldRule(
            "nominalCode",
            "Nominal Code",
            "Identifier for the nominal account.",
            required=True,
            max_length=10,
            unique=True,
        ),
        FieldRule(
            "name",
            "Name",
            "Name of account as it appears in the chart of accounts or general ledger.",
            required=True,
            max_length=150,  # Xero's own limit on account names
            unique=True,
            information=(
                "Payments are enabled to this account if the name ends in .PaymentsEnabled.",
            ),
        ),
        FieldRule(
            "description", "Description", "Description for the nominal account.", max_length=4000
        ),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            "Account type and category for nominal account.",
            required=True,
            options=XERO_CATEGORIES,
        ),
    ),
    "qhyg": _account_model(
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, max_length=7),
        FieldRule(
            "name", "Name", "Name of the account", required=True, max_length=100, unique=True
        ),
        FieldRule(
            "currency",
            "Currency",
            "The currency of the account",
            currency=True,
            information=("When not specified company base currency will be used",),
        ),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
    "pqsw": _account_model(
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, required=True, max_length=7),
        FieldRule("name", "Name", "Name of the account", required=True, max_length=31, unique=True),
        FieldRule("description", "Description", "Description of the account", max_length=200),
        FieldRule(
            "currency",
            "Currency",
            "The currency of the account",
            currency=True,
            information=(
                "If not set, will default to the base currency of the QuickBooks Desktop company",
            ),
        ),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            options=QBD_CATEGORIES,
        ),
        FieldRule(
            "currentBalance", "Current Balance", "The current balance in the account", type="Number"
        ),
    ),
    "knfz": _account_model(
        FieldRule(
            "nominalCode",
            "Nominal Code",
            _NOMINAL,
            required=True,
            max_length=24,
            unique=True,
            warnings=("Must be unique within the entity.",),
        ),
        FieldRule("name", "Name", "Name of the account", required=True),
        FieldRule(
            "status",
            "Account Status",
            "The status of the account",
            required=True,
            options=("Active", "Archived"),
        ),
        FieldRule(
            "type",
            "Account Type",
            "The type, or base category, of the account",
            required=True,
            options=("Asset", "Equity", "Expense", "Income", "Liability"),
        ),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
    # Assumed: NetSuite account names and numbers are limited to 60 characters.
    "akxx": _account_model(
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, max_length=60, unique=True),
        FieldRule("name", "Name", "Name of the account", required=True, max_length=60, unique=True),
        FieldRule(
            "type",
            "Account Type",
            "The type, or base category, of the account",
            required=True,
            options=ACCOUNT_TYPES[1:],
        ),
        FieldRule("currency", "Currency", "The currency of the account", currency=True),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
    # Assumed: Business Central G/L account No. is Code[20], Name is Text[100].
    "trji": _account_model(
        FieldRule(
            "nominalCode", "Nominal Code", _NOMINAL, required=True, max_length=20, unique=True
        ),
        FieldRule("name", "Name", "Name of the account", required=True, max_length=100),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
    # Assumed: FreeAgent custom categories take a 3-character nominal code.
    "fbrh": _account_model(
        FieldRule(
            "nominalCode", "Nominal Code", _NOMINAL, required=True, max_length=3, unique=True
        ),
        FieldRule(
            "name", "Name", "Name of the account", required=True, max_length=100, unique=True
        ),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
    # Assumed: Zoho Books account names are unique and at most 100 characters.
    "rwuv": _account_model(
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, max_length=24),
        FieldRule(
            "name", "Name", "Name of the account", required=True, max_length=100, unique=True
        ),
        FieldRule("currency", "Currency", "The currency of the account", currency=True),
        FieldRule(
            "fullyQualifiedCategory",
            "Fully Qualified Category",
            _FQC,
            required=True,
            category_prefix=True,
        ),
    ),
}

# --- bank accounts -----------------------------------------------------------------

_BANK_DISPLAY = "Bank Account"
_BANK_DESCRIPTION = "An account that bank transactions may be recorded against"
_BANK_NAME = "The name of the bank account in the originating system"
_BANK_CURRENCY = "The currency of the bank account"


def _bank_model(*fields: FieldRule) -> Model:
    return Model(_BANK_DISPLAY, _BANK_DESCRIPTION, fields)


def _bank_type(required: bool = False) -> FieldRule:
    return FieldRule(
        "accountType",
        "Account Type",
        "Credit for cards, Debit for current accounts",
        required=required,
        options=BANK_ACCOUNT_TYPES,
    )


_BANK_ACCOUNTS: dict[str, Model] = {
    "trji": _bank_model(
        FieldRule(
            "accountName",
            "Name",
            _BANK_NAME,
            required=True,
            max_length=100,
            information=("Needs to be of the format '{No.}-{Name}'",),
        ),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        FieldRule("accountNumber", "Account Number", "The account number for the bank account"),
        FieldRule(
            "nominalCode",
            "Nominal Code",
            _NOMINAL,
            information=("Bank Account Posting Group with Nominal Account must exist",),
        ),
        FieldRule("sortCode", "Sort Code", "The sort code for the bank account", max_length=20),
        FieldRule("iBan", "IBAN", "The international bank account number of the account"),
        FieldRule(
            "overdraftLimit",
            "Overdraft Limit",
            "The pre-arranged overdraft limit of the account",
            type="Number",
            information=("Default value is 0",),
        ),
    ),
    "fbrh": _bank_model(
        FieldRule("accountName", "Name", _BANK_NAME, required=True),
        FieldRule("sortCode", "Sort Code", "The sort code for the bank account", max_length=8),
        FieldRule("accountNumber", "Account Number", "The account number for the bank account"),
        FieldRule("iBan", "IBAN", "The international bank account number of the account"),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        FieldRule(
            "balance",
            "Balance",
            "The balance of the bank account",
            type="Number",
            information=("The opening balance, in the account currency",),
        ),
        FieldRule("institution", "Institution", "The institution of the bank account"),
    ),
    "pqsw": _bank_model(
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, required=True, max_length=7),
        FieldRule("accountName", "Name", _BANK_NAME, required=True, max_length=31, unique=True),
        FieldRule("currency", "Currency", _BANK_CURRENCY, currency=True),
        FieldRule("balance", "Balance", "The balance of the bank account", type="Number"),
    ),
    # From the spec's "QuickBooks Online Sandbox" example (no plain QBO example exists).
    "qhyg": _bank_model(
        FieldRule(
            "accountName",
            "Account Name",
            "Name of account as it appears in the chart of accounts or general ledger.",
            required=True,
            max_length=100,
            unique=True,
        ),
        FieldRule(
            "accountNumber",
            "Account Number",
            "User-defined account number to help the user in identifying the account.",
            required=True,
        ),
        FieldRule(
            "currency", "Currency", "Currency of the bank account.", required=True, currency=True
        ),
    ),
    # Assumed for the rest: a name (unique, platform length limit), currency, card type.
    "gbol": _bank_model(
        FieldRule("accountName", "Name", _BANK_NAME, required=True, max_length=150, unique=True),
        FieldRule(
            "accountNumber",
            "Account Number",
            "The account number for the bank account",
            required=True,
        ),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        _bank_type(),
    ),
    "akxx": _bank_model(
        FieldRule("accountName", "Name", _BANK_NAME, required=True, max_length=60, unique=True),
        FieldRule("nominalCode", "Nominal Code", _NOMINAL, max_length=60),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        _bank_type(),
    ),
    "knfz": _bank_model(
        FieldRule("accountName", "Name", _BANK_NAME, required=True, max_length=100, unique=True),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        _bank_type(required=True),
    ),
    "rwuv": _bank_model(
        FieldRule("accountName", "Name", _BANK_NAME, required=True, max_length=100, unique=True),
        FieldRule("currency", "Currency", _BANK_CURRENCY, required=True, currency=True),
        _bank_type(),
    ),
}

# --- suppliers and customers ---------------------------------------------------------
# Assumed limits on the contact's display name, from each ledger's API documentation.
_CONTACT_NAME_MAX = {
    "gbol": 255,
    "qhyg": 500,
    "akxx": 83,
    "knfz": 100,
    "pqsw": 41,
    "trji": 100,
    "fbrh": 255,
    "rwuv": 200,
}


def _contact_model(platform_key: str, customer: bool) -> Model:
    word = "Customer" if customer else "Supplier"
    name_field = "customerName" if customer else "supplierName"
    return Model(
        word,
        (
            "Customers are people or organizations that buy goods or services from the SMB."
            if customer
            else "Suppliers are people or organizations that provide something, such as a "
            "product or service."
        ),
        (
            FieldRule(
                name_field,
                f"{word} Name",
                f"Name of the {word.lower()} as recorded in the accounting system.",
                required=True,
                max_length=_CONTACT_NAME_MAX[platform_key],
                unique=True,
            ),
            FieldRule(
                "contactName", "Contact Name", f"Name of the main contact for the {word.lower()}."
            ),
            FieldRule(
                "emailAddress",
                "Email Address",
                f"Email address of the {word.lower()}.",
                max_length=255,
                email=True,
            ),
            FieldRule("phone", "Phone", f"Phone number of the {word.lower()}.", max_length=30),
            FieldRule(
                "defaultCurrency",
                "Default Currency",
                "Currency the contact's transactions are recorded in.",
                currency=True,
            ),
            FieldRule(
                "status",
                "Status",
                f"Current state of the {word.lower()}.",
                required=True,
                options=CONTACT_STATUSES,
            ),
            FieldRule(
                "addresses",
                "Addresses",
                "An array of addresses; each needs a type.",
                type="Array",
            ),
        ),
    )


def _model(platform_key: str, data_type: str) -> Model:
    if platform_key not in PLATFORMS:
        raise ValueError(f"unknown platform key {platform_key!r}")
    if data_type == "chartOfAccounts":
        return _ACCOUNTS[platform_key]
    if data_type == "bankAccounts":
        return _BANK_ACCOUNTS[platform_key]
    if data_type in ("suppliers", "customers"):
        return _contact_model(platform_key, customer=data_type == "customers")
    raise ValueError(f"no push model for data type {data_type!r}")


# --- PushOption ----------------------------------------------------------------------


def _details(rule: FieldRule) -> tuple[list[str], list[str]]:
    warnings = list(rule.warnings)
    information = list(rule.information)
    if rule.required:
        information.insert(0, "Must be provided.")
    if rule.max_length is not None:
        warnings.append(f"Max length of {rule.max_length} characters.")
    if rule.unique:
        warnings.append("Must be unique.")
    if rule.currency:
        warnings.append("Must be a three letter ISO 4217 currency code.")
    if rule.email:
        warnings.append("Must be a valid email address.")
    if rule.category_prefix:
        information.append("Must start with Asset, Expense, Income, Liability or Equity.")
    return warnings, information


def _property(rule: FieldRule) -> dict:
    warnings, information = _details(rule)
    prop: dict = {
        "type": rule.type,
        "displayName": rule.display,
        "description": rule.description,
        "required": rule.required,
    }
    if rule.options is not None:
        prop["options"] = [
            {"value": value, "type": "String", "displayName": value, "required": False}
            for value in rule.options
        ]
    if warnings or information:
        field_name = _pascal(rule.name)
        prop["validation"] = {
            "warnings": [{"field": field_name, "details": text} for text in warnings],
            "information": [{"field": field_name, "details": text} for text in information],
        }
    return prop


def push_option(platform_key: str, data_type: str) -> dict:
    """The `PushOption` model of `data_type` on the platform (the options endpoints).

    Raises ValueError for an unknown platform key or a data type without a model.
    """
    model = _model(platform_key, data_type)
    return {
        "type": "Object",
        "displayName": model.display,
        "description": model.description,
        "required": True,
        "properties": {rule.name: _property(rule) for rule in model.fields},
    }


# --- validation ----------------------------------------------------------------------


def _is_number(value: object) -> bool:
    # JSON numbers, Decimals from the seeds, or numeric strings (Codat's decimals are
    # often sent as strings by clients that want exact values).
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return value.strip().lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")
    return False


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_push(
    platform_key: str,
    data_type: str,
    record: Mapping,
    ledger: Mapping[str, Mapping[str, dict]] | None,
    record_id: str | None = None,
) -> list[dict]:
    """Validation errors for pushing `record` (empty list = valid).

    `ledger` is `data type -> id -> record`; it is used for uniqueness. For an update,
    pass the id being updated as `record_id` (or leave it in `record["id"]`) so the
    record is not reported as a duplicate of itself.
    """
    model = _model(platform_key, data_type)
    platform = PLATFORMS[platform_key]
    validator = f"{platform.name.replace(' ', '')}{_pascal(data_type)}Validator"
    own_id = record_id or record.get("id")
    others = [r for rid, r in ((ledger or {}).get(data_type) or {}).items() if rid != own_id]
    errors: list[dict] = []

    def error(field: str, message: str) -> None:
        # itemId names the field at fault (as the request validator's items do), so a client
        # can point at it; the record itself is the operation's.
        errors.append(validation_item(field, message, validator))

    for rule in model.fields:
        value = record.get(rule.name)
        label = rule.display
        if _blank(value):
            if rule.required:
                error(rule.name, f"{label} must be provided.")
            continue
        if rule.type == "Number":
            if not _is_number(value):
                error(rule.name, f"{label} must be a number.")
            continue
        if rule.type == "Array":
            if rule.name == "addresses":
                _check_addresses(value, error)
            continue
        if not isinstance(value, str):
            error(rule.name, f"{label} must be a string.")
            continue
        if rule.max_length is not None and len(value) > rule.max_length:
            error(
                rule.name,
                f"{label} must be at most {rule.max_length} characters long (got {len(value)}).",
            )
        if rule.options is not None and value not in rule.options:
            error(rule.name, f"{label} '{value}' is not one of: {', '.join(rule.options)}.")
        if rule.category_prefix and value.split(".")[0] not in ACCOUNT_TYPES[1:]:
            error(
                rule.name,
                f"{label} '{value}' must start with Asset, Expense, Income, Liability or Equity.",
            )
        if rule.currency and value not in CURRENCIES:
            error(rule.name, f"{label} '{value}' is not a valid ISO 4217 currency code.")
        if rule.email and ("@" not in value or value.startswith("@") or value.endswith("@")):
            error(rule.name, f"{label} '{value}' is not a valid email address.")
        if rule.unique:
            wanted = value.strip().casefold()
            if any(str(r.get(rule.name) or "").strip().casefold() == wanted for r in others):
                error(rule.name, f"{label} '{value}' is already used by another record.")

    # Fields every model of the data type has in Codat's schema, checked even where the
    # platform model does not list them: enum values and currencies must be valid.
    covered = {rule.name for rule in model.fields}
    shared = {
        "chartOfAccounts": [
            ("type", "Account type", ACCOUNT_TYPES),
            ("status", "Account status", ACCOUNT_STATUSES),
        ],
        "bankAccounts": [
            ("accountType", "Account type", BANK_ACCOUNT_TYPES),
            ("status", "Status", ACCOUNT_STATUSES),
        ],
    }.get(data_type, [])
    for name, label, allowed in shared:
        value = record.get(name)
        if name not in covered and value is not None and value not in allowed:
            error(name, f"{label} '{value}' is not one of: {', '.join(allowed)}.")
    currency = record.get("currency")
    if (
        data_type in _ACCOUNT_LIKE
        and "currency" not in covered
        and not _blank(currency)
        and currency not in CURRENCIES
    ):
        error("currency", f"Currency '{currency}' is not a valid ISO 4217 currency code.")
    return errors


def _check_addresses(value: object, error) -> None:
    if not isinstance(value, list):
        error("addresses", "Addresses must be an array.")
        return
    for n, address in enumerate(value):
        kind = address.get("type") if isinstance(address, Mapping) else None
        if kind not in ADDRESS_TYPES:
            error(
                f"addresses[{n}].type",
                f"Address {n + 1} needs a type of Unknown, Billing or Delivery.",
            )
