"""JSON in and out of the sandbox with money kept as Decimal.

Codat declares amounts as `number, format: decimal`. Requests are parsed with parse_float=Decimal
so 0.1 + 0.2 never becomes 0.30000000000000004 in a ledger; on the way out a Decimal is written as
a JSON number (through float, whose repr round-trips every amount with up to 15 significant
digits, which covers any ledger amount).
"""

import datetime
import json
import math
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


class UnstorableNumber(ValueError):
    """A number JSON can spell but the sandbox cannot keep: NaN, Infinity, or past a double."""


def is_storable_number(value) -> bool:
    """True when the number is finite and survives the trip through float on the way out.

    Stored JSON (SQLite's JSON_VALID check, PostgreSQL's jsonb) refuses NaN and Infinity, and
    the encoder writes non-integral Decimals through float, so 1e400 would become Infinity.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return True
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    return math.isfinite(float(value))


def _parse_float(text: str) -> Decimal:
    value = Decimal(text)
    if not is_storable_number(value):
        raise UnstorableNumber(f"The number {text} is out of range.")
    return value


def _refuse_constant(name: str):
    # json accepts the bare words NaN, Infinity and -Infinity, which are not JSON.
    raise UnstorableNumber(f"{name} is not a JSON number.")


def loads(text: str | bytes):
    return json.loads(text, parse_float=_parse_float, parse_constant=_refuse_constant)


def depth(value) -> int:
    """How deeply arrays and objects nest in a parsed value (a scalar is 0), without recursing."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def format_datetime(value: datetime.datetime | None) -> str | None:
    """Codat writes UTC instants as 2024-05-21T10:15:00Z."""
    if value is None:
        return None
    value = value.astimezone(datetime.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"
