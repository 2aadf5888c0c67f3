"""The contract experiment tables must meet, checked before any number is computed.

The README's "The experiment tables" is the contract; the simulator writes it (`recloop.sim.
tables.SCHEMA`, which a test keeps in step with `COLUMNS` here). Required are the columns the
analysis reads; `experiments` is optional metadata. Checks, each reported with its table and
column, all problems of a stage at once:

1. structure: missing tables or columns, wrong kinds of type (integer, number, string,
   timestamp; SQLite text times must parse);
2. the experiment: its name must be in `assignments` (the error lists the names there);
3. the data of that experiment: NULLs in required columns; variants other than control /
   treatment / holdout, or a missing arm; more than one `assignments` row for a unit, or a unit
   in both arms; sessions (`exposures`) of units without an assignment or logged with another
   variant than the unit's (a unit served both arms); sessions timed before the unit's first
   exposure; and **events of the test period attributed to the unit before its first
   exposure**, precisely: an `events` row whose `session_id` is one of the experiment's sessions
   (`exposures`) but whose time is before the unit's `first_exposure`, or that names another
   unit than the session's. Every other event before a first exposure is legitimate: the
   pre-period before the start, and the days a unit was active before a ramp let it in.

Then `ExperimentInfo` says what the analysis needs: the start (`experiments.start_ts`, else the
earliest first exposure), the end, the planned treatment share and ramp when recorded, and the
pre-period [start - pre_days, start) if any assigned unit has events in it (otherwise CUPED and
the segments are skipped, and the attribution says so).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from recloop.stats.tables import checks
from recloop.stats.tables.dialect import MS_PER_DAY, Kind, iso
from recloop.stats.tables.errors import Problem, SchemaError
from recloop.stats.tables.warehouse import Warehouse

COLUMNS: dict[str, dict[str, Kind]] = {
    "assignments": {
        "experiment": "string", "unit_id": "integer", "variant": "string",
        "first_exposure": "timestamp",
    },
    "exposures": {
        "experiment": "string", "unit_id": "integer", "session_id": "integer",
        "ts": "timestamp", "variant": "string", "latency_ms": "number",
    },
    "events": {
        "unit_id": "integer", "session_id": "integer", "ts": "timestamp",
        "event_type": "string", "value": "number",
    },
    "experiments": {"experiment": "string", "start_ts": "timestamp"},
}  # fmt: skip
OPTIONAL_COLUMNS: dict[str, dict[str, Kind]] = {
    "exposures": {"policy": "string", "slate_size": "integer"},
    "events": {"item_id": "integer", "position": "integer"},
    "experiments": {
        "end_ts": "timestamp", "treatment_share": "number", "ramp": "string", "holdout": "number",
    },
}  # fmt: skip
OPTIONAL_TABLES = ("experiments",)
KIND_WORDS = {"integer": "an integer", "number": "a number", "string": "a string",
              "timestamp": "a timestamp"}  # fmt: skip
DEFAULT_PRE_DAYS = 14


@dataclass(frozen=True)
class ExperimentInfo:
    """What the tables say about one experiment, once they passed the contract."""

    name: str
    source: str
    start_ms: int
    start_from: str  # "experiments.start_ts" or "earliest first_exposure"
    end_ms: int | None  # exclusive; None when not recorded
    last_ms: int  # just after the experiment's last session
    treatment_share: float | None  # planned share of treatment among compared units
    ramp: tuple[tuple[int, float], ...] | None
    units: dict[str, int]  # assigned units per variant (whole test)
    pre_days: int
    pre_start_ms: int | None  # None: no assigned unit has events before the start
    columns: dict[str, tuple[str, ...]]  # the columns each table has
    notes: tuple[str, ...]

    @property
    def effective_end_ms(self) -> int:
        return self.end_ms if self.end_ms is not None else self.last_ms

    def ramp_share(self, test_day: int) -> float | None:
        """The recorded ramp's share of traffic on a test day (None without a ramp)."""
        if self.ramp is None:
            return None
        share = 0.0
        for day, value in self.ramp:
            if day <= test_day:
                share = value
        return share


def _structure(wh: Warehouse) -> tuple[list[Problem], dict[str, dict[str, str]]]:
    problems: list[Problem] = []
    found: dict[str, dict[str, str]] = {}
    for table, required in COLUMNS.items():
        columns = wh.columns(table)
        if columns is None:
            if table not in OPTIONAL_TABLES:
                problems.append(Problem(table, None, "missing table"))
            continue
        found[table] = columns
        lower = {name.lower(): name for name in columns}
        expected = {**required, **OPTIONAL_COLUMNS.get(table, {})}
        for column, kind in expected.items():
            if column not in columns:
                if column in required:
                    hint = f" (found {lower[column.lower()]!r}: names are case-sensitive)" if (
                        column.lower() in lower) else ""  # fmt: skip
                    problems.append(Problem(table, column, f"missing column{hint}"))
                continue
            actual = wh.dialect.kind(columns[column])
            ok = actual == kind or (kind == "number" and actual == "integer")
            ok = ok or (kind == "timestamp" and wh.dialect.name == "sqlite" and actual == "string")
            if not ok:
                problems.append(Problem(
                    table, column, f"expected {KIND_WORDS[kind]}, found {columns[column]}"
                ))  # fmt: skip
    return problems, found


def _timestamps(wh: Warehouse, found: dict[str, dict[str, str]]) -> list[Problem]:
    """SQLite keeps times as text: every value of a timestamp column must parse as one."""
    if wh.dialect.name != "sqlite":
        return []
    problems = []
    for table, columns in found.items():
        expected = {**COLUMNS[table], **OPTIONAL_COLUMNS.get(table, {})}
        for column in (c for c in columns if expected.get(c) == "timestamp"):
            rows = wh.fetch(
                f"SELECT COUNT(*) AS n, MIN(CAST({column} AS VARCHAR)) AS example FROM {table} "
                f"WHERE {column} IS NOT NULL AND (typeof({column}) <> 'text' "
                f"OR julianday({column}) IS NULL)"
            )
            if int(rows["n"][0]):
                problems.append(Problem(table, column, (
                    f"{int(rows['n'][0])} values are not ISO timestamps "
                    f"(e.g. {str(rows['example'][0])!r})")))  # fmt: skip
    return problems


def _experiment(wh: Warehouse, experiment: str) -> list[Problem]:
    rows = wh.fetch(
        "SELECT COUNT(*) AS n FROM assignments WHERE experiment = :experiment",
        {"experiment": experiment},
    )
    if int(rows["n"][0]) > 0:
        return []
    names = wh.fetch("SELECT DISTINCT experiment FROM assignments ORDER BY experiment LIMIT 20")
    listed = ", ".join(repr(str(v)) for v in names["experiment"]) or "none"
    return [Problem("assignments", "experiment",
                    f"no experiment named {experiment!r}; the table holds: {listed}")]  # fmt: skip


def _scalar(wh: Warehouse, sql: str, params: dict[str, Any]) -> Any:
    value = next(iter(wh.fetch(sql, params).values()))[0]
    return None if value is None or (isinstance(value, float) and value != value) else value


@dataclass(frozen=True)
class _Metadata:
    start_ms: int | None = None
    end_ms: int | None = None
    treatment_share: float | None = None
    ramp: tuple[tuple[int, float], ...] | None = None


def _parse_ramp(text: Any) -> tuple[tuple[int, float], ...] | None:
    try:
        steps = tuple((int(day), float(share)) for day, share in json.loads(str(text)))
    except (TypeError, ValueError):
        return None
    return steps or None


def _metadata(
    wh: Warehouse, experiment: str, columns: dict[str, str], notes: list[str]
) -> tuple[_Metadata, list[Problem]]:
    """The experiment's row of the optional `experiments` table."""
    d = wh.dialect
    select = [f"{d.epoch_ms('start_ts')} AS start_ms"]
    if "end_ts" in columns:
        select.append(f"{d.epoch_ms('end_ts')} AS end_ms")
    if "treatment_share" in columns:
        select.append("CAST(treatment_share AS DOUBLE PRECISION) AS treatment_share")
    if "ramp" in columns:
        select.append("ramp")
    rows = wh.fetch(
        f"SELECT {', '.join(select)} FROM experiments WHERE experiment = :experiment",
        {"experiment": experiment},
    )
    n = len(rows["start_ms"])
    if n == 0:
        notes.append(f"experiments has no row for {experiment!r}: its metadata is not used")
        return _Metadata(), []
    if n > 1:
        return _Metadata(), [Problem("experiments", "experiment", f"{n} rows for experiment "
                                     f"{experiment!r}; expected one")]  # fmt: skip
    row = {k: v[0] for k, v in rows.items()}
    problems = []
    if row["start_ms"] is None or row["start_ms"] != row["start_ms"]:
        problems.append(Problem("experiments", "start_ts", "NULL for the experiment"))
    share = row.get("treatment_share")
    share = None if share is None or share != share else float(share)
    if share is not None and not 0 < share < 1:
        problems.append(Problem("experiments", "treatment_share", f"{share} is not in (0, 1)"))
    ramp = _parse_ramp(row["ramp"]) if row.get("ramp") is not None else None
    if row.get("ramp") is not None and ramp is None:
        notes.append("experiments.ramp is not JSON [[test day, share], ...]: ignored")
    end = row.get("end_ms")
    meta = _Metadata(
        start_ms=None if problems else int(row["start_ms"]),
        end_ms=None if end is None or end != end else int(end),
        treatment_share=share,
        ramp=ramp,
    )
    return meta, problems


def _pre_period(
    wh: Warehouse, experiment: str, start_ms: int, pre_days: int, notes: list[str]
) -> int | None:
    """The pre-period's start, if any assigned unit has events in [start - pre_days, start)."""
    if pre_days <= 0:
        notes.append("no pre-period asked for (pre_days = 0): CUPED and segments are skipped")
        return None
    pre_start = start_ms - pre_days * MS_PER_DAY
    d = wh.dialect
    rows = wh.fetch(
        "SELECT v.unit_id FROM events v JOIN assignments a ON a.unit_id = v.unit_id "
        f"AND a.experiment = :experiment WHERE {d.time('v.ts')} >= {d.time_param('pre_start')} "
        f"AND {d.time('v.ts')} < {d.time_param('start')} LIMIT 1",
        {"experiment": experiment, "pre_start": iso(pre_start), "start": iso(start_ms)},
    )
    if len(rows["unit_id"]) == 0:
        notes.append(
            f"no pre-period: no assigned unit has events in the {pre_days} days before the "
            "start, so CUPED and the segments (new/returning, light/heavy) are skipped"
        )
        return None
    return pre_start


def validate(wh: Warehouse, experiment: str, *, pre_days: int = DEFAULT_PRE_DAYS) -> ExperimentInfo:
    """Check the tables against the contract for `experiment`; raise `SchemaError` on breaches."""
    problems, found = _structure(wh)
    problems += _timestamps(wh, found)
    if problems:
        raise SchemaError(wh.description, problems)
    problems = _experiment(wh, experiment)
    if problems:
        raise SchemaError(wh.description, problems)
    arm_issues, units = checks.arm_problems(wh, experiment)
    problems = checks.null_problems(wh, experiment) + arm_issues
    if problems:
        raise SchemaError(wh.description, problems)
    problems = checks.relation_problems(wh, experiment)
    notes: list[str] = []
    meta = _Metadata()
    if "experiments" in found:
        meta, meta_problems = _metadata(wh, experiment, found["experiments"], notes)
        problems += meta_problems
    else:
        notes.append("no experiments table: the start is the earliest first exposure")
    if problems:
        raise SchemaError(wh.description, problems)
    params = {"experiment": experiment}
    d = wh.dialect
    start_ms = meta.start_ms
    start_from = "experiments.start_ts"
    if start_ms is None:
        start_from = "earliest first_exposure"
        start_ms = int(
            _scalar(
                wh,
                f"SELECT MIN({d.epoch_ms('first_exposure')}) AS v "
                "FROM assignments WHERE experiment = :experiment",
                params,
            )
        )
    last = _scalar(wh, f"SELECT MAX({d.epoch_ms('ts')}) AS v FROM exposures "
                   "WHERE experiment = :experiment", params)  # fmt: skip
    return ExperimentInfo(
        name=experiment,
        source=wh.description,
        start_ms=start_ms,
        start_from=start_from,
        end_ms=meta.end_ms,
        last_ms=int(last) + 1,
        treatment_share=meta.treatment_share,
        ramp=meta.ramp,
        units=units,
        pre_days=pre_days,
        pre_start_ms=_pre_period(wh, experiment, start_ms, pre_days, notes),
        columns={table: tuple(cols) for table, cols in found.items()},
        notes=tuple(notes),
    )
