"""The few things SQL engines spell differently, so the analysis SQL is written once.

Queries are written in portable SQL (CASE inside aggregates, no FILTER, no `::` casts, LIMIT)
with `:name` parameters. A `Dialect` renders what differs between DuckDB, SQLite and PostgreSQL:

- parameter markers: `$name` for DuckDB, `:name` for SQLAlchemy;
- comparable times: SQLite has no timestamp type (times are ISO text), so a time is compared
  through `julianday(...)`, which also accepts the `T` separator and any fractional digits;
  DuckDB and PostgreSQL compare the TIMESTAMP column itself (indexes and partitions still work);
- epoch milliseconds (a BIGINT), from which days are counted with integer division — exact,
  where a difference of floating Julian days could land a hair under a whole day;
- integer division (`//` in DuckDB, whose `/` is a float division).

Times passed as parameters are ISO strings of naive UTC (`YYYY-MM-DD HH:MM:SS.ffffff`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

DialectName = Literal["duckdb", "sqlite", "postgresql"]
Kind = Literal["integer", "number", "string", "timestamp", "other"]
MS_PER_DAY = 86_400_000
PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells times, parameters and integer division."""

    name: DialectName

    def render(self, sql: str) -> str:
        """`:name` parameters as the engine's driver expects them."""
        return PARAMETER.sub(r"$\1", sql) if self.name == "duckdb" else sql

    def time(self, expr: str) -> str:
        """An expression that orders and compares as the time `expr` does."""
        return f"julianday({expr})" if self.name == "sqlite" else expr

    def time_param(self, name: str) -> str:
        """A comparable time from an ISO-string parameter."""
        if self.name == "sqlite":
            return f"julianday(:{name})"
        return f"CAST(:{name} AS TIMESTAMP)"

    def epoch_ms(self, expr: str) -> str:
        """Milliseconds since 1970-01-01 UTC as an integer."""
        if self.name == "duckdb":
            return f"epoch_ms(CAST({expr} AS TIMESTAMP))"
        if self.name == "sqlite":  # julianday is exact to the millisecond in SQLite
            return f"CAST(ROUND((julianday({expr}) - 2440587.5) * 86400000.0) AS INTEGER)"
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {expr}) * 1000) AS BIGINT)"

    def int_div(self, numerator: str, denominator: str) -> str:
        """Integer division of non-negative integers."""
        if self.name == "duckdb":
            return f"(({numerator}) // ({denominator}))"
        return f"(({numerator}) / ({denominator}))"

    def kind(self, declared: str) -> Kind:
        """The contract's kind of a declared column type (as the engine reports it)."""
        return type_kind(declared, sqlite=self.name == "sqlite")


def type_kind(declared: str, *, sqlite: bool = False) -> Kind:
    """integer, number, string, timestamp or other, from a declared SQL type name.

    SQLite stores times as text, so its TEXT/VARCHAR columns count as timestamps too when the
    contract asks for one (their values are then checked to parse, see `contract`).
    """
    t = declared.strip().upper()
    if t.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if t.startswith(("INTERVAL", "POINT")):
        return "other"
    if "INT" in t:
        return "integer"
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")):
        return "number"
    if t.startswith(("VARCHAR", "TEXT", "CHAR", "STRING", "CHARACTER", "NVARCHAR", "CLOB")):
        return "string"
    return "other"


def iso(ms: int) -> str:
    """Epoch milliseconds as the ISO parameter string the dialects read (naive UTC)."""
    return to_datetime(ms).strftime("%Y-%m-%d %H:%M:%S.%f")


def to_datetime(ms: int) -> datetime:
    """Epoch milliseconds as a naive UTC datetime."""
    return (_EPOCH + timedelta(milliseconds=int(ms))).replace(tzinfo=None)


def to_ms(moment: datetime) -> int:
    """A datetime (naive = UTC) as epoch milliseconds."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)
