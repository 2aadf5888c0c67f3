"""Day-by-day per-unit data: zero-filled panels and the cumulative snapshot at a look.

SQL returns only the (unit, day) pairs with rows in the tables; a unit that came back on days 0
and 3 was there on days 1 and 2 too, with zeros. `panel` lays out every day each unit was
observable — on the *exposure* axis the whole days since its first exposure that ended before
the cutoff (a partial last day would look like a drop), on the *test* axis the calendar days of
the test from the one it was first exposed on to the last whole day — and places the SQL rows.

`snapshot` sums a unit's test-axis days up to a look: the per-unit totals "as of day d", equal
to querying with that cutoff (tested), so the sequential looks of a whole test can come from one
query.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from recloop.stats.metrics import Metric, UnitTotals
from recloop.stats.tables.dialect import MS_PER_DAY
from recloop.stats.tables.queries import DayAxis, UnitDayTotals, Units


@dataclass(frozen=True, eq=False)
class Panel:
    """Every observable (unit, day) of a window in long format, zeros included."""

    row: np.ndarray  # index into the Units
    day: np.ndarray  # int64
    totals: UnitTotals

    def __len__(self) -> int:
        return len(self.row)


def day_range(
    units: Units, axis: DayAxis, start_ms: int, cutoff_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the whole days [lo, hi) it was observable on `axis` before the cutoff."""
    if axis == "exposure":
        hi = (cutoff_ms - units.first_exposure_ms) // MS_PER_DAY
        return np.zeros(len(units), np.int64), np.maximum(hi, 0)
    lo = (units.first_exposure_ms - start_ms) // MS_PER_DAY
    last = (cutoff_ms - start_ms) // MS_PER_DAY
    return lo, np.full(len(units), max(int(last), 0), np.int64)


def panel(
    units: Units, sparse: UnitDayTotals, axis: DayAxis, start_ms: int, cutoff_ms: int
) -> Panel:
    """Zero-filled (unit, day) rows for the whole observable days, with the SQL rows placed."""
    lo, hi = day_range(units, axis, start_ms, cutoff_ms)
    counts = np.maximum(hi - lo, 0)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    row = np.repeat(np.arange(len(units)), counts)
    day = lo[row] + (np.arange(len(row)) - offsets[row]) if len(row) else row.astype(np.int64)
    keep = (sparse.day >= lo[sparse.row]) & (sparse.day < hi[sparse.row])
    position = offsets[sparse.row[keep]] + sparse.day[keep] - lo[sparse.row[keep]]
    totals = UnitTotals.zeros(len(row))
    for f in fields(totals):
        getattr(totals, f.name)[position] = getattr(sparse.totals, f.name)[keep]
    return Panel(row=row, day=day.astype(np.int64), totals=totals)


def snapshot(
    units: Units, sparse: UnitDayTotals, start_ms: int, day: int
) -> tuple[np.ndarray, UnitTotals]:
    """Units first exposed by the end of test day `day` and their totals up to then."""
    cutoff = start_ms + (day + 1) * MS_PER_DAY
    members = np.flatnonzero(units.first_exposure_ms < cutoff)
    position = np.full(len(units), -1)
    position[members] = np.arange(len(members))
    totals = UnitTotals.zeros(len(members))
    rows = (sparse.day <= day) & (position[sparse.row] >= 0)
    for f in fields(totals):
        np.add.at(
            getattr(totals, f.name),
            position[sparse.row[rows]],
            getattr(sparse.totals, f.name)[rows],
        )
    return members, totals


def daily_values(
    metric: Metric, data: Panel, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One arm's (rows, days, values) of `metric` per unit-day; ratios as pseudo-values.

    A ratio metric's unit-day value is its delta-method pseudo-value within that day and arm
    (see `summary`), whose daily mean is the day's ratio; days whose denominator sums to zero
    in the arm are left out.
    """
    idx = np.flatnonzero(mask)
    num, den = metric.unit_values(data.totals)
    num, den, day = num[idx], den[idx], data.day[idx]
    if metric.denominator is None:
        return data.row[idx], day, num
    days, inverse = np.unique(day, return_inverse=True)
    den_sum = np.bincount(inverse, weights=den, minlength=len(days))
    num_sum = np.bincount(inverse, weights=num, minlength=len(days))
    size = np.bincount(inverse, minlength=len(days))
    ok = den_sum[inverse] > 0
    ratio = np.divide(num_sum, den_sum, out=np.zeros(len(days)), where=den_sum > 0)[inverse]
    mean_den = (den_sum / np.maximum(size, 1))[inverse]
    pseudo = ratio + (num - ratio * den) / np.where(ok, mean_den, 1.0)
    return data.row[idx][ok], day[ok], pseudo[ok]
