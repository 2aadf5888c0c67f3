"""Payloads into plain JSON before they reach a JSON column, so they read back equal.

`to_json(value)` returns the value the ledger stores and later returns: dicts with string keys,
lists, strings, booleans, None, ints and finite floats. On the way it turns tuples into lists,
numpy scalars and arrays into Python numbers and lists, datetimes and dates into ISO strings,
paths into strings, pydantic models and dataclasses into dicts, and the non-finite floats that
JSON has no word for into the strings "NaN", "Infinity" and "-Infinity" (SQLite's and
Postgres's JSON both refuse them as numbers). Anything else is a `TypeError` that names where
in the payload it sits, raised before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

JSONValue = dict[str, Any] | list[Any] | str | int | float | bool | None
JSONObject = dict[str, Any]

_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def to_json(value: object, where: str = "$") -> Any:
    """`value` as plain JSON (see the module docstring); `where` names it in errors."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Mapping):
        return _mapping(value, where)
    if isinstance(value, list | tuple):
        return [to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    return _other(value, where)


def to_json_object(value: Mapping[str, object] | None, where: str = "$") -> JSONObject:
    """A payload that must be a JSON object (None is the empty object)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{where}: a payload must be a mapping, not {type(value).__name__}")
    return _mapping(value, where)


def _float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return _NON_FINITE[value]
    return float(value)


def _mapping(value: Mapping[Any, Any], where: str) -> JSONObject:
    out: JSONObject = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: keys must be strings, got {key!r}")
        out[key] = to_json(item, f"{where}.{key}")
    return out


def _other(value: object, where: str) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # a pydantic model
        return to_json(model_dump(mode="json"), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(dataclasses.asdict(value), where)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # a numpy scalar or array
        return to_json(tolist(), where)
    raise TypeError(f"{where}: {type(value).__name__} is not JSON ({value!r:.80})")
