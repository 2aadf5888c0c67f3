"""Shared fixtures for the statistics tests: gbstats golden numbers, golden experiment tables."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from recloop.sim.tables import SCHEMA, create_tables

GOLDEN = Path(__file__).with_name("gbstats_golden.json")


@pytest.fixture(scope="session")
def gbstats() -> dict[str, Any]:
    """Outputs of gbstats 0.8.0 on stored data (written by make_gbstats_golden.py)."""
    golden = json.loads(GOLDEN.read_text())
    golden["arrays"] = {
        arm: {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
        for arm, cols in golden["data"].items()
    }
    return golden


# --- experiment tables: a small hand-built experiment with known answers -----------------------
#
# `GOLDEN_UNITS` lists each unit's sessions as (day since the start, impressions, clicks,
# satisfaction of each consumed item, serving latency, whether it is an experiment session).
# Days < 0 are the pre-period; a session at day >= 0 that is not an experiment session is
# activity before a ramp let the unit in (legitimately before its first exposure).
# `golden_expected` computes every per-unit value from this spec in plain Python, independently
# of the SQL under test.

GOLDEN_START = datetime(2026, 1, 8)  # a Thursday
GOLDEN_DAYS = 3
GOLDEN_PRE_DAYS = 14


@dataclass(frozen=True)
class S:
    day: float
    impressions: int
    clicks: int
    consumes: tuple[float, ...] = ()
    latency: float = 10.0
    test: bool = True


GOLDEN_UNITS: dict[int, tuple[str, tuple[S, ...]]] = {
    1: ("control", (S(-2.5, 10, 1, (0.5,)), S(0.25, 10, 1, (0.6,), 10), S(1.25, 10, 0, (), 12))),
    2: ("control", (S(-20, 10, 5), S(-1.5, 10, 0), S(-0.5, 10, 2, (0.4, 0.8)),
                    S(0.5, 10, 2, (0.7,), 11))),
    3: ("control", (S(-2.25, 10, 1), S(0.2, 10, 1, (0.3,), test=False),
                    S(1.5, 10, 1, (0.5,), 10), S(2.5, 10, 3, (0.9, 0.4), 14))),
    4: ("control", (S(-0.75, 10, 0), S(0.75, 10, 0, (), 9), S(3.5, 10, 2, (0.8,), 10))),
    5: ("control", (S(-1.25, 10, 2, (0.6,)), S(-0.25, 10, 1), S(0.3, 10, 1, (), 10),
                    S(1.3, 10, 2, (0.5, 0.5), 11), S(2.3, 10, 0, (), 12))),
    6: ("control", (S(1.75, 10, 0, (), 10),)),
    11: ("treatment", (S(-2.5, 10, 1, (0.5,)), S(0.25, 10, 2, (0.8,), 8),
                       S(1.25, 10, 1, (0.7,), 9))),
    12: ("treatment", (S(-1.5, 10, 0), S(-0.5, 10, 1, (0.4,)), S(0.5, 10, 3, (0.9, 0.6), 8))),
    13: ("treatment", (S(-2.25, 10, 1), S(1.5, 10, 2, (0.5,), 7), S(2.5, 10, 3, (0.9, 0.8), 9))),
    14: ("treatment", (S(-0.75, 10, 1), S(0.75, 10, 1, (0.6,), 8))),
    15: ("treatment", (S(-1.25, 10, 2, (0.6,)), S(-0.25, 10, 0), S(0.3, 10, 2, (0.7,), 8),
                       S(1.3, 10, 2, (0.6, 0.4), 8), S(2.3, 10, 1, (), 9))),
    16: ("treatment", (S(1.75, 10, 1, (0.9,), 8), S(2.75, 8, 1, (), 8))),
    21: ("holdout", (S(-1, 10, 1), S(0.5, 10, 1, (0.5,), 10))),
}  # fmt: skip


def _at(day: float) -> datetime:
    return GOLDEN_START + timedelta(seconds=round(day * 86_400))


def golden_rows() -> dict[str, list[tuple[Any, ...]]]:
    """The golden experiment's rows, plus a second experiment sharing the tables."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        "assignments": [], "exposures": [], "events": [], "experiments": [], "serving": []
    }  # fmt: skip
    session_ids = iter(range(1, 10_000))
    for unit, (variant, sessions) in GOLDEN_UNITS.items():
        first, previous = None, None
        for s in sessions:
            sid, ts = next(session_ids), _at(s.day)
            if previous is not None:
                gap = (ts - previous).total_seconds() / 86_400
                rows["events"].append((unit, sid, ts, "return", None, None, gap))
            previous = ts
            for pos in range(1, s.impressions + 1):
                rows["events"].append((unit, sid, ts, "impression", 100 + pos, pos, 1.0))
            for pos in range(1, s.clicks + 1):
                click = ts + timedelta(seconds=5 * pos)
                rows["events"].append((unit, sid, click, "click", 100 + pos, pos, 1.0))
                if pos <= len(s.consumes):
                    consume = click + timedelta(seconds=30)
                    value = s.consumes[pos - 1]
                    rows["events"].append((unit, sid, consume, "consume", 100 + pos, pos, value))
            if s.day >= 0 and s.test:
                if first is None:
                    first = ts
                    rows["assignments"].append(("golden", unit, variant, ts))
                policy = "ease" if variant == "treatment" else "pop"
                rows["exposures"].append(
                    ("golden", unit, sid, ts, variant, policy, s.impressions, s.latency)
                )
    end = GOLDEN_START + timedelta(days=GOLDEN_DAYS)
    rows["experiments"].append(("golden", GOLDEN_START, end, "pop", "ease", 0.5, "[[0, 1.0]]", 0.0))
    # a second experiment in the same tables: unit 99, never part of 'golden'
    sid, ts = next(session_ids), _at(0.6)
    rows["assignments"].append(("other", 99, "treatment", ts))
    rows["exposures"].append(("other", 99, sid, ts, "treatment", "ease", 10, 5.0))
    rows["events"].append((99, sid, ts, "impression", 101, 1, 1.0))
    return rows


def write_duckdb(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> Path:
    """The rows in a DuckDB file with the simulator's DDL (the contract's types)."""
    with duckdb.connect(str(path)) as con:
        create_tables(con)
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" for _ in values[0])
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    return path


SQL_TYPES = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "TIMESTAMP": "TIMESTAMP",
    "DOUBLE": "DOUBLE PRECISION",
    "SMALLINT": "SMALLINT",
    "INTEGER": "INTEGER",
}


def copy_tables(source: Path, execute: Any, executemany: Any, placeholder: str) -> None:
    """Copy every table of a DuckDB file through DB-API callables (SQLite, PostgreSQL)."""
    with duckdb.connect(str(source), read_only=True) as con:
        for table, columns in SCHEMA.items():
            ddl = ", ".join(f"{name} {SQL_TYPES[kind]}" for name, kind, _ in columns)
            execute(f"CREATE TABLE {table} ({ddl})")
            select = ", ".join(
                f"strftime({name}, '%Y-%m-%d %H:%M:%S.%f')" if kind == "TIMESTAMP" else name
                for name, kind, _ in columns
            )
            values = con.execute(f"SELECT {select} FROM {table}").fetchall()
            if values:
                marks = ", ".join(placeholder for _ in columns)
                executemany(f"INSERT INTO {table} VALUES ({marks})", values)


def to_sqlite(source: Path, target: Path) -> str:
    """The tables of a DuckDB file copied into a new SQLite file; its SQLAlchemy URL."""
    with closing(sqlite3.connect(target)) as con:
        copy_tables(source, con.execute, con.executemany, "?")
        con.commit()
    return f"sqlite:///{target}"


POSTGRES_ENV = "RECLOOP_TEST_POSTGRES_URL"


def to_postgres(source: Path, schema: str) -> str:
    """The tables copied into a fresh schema of the test PostgreSQL; a URL that reads them."""
    import psycopg
    import sqlalchemy as sa

    url = sa.engine.make_url(os.environ[POSTGRES_ENV])
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"SET search_path TO {schema}")
        with con.cursor() as cur:
            copy_tables(source, con.execute, cur.executemany, "%s")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def golden_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden experiment as a DuckDB file (read-only for the tests: copy it to change it)."""
    path = write_duckdb(tmp_path_factory.mktemp("golden") / "golden.duckdb", golden_rows())
    path.chmod(0o444)
    return path


@pytest.fixture
def mutated(golden_db: Path, tmp_path: Path) -> Any:
    """A copy of the golden file changed by SQL statements: `mutated("DROP TABLE events")`."""

    def change(*statements: str) -> Path:
        path = tmp_path / "mutated.duckdb"
        shutil.copy(golden_db, path)
        path.chmod(0o644)
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)
        return path

    return change


@pytest.fixture
def postgres_schema(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema of the test PostgreSQL, dropped afterwards (skips without the URL)."""
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is not set")
    import psycopg
    import sqlalchemy as sa

    schema = "recloop_stats_" + "".join(c for c in request.node.name.lower() if c.isalnum())[:40]
    yield schema
    url = sa.engine.make_url(os.environ[POSTGRES_ENV]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def golden_expected(cutoff_day: float = GOLDEN_DAYS) -> dict[int, dict[str, float]]:
    """Per compared unit: its test-period totals up to `cutoff_day` and pre-period totals."""
    out: dict[int, dict[str, float]] = {}
    for unit, (variant, sessions) in GOLDEN_UNITS.items():
        if variant == "holdout":
            continue
        first = min(s.day for s in sessions if s.day >= 0 and s.test)
        if first >= cutoff_day:
            continue
        test = [s for s in sessions if first <= s.day < cutoff_day and s.test]
        pre = [s for s in sessions if -GOLDEN_PRE_DAYS <= s.day < 0]
        ever_before = [s for s in sessions if s.day < -GOLDEN_PRE_DAYS]
        row = {
            "variant": variant,
            "first": first,
            "sessions": len(test),
            "impressions": sum(s.impressions for s in test),
            "clicks": sum(s.clicks for s in test),
            "consumes": sum(len(s.consumes) for s in test),
            "consumption": sum(sum(s.consumes) for s in test),
            "returns": len(test) - 1,  # every session after the first exposure is a return
            "latency_ms": sum(s.latency for s in test),
            "pre_sessions": len(pre),
            "pre_impressions": sum(s.impressions for s in pre),
            "pre_clicks": sum(s.clicks for s in pre),
            "pre_consumption": sum(sum(s.consumes) for s in pre),
            "pre_returns": len(pre) - (0 if ever_before else 1) if pre else 0,
        }
        out[unit] = row
    return out


@pytest.fixture
def sqlite_copy() -> Any:
    """`sqlite_copy(duckdb_path, sqlite_path) -> (url, path)`: the tables in a SQLite file."""

    def copy(source: Path, target: Path) -> tuple[str, Path]:
        return to_sqlite(source, target), target

    return copy


@pytest.fixture
def postgres_copy() -> Any:
    """`postgres_copy(duckdb_path, schema) -> url` (use with the `postgres_schema` fixture)."""
    return to_postgres


@pytest.fixture(scope="session")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated pop -> ease test written by the simulator (read-only for the tests)."""
    from recloop.sim import SimConfig, TrafficConfig, simulate

    path = tmp_path_factory.mktemp("sim") / "sim.duckdb"
    config = SimConfig(
        traffic=TrafficConfig(daily_users=300), days=5, pre_days=2, oracle_daily_users=0
    )
    simulate(config, out=path)
    path.chmod(0o444)
    return path


@pytest.fixture(name="golden_expected")
def golden_expected_fixture() -> Any:
    """`golden_expected(cutoff_day)`: per-unit values computed from the spec in plain Python."""
    return golden_expected


@pytest.fixture
def golden_units() -> dict[int, tuple[str, tuple[S, ...]]]:
    """The golden experiment's spec: unit -> (variant, sessions)."""
    return GOLDEN_UNITS


SCENARIOS: dict[str, dict[str, Any]] = {
    "aa": {"policy_b": "pop"},
    "pop-ease": {},
    "srm-assignment": {"faults": {"enabled": {"srm-assignment"}}},
    "novelty-only": {"faults": {"enabled": {"novelty-only"}}},
    "shock-aa": {"policy_b": "pop", "faults": {"enabled": {"seasonal-shock"}}},
}


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`scenario(name) -> Path`: a simulated test of SCENARIOS written once per session.

    2,000 daily users for 7 days after 3 pre-period days (the simulator tests' size): small
    enough to be quick, large enough for a pop -> ease effect and an SRM bug to show.
    """
    from recloop.sim import FaultConfig, SimConfig, TrafficConfig, simulate, synthetic_truth

    truth = synthetic_truth()
    base = SimConfig(
        traffic=TrafficConfig(daily_users=2_000), days=7, pre_days=3, oracle_daily_users=0
    )
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            change = dict(SCENARIOS[name])
            if "faults" in change:
                change["faults"] = FaultConfig(**change["faults"])
            path = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
            simulate(base.model_copy(update=change), out=path, truth=truth)
            path.chmod(0o444)
            made[name] = path
        return made[name]

    return make
