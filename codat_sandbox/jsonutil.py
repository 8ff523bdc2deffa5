"""JSON in and out of the sandbox with money kept as Decimal.

Codat declares amounts as `number, format: decimal`. Requests are parsed with parse_float=Decimal
so 0.1 + 0.2 never becomes 0.30000000000000004 in a ledger; on the way out a Decimal is written as
a JSON number (through float, whose repr round-trips every amount with up to 15 significant
digits, which covers any ledger amount).
"""

import datetime
import json
import uuid
from decimal import Decimal


class CodatJSONEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return int(o) if o == o.to_integral_value() and abs(o) < 2**53 else float(o)
        if isinstance(o, datetime.datetime):
            return format_datetime(o)
        if isinstance(o, datetime.date):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        return super().default(o)


class DecimalJSONDecoder(json.JSONDecoder):
    """Used by the models' JSONFields so stored amounts come back as Decimal."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


def dumps(value) -> str:
    return json.dumps(value, cls=CodatJSONEncoder, separators=(",", ":"))


def loads(text: str | bytes):
    return json.loads(text, parse_float=Decimal)


def format_datetime(value: datetime.datetime | None) -> str | None:
    """Codat writes UTC instants as 2024-05-21T10:15:00Z."""
    if value is None:
        return None
    value = value.astimezone(datetime.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"
