"""The declarative base and the column types every ledger table shares.

- Constraint names follow one convention (`uq_<table>_<columns>`, `ck_<table>_<name>`, …) so
  migrations can name what they alter on every backend.
- `UTCDateTime`: timezone-aware UTC in and out, on backends with time zones (Postgres
  `timestamptz`) and without (SQLite stores the UTC wall time as text that sorts).
- `JSONType`: `JSON` (Postgres `json`, not `jsonb`: `jsonb` turns a float such as 6.2e16 into
  an integer with other digits, and the ledger returns payloads exactly as they were written).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON()
Key = String(200)
"""Idempotency keys, names, signatures, agents, models: short strings that are looked up."""
Word = String(32)
"""A word of a closed vocabulary (`vocabulary`, `states`)."""
LongText = Text()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores aware UTC times")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every ledger table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def in_vocabulary(column: str, words: tuple[str, ...]) -> str:
    """SQL for a CHECK that `column` is one of `words` (all plain identifiers)."""
    assert all(w.replace("_", "").isalnum() for w in words), words
    return f"{column} IN ({', '.join(repr(w) for w in words)})"
