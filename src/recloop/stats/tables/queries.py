"""Per-unit values computed in SQL: the test period at a look, the pre-period, and by day.

Every query joins the experiment's assigned units (`a`: its `assignments` rows, of the compared
variants, first exposed before the look) to their rows and sums the declarative totals of
`recloop.stats.metrics`:

- the test period of a unit: its experiment sessions (`exposures`) and its `events` from its
  first exposure (inclusive) up to the look's cutoff (exclusive);
- the pre-period: its events in [pre_start, start) — before the experiment began for everyone,
  so the treatment cannot have moved them;
- by day: the same test-period totals grouped by whole days (24 h) since the unit's first
  exposure (novelty) or since the experiment's start (calendar effects, cumulative looks);
- after a burn-in of k sessions: the same totals from the unit's (k+1)-th experiment session
  on (a window function numbers its sessions), so exactly its first k sessions are left out.

Units without rows get zeros (numpy does the alignment: SQL returns only units with rows). The
SQL is portable; `Dialect` renders the time arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from recloop.stats.metrics import TOTAL_FIELDS, TOTALS, UnitTotals
from recloop.stats.tables.dialect import MS_PER_DAY, Dialect, iso
from recloop.stats.tables.warehouse import Columns, Warehouse

DayAxis = Literal["exposure", "test"]
COMPARED = ("control", "treatment")


@dataclass(frozen=True)
class Window:
    """Which rows count: the experiment, its start, the look's cutoff and the pre-period."""

    experiment: str
    start_ms: int = 0
    cutoff_ms: int | None = None  # exclusive; None = every row
    pre_start_ms: int | None = None  # the pre-period is [pre_start, start); None = none
    variants: tuple[str, ...] | None = COMPARED  # None = every variant (holdout too)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"experiment": self.experiment, "start_ms": self.start_ms}
        params["start"] = iso(self.start_ms)
        if self.cutoff_ms is not None:
            params["cutoff"] = iso(self.cutoff_ms)
        if self.pre_start_ms is not None:
            params["pre_start"] = iso(self.pre_start_ms)
        return params


@dataclass(frozen=True, eq=False)
class Units:
    """The assigned units of a window, sorted by id."""

    unit_id: np.ndarray  # int64, ascending
    variant: np.ndarray  # str
    first_exposure_ms: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.unit_id)

    def rows_of(self, unit_ids: np.ndarray) -> np.ndarray:
        """Row index of each id (every id must be one of the units)."""
        index = np.searchsorted(self.unit_id, unit_ids)
        if len(unit_ids) and (
            index.max() >= len(self.unit_id) or not np.array_equal(self.unit_id[index], unit_ids)
        ):
            raise AssertionError("a query returned a unit that is not assigned")
        return index


def _assigned(d: Dialect, window: Window, burn_in: int | None = None) -> str:
    """The `a` CTE of assigned units; after a burn-in its `first_exposure` is the time of the
    unit's (k+1)-th session (units with k sessions or fewer drop out: zeros)."""
    if burn_in is not None:
        cutoff = ("" if window.cutoff_ms is None
                  else f" AND {d.time('x.ts')} < {d.time_param('cutoff')}")  # fmt: skip
        return (
            f"{_assigned(d, window).replace('a AS', 'a0 AS', 1)}, "
            "n AS (SELECT x.unit_id AS unit_id, x.ts AS ts, ROW_NUMBER() OVER "
            "(PARTITION BY x.unit_id ORDER BY x.ts, x.session_id) AS k FROM exposures x "
            "JOIN a0 ON x.unit_id = a0.unit_id WHERE x.experiment = :experiment AND "
            f"{d.time('x.ts')} >= {d.time('a0.first_exposure')}{cutoff}), "
            "a AS (SELECT a0.unit_id AS unit_id, a0.variant AS variant, n.ts AS first_exposure "
            f"FROM a0 JOIN n ON n.unit_id = a0.unit_id WHERE n.k = {int(burn_in) + 1})"
        )
    where = ["experiment = :experiment"]
    if window.variants is not None:
        where.append(f"variant IN ({', '.join(repr(v) for v in window.variants)})")
    if window.cutoff_ms is not None:
        where.append(f"{d.time('first_exposure')} < {d.time_param('cutoff')}")
    return (
        "a AS (SELECT unit_id, variant, first_exposure FROM assignments "
        f"WHERE {' AND '.join(where)})"
    )


def units_sql(d: Dialect, window: Window) -> str:
    return (
        f"WITH {_assigned(d, window)} SELECT a.unit_id AS unit_id, a.variant AS variant, "
        f"{d.epoch_ms('a.first_exposure')} AS first_exposure_ms FROM a ORDER BY a.unit_id"
    )


def _day(d: Dialect, alias: str, axis: DayAxis) -> str:
    since = d.epoch_ms("a.first_exposure") if axis == "exposure" else ":start_ms"
    return d.int_div(f"{d.epoch_ms(f'{alias}.ts')} - {since}", str(MS_PER_DAY))


def totals_sql(
    d: Dialect, window: Window, axis: DayAxis | None = None, burn_in: int | None = None
) -> str:
    """Test-period totals per unit (and per day on `axis`; from the (k+1)-th session on after a
    burn-in of k sessions), units with rows only."""
    later = f"{d.time('v.ts')} > {d.time('a.first_exposure')}"
    parts = []
    for alias, table in (("x", "exposures"), ("v", "events")):
        keys = [f"{alias}.unit_id"] + ([_day(d, alias, axis)] if axis else [])
        aggs = [
            (t.test_sql.format(later=later) if t.source == table else "0") + f" AS {t.name}"
            for t in TOTALS
        ]
        where = [f"{d.time(f'{alias}.ts')} >= {d.time('a.first_exposure')}"]
        if table == "exposures":
            where.append("x.experiment = :experiment")
        if window.cutoff_ms is not None:
            where.append(f"{d.time(f'{alias}.ts')} < {d.time_param('cutoff')}")
        named = [f"{keys[0]} AS unit_id"] + ([f"{keys[1]} AS day"] if axis else [])
        parts.append(
            f"u{alias} AS (SELECT {', '.join(named + aggs)} FROM {table} {alias} "
            f"JOIN a ON {alias}.unit_id = a.unit_id WHERE {' AND '.join(where)} "
            f"GROUP BY {', '.join(keys)})"
        )
    key = "unit_id, day" if axis else "unit_id"
    sums = ", ".join(f"CAST(SUM({n}) AS DOUBLE PRECISION) AS {n}" for n in TOTAL_FIELDS)
    return (
        f"WITH {_assigned(d, window, burn_in)}, {', '.join(parts)} "
        f"SELECT {key}, {sums} FROM (SELECT * FROM ux UNION ALL SELECT * FROM uv) u "
        f"GROUP BY {key} ORDER BY {key}"
    )


def pre_totals_sql(d: Dialect, window: Window) -> str:
    """Pre-period totals per unit (units with pre-period events only)."""
    aggs = ", ".join(
        f"CAST({t.pre_sql} AS DOUBLE PRECISION) AS {t.name}" for t in TOTALS if t.pre_sql
    )
    return (
        f"WITH {_assigned(d, window)} SELECT v.unit_id AS unit_id, {aggs} "
        "FROM events v JOIN a ON v.unit_id = a.unit_id "
        f"WHERE {d.time('v.ts')} >= {d.time_param('pre_start')} "
        f"AND {d.time('v.ts')} < {d.time_param('start')} "
        "GROUP BY v.unit_id ORDER BY v.unit_id"
    )


def assigned_units(wh: Warehouse, window: Window) -> Units:
    """The window's assigned units, sorted by id."""
    cols = wh.fetch(units_sql(wh.dialect, window), window.params())
    return Units(
        unit_id=cols["unit_id"].astype(np.int64),
        variant=cols["variant"].astype(str),
        first_exposure_ms=cols["first_exposure_ms"].astype(np.int64),
    )


def _fill(units: Units, cols: Columns, rows: np.ndarray, size: int) -> UnitTotals:
    totals = UnitTotals.zeros(size)
    for name in TOTAL_FIELDS:
        if name in cols:
            getattr(totals, name)[rows] = cols[name].astype(np.float64)
    return totals


def unit_totals(
    wh: Warehouse, window: Window, units: Units, burn_in: int | None = None
) -> UnitTotals:
    """Test-period totals of every unit (zeros for units without rows), aligned with `units`;
    with `burn_in` = k, only from each unit's (k+1)-th session on."""
    cols = wh.fetch(totals_sql(wh.dialect, window, burn_in=burn_in), window.params())
    return _fill(units, cols, units.rows_of(cols["unit_id"].astype(np.int64)), len(units))


def pre_totals(wh: Warehouse, window: Window, units: Units) -> tuple[UnitTotals, np.ndarray]:
    """Pre-period totals aligned with `units`, and which units have any pre-period event.

    Totals without a pre-period definition (serving latency) are NaN.
    """
    if window.pre_start_ms is None:
        raise ValueError("the window has no pre-period")
    cols = wh.fetch(pre_totals_sql(wh.dialect, window), window.params())
    rows = units.rows_of(cols["unit_id"].astype(np.int64))
    totals = _fill(units, cols, rows, len(units))
    for t in TOTALS:
        if t.pre_sql is None:
            getattr(totals, t.name)[:] = np.nan
    present = np.zeros(len(units), bool)
    present[rows] = True
    return totals, present


@dataclass(frozen=True, eq=False)
class UnitDayTotals:
    """Test-period totals in long format: one row per (unit, day) with any row in the tables."""

    row: np.ndarray  # index into the Units
    day: np.ndarray  # int64 days since first exposure or since the start
    totals: UnitTotals


def unit_day_totals(wh: Warehouse, window: Window, units: Units, axis: DayAxis) -> UnitDayTotals:
    """Test-period totals per unit and whole day on `axis` (rows with activity only)."""
    cols = wh.fetch(totals_sql(wh.dialect, window, axis), window.params())
    n = len(cols["unit_id"])
    return UnitDayTotals(
        row=units.rows_of(cols["unit_id"].astype(np.int64)),
        day=cols["day"].astype(np.int64),
        totals=_fill(units, cols, np.arange(n), n),
    )


def unit_totals_by_variant(wh: Warehouse, experiment: str) -> dict[str, UnitTotals]:
    """Every variant's per-unit totals over the whole test (the simulator's own summary)."""
    window = Window(experiment, variants=None)
    units = assigned_units(wh, window)
    totals = unit_totals(wh, window, units)
    variants = np.unique(units.variant)
    return {str(v): totals.take(np.flatnonzero(units.variant == v)) for v in variants}


def sessions_by_variant(wh: Warehouse, window: Window) -> dict[str, int]:
    """Experiment sessions (`exposures` rows) of the window's units up to its cutoff, per
    variant: the traffic a test exposed, which an early stop saves (units arrive up front)."""
    d = wh.dialect
    cutoff = "" if window.cutoff_ms is None else f" AND {d.time('x.ts')} < {d.time_param('cutoff')}"
    cols = wh.fetch(
        f"WITH {_assigned(d, window)} SELECT a.variant AS variant, COUNT(*) AS n "
        "FROM exposures x JOIN a ON x.unit_id = a.unit_id WHERE x.experiment = :experiment "
        f"AND {d.time('x.ts')} >= {d.time('a.first_exposure')}{cutoff} GROUP BY a.variant",
        window.params(),
    )
    return {str(v): int(n) for v, n in zip(cols["variant"], cols["n"], strict=True)}
