"""The dialect layer: the same time arithmetic in DuckDB, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime

import duckdb
import pytest

from recloop.stats.tables.dialect import Dialect, iso, to_datetime, to_ms, type_kind

MOMENTS = ("2026-01-08 00:00:00", "2026-01-08 23:59:59.999", "2026-01-09 00:00:00.001",
           "2026-01-09T12:30:15.250000", "2025-12-31 23:59:59")  # fmt: skip


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("BIGINT", "integer"), ("SMALLINT", "integer"), ("INTEGER", "integer"),
        ("HUGEINT", "integer"), ("DOUBLE", "number"), ("DOUBLE PRECISION", "number"),
        ("REAL", "number"), ("DECIMAL(18,3)", "number"), ("NUMERIC", "number"),
        ("VARCHAR", "string"), ("TEXT", "string"), ("CHARACTER VARYING(20)", "string"),
        ("TIMESTAMP", "timestamp"), ("TIMESTAMP WITH TIME ZONE", "timestamp"),
        ("TIMESTAMP_NS", "timestamp"), ("DATETIME", "timestamp"), ("DATE", "other"),
        ("INTERVAL", "other"), ("BLOB", "other"),
    ],
)  # fmt: skip
def test_declared_types_map_to_the_contracts_kinds(declared: str, kind: str) -> None:
    assert type_kind(declared) == kind


def test_parameters_are_rendered_for_duckdb_only() -> None:
    sql = "SELECT * FROM t WHERE a = :experiment AND b < :cutoff"
    assert Dialect("duckdb").render(sql) == "SELECT * FROM t WHERE a = $experiment AND b < $cutoff"
    assert Dialect("sqlite").render(sql) == sql


def test_iso_and_epoch_milliseconds_round_trip() -> None:
    ms = to_ms(datetime(2026, 1, 8, 12, 0, 0, 250_000))
    assert iso(ms) == "2026-01-08 12:00:00.250000"
    assert to_datetime(ms) == datetime(2026, 1, 8, 12, 0, 0, 250_000)


def _expected_ms(text: str) -> int:
    return to_ms(datetime.fromisoformat(text))


def test_epoch_ms_and_day_division_agree_with_python_in_duckdb() -> None:
    d = Dialect("duckdb")
    with duckdb.connect() as con:
        for text in MOMENTS:
            value = con.execute(f"SELECT {d.epoch_ms(f'TIMESTAMP {text!r}')}").fetchone()
            assert value is not None and value[0] == _expected_ms(text), text
        days = con.execute(f"SELECT {d.int_div('86400000 * 3 - 1', '86400000')}").fetchone()
        assert days == (2,)


def test_epoch_ms_and_day_division_agree_with_python_in_sqlite() -> None:
    d = Dialect("sqlite")
    with closing(sqlite3.connect(":memory:")) as con:
        for text in MOMENTS:
            value = con.execute(f"SELECT {d.epoch_ms('?')}", (text,)).fetchone()
            assert value[0] == _expected_ms(text), text
        assert con.execute(f"SELECT {d.int_div('86400000 * 3 - 1', '86400000')}").fetchone() == (2,)
        # a whole day apart is exactly one day, where julianday differences can fall short
        a, b = "2026-01-08 10:00:00", "2026-01-09 10:00:00"
        diff = f"{d.epoch_ms('?')} - {d.epoch_ms('?')}"
        sql = f"SELECT {d.int_div(diff, '86400000')}"
        assert con.execute(sql, (b, a)).fetchone() == (1,)


def test_epoch_ms_agrees_with_python_in_postgres() -> None:
    url = os.environ.get("RECLOOP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("RECLOOP_TEST_POSTGRES_URL is not set")
    import sqlalchemy as sa

    d = Dialect("postgresql")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as con:
        for text in MOMENTS:
            value = con.execute(sa.text(f"SELECT {d.epoch_ms(d.time_param('t'))}"), {"t": text})
            assert value.scalar_one() == _expected_ms(text), text
        sql = f"SELECT {d.int_div('CAST(86400000 * 3 - 1 AS BIGINT)', '86400000')}"
        assert con.execute(sa.text(sql)).scalar_one() == 2
    engine.dispose()
