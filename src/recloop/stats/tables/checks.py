"""The data checks of one experiment's rows (see `contract` for the list and the definitions).

Each check is a query returning the offending rows; the problem reports how many there are and
the first few, so a team can find them in its own warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recloop.stats.tables.dialect import Dialect
from recloop.stats.tables.errors import Problem
from recloop.stats.tables.warehouse import Warehouse

VARIANTS = ("control", "treatment", "holdout")
COMPARED = ("control", "treatment")
EXAMPLES = 3
Row = dict[str, Any]
_JOIN_A = "JOIN assignments a ON a.experiment = x.experiment AND a.unit_id = x.unit_id"


@dataclass(frozen=True)
class Check:
    """Rows that break one rule (`sql`), and how to say so (`message(count, first_row)`)."""

    table: str
    column: str
    sql: Callable[[Dialect], str]
    message: Callable[[int, Row], str]


CHECKS: tuple[Check, ...] = (
    Check(
        "assignments", "variant",
        lambda d: "SELECT unit_id, MIN(variant) AS one, MAX(variant) AS other FROM assignments "
        "WHERE experiment = :experiment GROUP BY unit_id HAVING COUNT(DISTINCT variant) > 1 "
        "ORDER BY unit_id",
        lambda n, r: f"{n} units are assigned to both arms (e.g. unit {r['unit_id']}: "
        f"{r['one']!r} and {r['other']!r})",
    ),
    Check(
        "assignments", "unit_id",
        lambda d: "SELECT unit_id, COUNT(*) AS n FROM assignments WHERE experiment = :experiment "
        "GROUP BY unit_id HAVING COUNT(*) > 1 AND COUNT(DISTINCT variant) = 1 ORDER BY unit_id",
        lambda n, r: f"{n} units have more than one row for the experiment (e.g. unit "
        f"{r['unit_id']}: {r['n']} rows); the contract is one row per experiment and unit",
    ),
    Check(
        "exposures", "unit_id",
        lambda d: "SELECT x.unit_id FROM exposures x LEFT JOIN assignments a ON a.experiment = "
        "x.experiment AND a.unit_id = x.unit_id WHERE x.experiment = :experiment AND a.unit_id "
        "IS NULL GROUP BY x.unit_id ORDER BY x.unit_id",
        lambda n, r: f"{n} units have sessions of the experiment but no assignments row "
        f"(e.g. unit {r['unit_id']})",
    ),
    Check(
        "exposures", "variant",
        lambda d: "SELECT x.unit_id, x.session_id, a.variant AS assigned, x.variant AS logged "
        f"FROM exposures x {_JOIN_A} WHERE x.experiment = :experiment AND x.variant <> a.variant "
        "ORDER BY x.unit_id, x.session_id",
        lambda n, r: f"{n} sessions are logged with another variant than their unit's "
        f"assignment, so units were served both arms (e.g. unit {r['unit_id']} assigned "
        f"{r['assigned']!r}, session {r['session_id']} logged {r['logged']!r})",
    ),
    Check(
        "exposures", "ts",
        lambda d: "SELECT x.unit_id, x.session_id, CAST(x.ts AS VARCHAR) AS ts, "
        f"CAST(a.first_exposure AS VARCHAR) AS first FROM exposures x {_JOIN_A} "
        f"WHERE x.experiment = :experiment AND {d.time('x.ts')} < {d.time('a.first_exposure')} "
        "ORDER BY x.unit_id, x.session_id",
        lambda n, r: f"{n} sessions of the experiment start before their unit's first_exposure "
        f"(e.g. unit {r['unit_id']}, session {r['session_id']} at {r['ts']}, first exposure "
        f"{r['first']})",
    ),
    Check(
        "events", "ts",
        lambda d: "SELECT v.unit_id, v.session_id, CAST(v.ts AS VARCHAR) AS ts, "
        "CAST(a.first_exposure AS VARCHAR) AS first FROM events v JOIN exposures x ON "
        f"v.session_id = x.session_id AND v.unit_id = x.unit_id {_JOIN_A} "
        f"WHERE x.experiment = :experiment AND {d.time('v.ts')} < {d.time('a.first_exposure')} "
        "ORDER BY v.unit_id, v.session_id",
        lambda n, r: f"{n} events of the experiment's sessions are timed before their unit's "
        f"first exposure (e.g. unit {r['unit_id']}, session {r['session_id']} at {r['ts']}, "
        f"first exposure {r['first']}); only events outside the experiment's sessions (the "
        "pre-period, days before a ramp let the unit in) may come before it",
    ),
    Check(
        "events", "unit_id",
        lambda d: "SELECT v.session_id, x.unit_id AS owner, v.unit_id AS unit_id FROM events v "
        "JOIN exposures x ON v.session_id = x.session_id WHERE x.experiment = :experiment "
        "AND v.unit_id <> x.unit_id ORDER BY v.session_id",
        lambda n, r: f"{n} events of the experiment's sessions name another unit than the "
        f"session's (e.g. session {r['session_id']} of unit {r['owner']} has an event of unit "
        f"{r['unit_id']})",
    ),
)  # fmt: skip

NOT_NULL: dict[str, tuple[tuple[str, ...], str]] = {
    "assignments": (("unit_id", "variant", "first_exposure"),
                    "FROM assignments x WHERE x.experiment = :experiment"),
    "exposures": (("unit_id", "session_id", "ts", "variant", "latency_ms"),
                  "FROM exposures x WHERE x.experiment = :experiment"),
    "events": (("session_id", "ts", "event_type", "value"),
               "FROM events x JOIN assignments a ON a.unit_id = x.unit_id "
               "AND a.experiment = :experiment"),
}  # fmt: skip


def _rows(columns: dict[str, Any]) -> list[Row]:
    """Result rows as dicts of plain Python values (for messages)."""
    keys = list(columns)
    plain = {k: columns[k].tolist() for k in keys}
    return [{k: plain[k][i] for k in keys} for i in range(len(plain[keys[0]]))]


def _violations(wh: Warehouse, check: Check, params: dict[str, Any]) -> Problem | None:
    sql = check.sql(wh.dialect)
    count = int(wh.fetch(f"SELECT COUNT(*) AS n FROM ({sql}) q", params)["n"][0])
    if count == 0:
        return None
    first = _rows(wh.fetch(f"{sql} LIMIT 1", params))[0]
    return Problem(check.table, check.column, check.message(count, first))


def null_problems(wh: Warehouse, experiment: str) -> list[Problem]:
    """NULLs in the columns the analysis reads, in the experiment's rows."""
    problems = []
    for table, (columns, rows) in NOT_NULL.items():
        sums = ", ".join(f"SUM(CASE WHEN x.{c} IS NULL THEN 1 ELSE 0 END) AS {c}" for c in columns)
        counts = wh.fetch(f"SELECT {sums} {rows}", {"experiment": experiment})
        for column in columns:
            value = counts[column][0]
            if value is not None and value == value and int(value) > 0:  # NaN: no rows
                problems.append(Problem(table, column, f"{int(value)} rows of the experiment's "
                                        "units are NULL"))  # fmt: skip
    return problems


def arm_problems(wh: Warehouse, experiment: str) -> tuple[list[Problem], dict[str, int]]:
    """Unknown variants and missing arms; the assigned units per variant."""
    rows = wh.fetch(
        "SELECT variant, COUNT(*) AS n FROM assignments WHERE experiment = :experiment "
        "AND variant IS NOT NULL GROUP BY variant ORDER BY variant",
        {"experiment": experiment},
    )
    units = {str(v): int(n) for v, n in zip(rows["variant"], rows["n"], strict=True)}
    problems = [
        Problem("assignments", "variant", f"unknown variant {v!r} in {n} rows "
                f"(expected {', '.join(VARIANTS)})")
        for v, n in units.items() if v not in VARIANTS
    ]  # fmt: skip
    problems += [
        Problem("assignments", "variant", f"experiment {experiment!r} has no {arm!r} units")
        for arm in COMPARED
        if arm not in units
    ]
    sessions = wh.fetch(
        "SELECT COUNT(*) AS n FROM exposures WHERE experiment = :experiment",
        {"experiment": experiment},
    )
    if int(sessions["n"][0]) == 0:
        problems.append(
            Problem("exposures", "experiment", f"no sessions of experiment {experiment!r}")
        )
    return problems, units


def relation_problems(wh: Warehouse, experiment: str) -> list[Problem]:
    """Units in both arms, orphan or mislabelled sessions, rows before the first exposure."""
    params = {"experiment": experiment}
    found = (_violations(wh, check, params) for check in CHECKS)
    return [p for p in found if p is not None]
