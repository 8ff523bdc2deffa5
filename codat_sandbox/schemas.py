"""Request-body schemas from Codat-Sync-Expenses.yaml, and a small validator for them.

Only the JSON Schema keywords the spec uses on request bodies are supported. Property names
are matched case-insensitively (Codat's own docs post `"From"`/`"AccountRef"` and the server
accepts them), and the validator returns a copy with the spec's casing so the rest of the
sandbox reads one spelling.
"""

import datetime
import re
import uuid
from decimal import Decimal

from django.utils.dateparse import parse_date, parse_datetime

from . import jsonutil
from .errors import validation_item

UUID = {"type": "string", "format": "uuid"}
DATE = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
STRING = {"type": "string"}
N_STRING = {"type": "string", "nullable": True}
BOOL = {"type": "boolean"}
RECORD_REF = {"type": "object", "properties": {"id": STRING}}
N_RECORD_REF = {**RECORD_REF, "nullable": True}
REQUIRED_REF = {"type": "object", "required": ["id"], "properties": {"id": STRING}}
INVOICE_TO = {
    "type": "object",
    "nullable": True,
    "properties": {"id": STRING, "type": {"type": "string", "enum": ["customer"]}},
}


def _tracking(data_types):
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": 10,
        "nullable": True,
        "items": {
            "type": "object",
            "properties": {"id": STRING, "dataType": {"type": "string", "enum": data_types}},
        },
    }


TRANSACTION_TYPE = {"type": "string", "enum": ["Payment", "Refund", "Reward", "Chargeback"]}
NULLABLE_NUMBER = {"type": "number", "nullable": True}

EXPENSE_LINE = {
    "type": "object",
    "required": ["netAmount"],
    "properties": {
        "netAmount": NUMBER,
        "taxAmount": NUMBER,
        "taxRateRef": RECORD_REF,
        "accountRef": RECORD_REF,
        "itemRef": N_RECORD_REF,
        "trackingRefs": _tracking(["trackingCategories", "customers"]),
        "invoiceTo": INVOICE_TO,
    },
}
EXPENSE_CONTACT_REF = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": STRING, "type": {"type": "string", "enum": ["Supplier"]}},
}

EXPENSE_TRANSACTION = {
    "type": "object",
    "required": ["id", "type", "issueDate", "currency"],
    "properties": {
        "id": UUID,
        "type": TRANSACTION_TYPE,
        "issueDate": DATE,
        "currency": STRING,
        "currencyRate": NULLABLE_NUMBER,
        "contactRef": EXPENSE_CONTACT_REF,
        "bankAccountRef": RECORD_REF,
        "reference": N_STRING,
        "merchantName": STRING,
        "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": EXPENSE_LINE},
        "notes": STRING,
        "postAsDraft": {"type": "boolean", "nullable": True},
    },
}
CREATE_EXPENSE_REQUEST = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": EXPENSE_TRANSACTION,
}

UPDATE_EXPENSE_REQUEST = {
    "type": "object",
    "required": ["type", "issueDate", "currency"],
    "properties": {
        "type": TRANSACTION_TYPE,
        "issueDate": DATE,
        "currency": STRING,
        "currencyRate": NULLABLE_NUMBER,
        "contactRef": EXPENSE_CONTACT_REF,
        "bankAccountRef": RECORD_REF,
        "merchantName": STRING,
        "lines": {"type": "array", "items": EXPENSE_LINE},
        "notes": STRING,
    },
}

_TRANSFER_SIDE = {
    "type": "object",
    "required": ["accountRef", "amount"],
    "properties": {"accountRef": REQUIRED_REF, "amount": NUMBER},
}
TRANSFER_REQUEST = {
    "type": "object",
    "required": ["date", "from", "to"],
    "properties": {
        "description": STRING,
        "date": DATE,
        "from": _TRANSFER_SIDE,
        "to": _TRANSFER_SIDE,
    },
}

ADJUSTMENT_LINE = {
    "type": "object",
    "required": ["amount", "accountRef"],
    "properties": {
        "amount": NUMBER,
        "accountRef": RECORD_REF,
        "description": STRING,
        "trackingRefs": _tracking(["trackingCategories", "customers", "suppliers"]),
        "invoiceTo": INVOICE_TO,
    },
}
ADJUSTMENT_TRANSACTION = {
    "type": "object",
    "required": ["id", "date", "currency", "lines"],
    "properties": {
        "id": UUID,
        "date": DATE,
        "currency": STRING,
        "currencyRate": NULLABLE_NUMBER,
        "reference": N_STRING,
        "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": ADJUSTMENT_LINE},
    },
}
CREATE_ADJUSTMENT_REQUEST = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": ADJUSTMENT_TRANSACTION,
}

REIMBURSABLE_LINE = {
    "type": "object",
    "required": ["netAmount"],
    "properties": {
        "description": STRING,
        "netAmount": NUMBER,
        "taxAmount": NUMBER,
        "taxRateRef": RECORD_REF,
        "accountRef": RECORD_REF,
        "itemRef": N_RECORD_REF,
        "trackingRefs": _tracking(["trackingCategories", "customers"]),
        "invoiceTo": INVOICE_TO,
    },
}
_REIMBURSABLE_FIELDS = {
    "reference": N_STRING,
    "contactRef": REQUIRED_REF,
    "apAccountRef": N_RECORD_REF,
    "issueDate": DATE,
    "dueDate": DATE,
    "currency": STRING,
    "currencyRate": NULLABLE_NUMBER,
    "notes": STRING,
    "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": REIMBURSABLE_LINE},
}
REIMBURSABLE_TRANSACTION = {
    "type": "object",
    "required": ["id", "contactRef", "issueDate", "dueDate", "currency"],
    "properties": {"id": UUID, **_REIMBURSABLE_FIELDS},
}
CREATE_REIMBURSABLE_REQUEST = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": REIMBURSABLE_TRANSACTION,
}
UPDATE_REIMBURSABLE_REQUEST = {
    "type": "object",
    "required": ["contactRef", "issueDate", "dueDate", "currency"],
    "properties": _REIMBURSABLE_FIELDS,
}

# The spec sets no maximum length on a company name; the sandbox's column holds 200 characters,
# and a longer name must be a 400 rather than a database error.
COMPANY_NAME_MAX = 200
COMPANY_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": COMPANY_NAME_MAX,
    "pattern": r"^[A-Za-z0-9\s\-',&@.,?!\s]+$",
}
TAGS = {
    "type": "object",
    "maxProperties": 10,
    "keyPattern": r"^.{1,27}$",
    "additionalProperties": {"type": "string", "maxLength": 100},
}
COMPANY_REQUEST = {
    "type": "object",
    "required": ["name"],
    # The name pattern is not checked on create: Codat strips forbidden characters instead.
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": COMPANY_NAME_MAX},
        "description": STRING,
        "tags": TAGS,
    },
}
COMPANY_UPDATE_REQUEST = {
    "type": "object",
    "properties": {
        "name": {**COMPANY_NAME, "nullable": True},
        "description": N_STRING,
        "tags": {**TAGS, "nullable": True},
    },
}

CREATE_CONNECTION_REQUEST = {
    "type": "object",
    "required": ["platformKey"],
    "properties": {"platformKey": {"type": "string", "pattern": r"^[a-z]{4}$"}},
}
UNLINK_CONNECTION_REQUEST = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["PendingAuth", "Linked", "Unlinked", "Deauthorized"]}
    },
}

COMPANY_CONFIGURATION = {
    "type": "object",
    "required": ["bankAccount", "supplier", "customer"],
    "properties": {
        "bankAccount": {"type": "object", "required": ["id"], "properties": {"id": STRING}},
        "supplier": {"type": "object", "required": ["id"], "properties": {"id": STRING}},
        "customer": {"type": "object", "required": ["id"], "properties": {"id": STRING}},
    },
}

_ADDRESS = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["Unknown", "Billing", "Delivery"]},
        "line1": N_STRING,
        "line2": N_STRING,
        "city": N_STRING,
        "region": N_STRING,
        "country": N_STRING,
        "postalCode": N_STRING,
    },
}
_CONTACT_STATUS = {"type": "string", "enum": ["Unknown", "Active", "Archived"]}
SUPPLIER = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "id": STRING,
        "supplierName": N_STRING,
        "contactName": N_STRING,
        "emailAddress": N_STRING,
        "phone": N_STRING,
        "addresses": {"type": "array", "nullable": True, "items": _ADDRESS},
        "registrationNumber": N_STRING,
        "taxNumber": N_STRING,
        "status": _CONTACT_STATUS,
        "defaultCurrency": N_STRING,
        # Echoed from the record as read; an update checks it against the ledger's (forceUpdate).
        "sourceModifiedDate": {**DATE, "nullable": True},
    },
}
CUSTOMER = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "id": STRING,
        "customerName": N_STRING,
        "contactName": N_STRING,
        "emailAddress": N_STRING,
        "defaultCurrency": N_STRING,
        "phone": N_STRING,
        "addresses": {"type": "array", "nullable": True, "items": _ADDRESS},
        "contacts": {
            "type": "array",
            "nullable": True,
            "items": {
                "type": "object",
                "required": ["status"],
                "properties": {"name": N_STRING, "email": N_STRING, "status": _CONTACT_STATUS},
            },
        },
        "registrationNumber": N_STRING,
        "taxNumber": N_STRING,
        "status": _CONTACT_STATUS,
        "sourceModifiedDate": {**DATE, "nullable": True},
    },
}
BANK_ACCOUNT = {
    "type": "object",
    "properties": {
        "accountName": N_STRING,
        "accountType": {"type": "string", "enum": ["Unknown", "Credit", "Debit"]},
        "nominalCode": N_STRING,
        "sortCode": N_STRING,
        "accountNumber": N_STRING,
        "iBan": N_STRING,
        "currency": STRING,
        "balance": NULLABLE_NUMBER,
        "institution": N_STRING,
        "availableBalance": NULLABLE_NUMBER,
        "overdraftLimit": NULLABLE_NUMBER,
        "status": {"type": "string", "enum": ["Unknown", "Active", "Archived", "Pending"]},
    },
}
ACCOUNT_PROTOTYPE = {
    "type": "object",
    "properties": {
        "nominalCode": N_STRING,
        "name": N_STRING,
        "description": N_STRING,
        "fullyQualifiedCategory": N_STRING,
        "fullyQualifiedName": N_STRING,
        "currency": STRING,
        "currentBalance": NULLABLE_NUMBER,
        "type": {
            "type": "string",
            "enum": ["Unknown", "Asset", "Expense", "Income", "Liability", "Equity"],
        },
        "status": {"type": "string", "enum": ["Unknown", "Active", "Archived", "Pending"]},
        "isBankAccount": BOOL,
        "validDatatypeLinks": {"type": "array", "nullable": True},
    },
}

_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
}


def _type_ok(value, expected: str) -> bool:
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return (
            isinstance(value, (int, float, Decimal))
            and not isinstance(value, bool)
            and jsonutil.is_storable_number(value)
        )
    return True


def parse_codat_datetime(value: str) -> datetime.datetime | None:
    """Codat dates: `...Z`, offsets, unqualified local time, or a bare date.

    None when the text is not a date, including a well-formed one that names no real day
    (`2026-13-45`): Django's parsers raise ValueError for those rather than returning None.
    """
    try:
        parsed = parse_datetime(value.strip())
        if parsed is None:
            day = parse_date(value.strip())
            if day is None:
                return None
            parsed = datetime.datetime(day.year, day.month, day.day)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def validate(schema: dict, value) -> tuple[object, list[dict]]:
    """Return (normalised value, validation items); no items means the value is valid."""
    errors: list[dict] = []
    result = _validate(schema, value, "", errors)
    return result, errors


def _item(path: str, message: str, validator: str) -> dict:
    return validation_item(path or "body", message, validator)


def _validate(schema: dict, value, path: str, errors: list[dict]):
    name = path.rsplit(".", 1)[-1] or "body"
    if value is None:
        if not schema.get("nullable"):
            errors.append(_item(path, f"The {name} field must not be null.", "NotNullValidator"))
        return None
    expected = schema.get("type")
    if expected and not _type_ok(value, expected):
        errors.append(
            _item(path, f"The {name} field must be {_TYPE_NAMES[expected]}.", "TypeValidator")
        )
        return value
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(schema["enum"])
        errors.append(_item(path, f"The {name} field must be one of: {allowed}.", "EnumValidator"))
    if expected == "string":
        if len(value) < schema.get("minLength", 0):
            errors.append(_item(path, f"The {name} field is required.", "LengthValidator"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(
                _item(
                    path,
                    f"The {name} field must be at most {schema['maxLength']} characters.",
                    "LengthValidator",
                )
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(_item(path, f"The {name} field is not in a valid format.", "Regex"))
        if schema.get("format") == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                errors.append(_item(path, f"The {name} field must be a valid UUID.", "Guid"))
        if schema.get("format") == "date-time" and parse_codat_datetime(value) is None:
            errors.append(_item(path, f"The {name} field must be a valid date.", "DateValidator"))
        return value
    if expected == "array":
        if len(value) < schema.get("minItems", 0):
            errors.append(
                _item(
                    path,
                    f"The {name} field must contain at least {schema['minItems']} item(s).",
                    "MinItemsValidator",
                )
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(
                _item(
                    path,
                    f"The {name} field must contain at most {schema['maxItems']} items.",
                    "MaxItemsValidator",
                )
            )
        items = schema.get("items")
        if items:
            return [_validate(items, v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return value
    if expected == "object":
        return _validate_object(schema, value, path, name, errors)
    return value


def _validate_object(schema: dict, value: dict, path: str, name: str, errors: list[dict]):
    properties = schema.get("properties", {})
    by_lower = {key.lower(): key for key in properties}
    result = {}
    for key, item in value.items():
        canonical = key if key in properties else by_lower.get(key.lower(), key)
        child_path = f"{path}.{canonical}" if path else canonical
        if canonical in properties:
            result[canonical] = _validate(properties[canonical], item, child_path, errors)
        elif isinstance(schema.get("additionalProperties"), dict):
            if "keyPattern" in schema and not re.fullmatch(schema["keyPattern"], key):
                errors.append(_item(child_path, f"The key {key} is not valid.", "KeyValidator"))
            result[key] = _validate(schema["additionalProperties"], item, child_path, errors)
        else:
            result[key] = item  # unknown properties are ignored, as Codat does
    for required in schema.get("required", []):
        if result.get(required) is None and required not in result:
            child_path = f"{path}.{required}" if path else required
            errors.append(
                _item(child_path, f"The {required} field is required.", "RequiredValidator")
            )
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(
            _item(
                path,
                f"The {name} field can have at most {schema['maxProperties']} entries.",
                "MaxPropertiesValidator",
            )
        )
    return result
