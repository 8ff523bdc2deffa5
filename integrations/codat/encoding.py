"""JSON that keeps money exact in both directions.

The standard encoder cannot write a ``Decimal`` as a JSON number (``default=`` may only return
another Python object, and floats would round), so bodies are serialised by a small walker that
writes decimals as literals and hands everything else to ``json.dumps``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def dumps(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    # bool before int/Decimal checks: bool is an int subclass and must stay true/false.
    if value is None or isinstance(value, (bool, str, int)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(_decimal_literal(value))
    elif isinstance(value, float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, (dt.datetime, dt.date)):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, uuid.UUID):
        out.append(json.dumps(str(value)))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _decimal_literal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be sent as a JSON number")
    # Fixed-point keeps the scale the caller chose ("12.50") and never emits an exponent, which
    # some JSON number parsers on the far side reject.
    return format(value, "f")
