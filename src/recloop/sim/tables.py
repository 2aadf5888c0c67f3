"""The experiment tables: the contract a real warehouse's data must meet, and their DuckDB writer.

The simulator writes exactly what an experimentation platform and an event pipeline would hold,
so analysis has one path for simulated and real data. Times are UTC `TIMESTAMP`s (microseconds);
a unit is whatever is randomised (here a user). Required tables:

assignments — one row per (experiment, unit): the unit's arm, from its first exposure on
    experiment      VARCHAR    NOT NULL  experiment name (its hashing salt)
    unit_id         BIGINT     NOT NULL  the randomised unit
    variant         VARCHAR    NOT NULL  'control' | 'treatment' | 'holdout' (kept out, served
                                         the control; excluded from the two-arm comparison)
    first_exposure  TIMESTAMP  NOT NULL  the unit's first session in the experiment
exposures — one row per session of an assigned unit, from its first exposure on
    experiment      VARCHAR    NOT NULL
    unit_id         BIGINT     NOT NULL
    session_id      BIGINT     NOT NULL  joins to events.session_id
    ts              TIMESTAMP  NOT NULL  session start
    variant         VARCHAR    NOT NULL  as in assignments
    policy          VARCHAR    NOT NULL  the recommender that served the slate
    slate_size      SMALLINT   NOT NULL  items shown
    latency_ms      DOUBLE     NOT NULL  serving wall time per user of the request's batch
events — every behavioural event of every unit, in or out of experiments, before and during them
(events before an experiment's start are its pre-period, the covariate of CUPED)
    unit_id         BIGINT     NOT NULL
    session_id      BIGINT     NOT NULL
    ts              TIMESTAMP  NOT NULL
    event_type      VARCHAR    NOT NULL  'impression' | 'click' | 'consume' | 'return'
    item_id         BIGINT     NULL      the item (NULL for 'return')
    position        SMALLINT   NULL      1-based rank in the slate (NULL for 'return')
    value           DOUBLE     NOT NULL  1 for impression and click; satisfaction in (0, 1) for
                                         consume; days since the unit's previous session for
                                         return (a return is a session after an earlier one)
Optional metadata (analysis works without them):
experiments — one row per experiment
    experiment VARCHAR, start_ts TIMESTAMP, end_ts TIMESTAMP (exclusive), control_policy VARCHAR,
    treatment_policy VARCHAR, treatment_share DOUBLE, ramp VARCHAR (JSON [[test day, share]]),
    holdout DOUBLE
serving — one row per policy: how fast it answered
    policy VARCHAR, users INTEGER, fit_seconds DOUBLE, serve_seconds DOUBLE,
    ms_per_1000_users DOUBLE

Rows are bulk-inserted a simulated day at a time from numpy columns (codes become strings in
SQL); `export_parquet` writes one Parquet file per table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from recloop.sim.assignment import VARIANT_NAMES
from recloop.sim.daylog import EVENT_TYPES, Columns, DayLog

Column = tuple[str, str, bool]  # name, DuckDB type, nullable
SCHEMA: dict[str, tuple[Column, ...]] = {
    "assignments": (
        ("experiment", "VARCHAR", False),
        ("unit_id", "BIGINT", False),
        ("variant", "VARCHAR", False),
        ("first_exposure", "TIMESTAMP", False),
    ),
    "exposures": (
        ("experiment", "VARCHAR", False),
        ("unit_id", "BIGINT", False),
        ("session_id", "BIGINT", False),
        ("ts", "TIMESTAMP", False),
        ("variant", "VARCHAR", False),
        ("policy", "VARCHAR", False),
        ("slate_size", "SMALLINT", False),
        ("latency_ms", "DOUBLE", False),
    ),
    "events": (
        ("unit_id", "BIGINT", False),
        ("session_id", "BIGINT", False),
        ("ts", "TIMESTAMP", False),
        ("event_type", "VARCHAR", False),
        ("item_id", "BIGINT", True),
        ("position", "SMALLINT", True),
        ("value", "DOUBLE", False),
    ),
    "experiments": (
        ("experiment", "VARCHAR", False),
        ("start_ts", "TIMESTAMP", False),
        ("end_ts", "TIMESTAMP", False),
        ("control_policy", "VARCHAR", False),
        ("treatment_policy", "VARCHAR", False),
        ("treatment_share", "DOUBLE", False),
        ("ramp", "VARCHAR", False),
        ("holdout", "DOUBLE", False),
    ),
    "serving": (
        ("policy", "VARCHAR", False),
        ("users", "INTEGER", False),
        ("fit_seconds", "DOUBLE", False),
        ("serve_seconds", "DOUBLE", False),
        ("ms_per_1000_users", "DOUBLE", False),
    ),
}
REQUIRED_TABLES = ("assignments", "exposures", "events")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(column: str, names: tuple[str, ...]) -> str:
    """SQL mapping the integer codes 0..n-1 of `column` to their names."""
    arms = " ".join(f"WHEN {i} THEN {_literal(n)}" for i, n in enumerate(names))
    return f"CASE {column} {arms} END"


def _timestamp(column: str) -> str:
    return f"make_timestamp({column} * 1000000)"


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the documented tables (empty) on a connection."""
    for table, columns in SCHEMA.items():
        body = ", ".join(f"{n} {t}{'' if null else ' NOT NULL'}" for n, t, null in columns)
        con.execute(f"CREATE TABLE {table} ({body})")


class TableWriter:
    """Writes a simulation's tables to one DuckDB database (a file, or memory when no path)."""

    def __init__(
        self,
        path: Path | None,
        experiment: str,
        policies: tuple[str, ...],
        overwrite: bool = False,
    ) -> None:
        if path is not None and path.exists():
            if not overwrite:
                raise FileExistsError(f"{path} exists; choose another file or overwrite it")
            path.unlink()
        self.path = path
        self.con = duckdb.connect(":memory:" if path is None else str(path))
        self.con.execute("SET enable_progress_bar = false")
        create_tables(self.con)
        self.experiment = _literal(experiment)
        self.policy_sql = _case("policy", policies)

    def write_day(self, log: DayLog) -> None:
        """Append a day's rows of events, exposures and assignments."""
        exp, variant = self.experiment, _case("variant", VARIANT_NAMES)
        self._insert(
            "events",
            log.events,
            f"unit_id, session_id, {_timestamp('ts')}, {_case('event_type', EVENT_TYPES)}, "
            "NULLIF(item_id, -1), NULLIF(position, 0), value",
        )
        self._insert(
            "exposures",
            log.exposures,
            f"{exp}, unit_id, session_id, {_timestamp('ts')}, {variant}, {self.policy_sql}, "
            "slate_size, latency_ms",
        )
        self._insert(
            "assignments",
            log.assignments,
            f"{exp}, unit_id, {variant}, {_timestamp('first_exposure')}",
        )

    def _insert(self, table: str, columns: Columns, select: str) -> None:
        if not columns or len(next(iter(columns.values()))) == 0:
            return
        self.con.register("_batch", columns)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT {select} FROM _batch")
        finally:
            self.con.unregister("_batch")

    def write_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert a few metadata rows (experiments, serving) from dicts."""
        names = [n for n, _, _ in SCHEMA[table]]
        marks = ", ".join("?" for _ in names)
        for row in rows:
            self.con.execute(f"INSERT INTO {table} VALUES ({marks})", [row[n] for n in names])

    def export_parquet(self, folder: Path) -> list[Path]:
        """One Parquet file per table in `folder` (created if missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for table in SCHEMA:
            path = folder / f"{table}.parquet"
            self.con.execute(f"COPY {table} TO {_literal(str(path))} (FORMAT PARQUET)")
            paths.append(path)
        return paths

    def close(self) -> None:
        self.con.close()


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> tuple[Column, ...]:
    """(name, type, nullable) of a table's columns, as DuckDB reports them."""
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return tuple((name, dtype, nullable == "YES") for name, dtype, nullable in rows)


def unit_ids_by_variant(con: duckdb.DuckDBPyConnection, experiment: str) -> dict[str, np.ndarray]:
    """The assigned units of each variant of an experiment."""
    rows = con.execute(
        "SELECT variant, list(unit_id ORDER BY unit_id) FROM assignments "
        "WHERE experiment = ? GROUP BY variant",
        [experiment],
    ).fetchall()
    return {variant: np.asarray(units, np.int64) for variant, units in rows}
