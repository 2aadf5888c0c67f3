"""Zero-filled unit-day panels and cumulative snapshots (sequential looks from one query)."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recloop.stats.metrics import UnitTotals, get_metric
from recloop.stats.tables.contract import validate
from recloop.stats.tables.daily import daily_values, panel, snapshot
from recloop.stats.tables.dialect import MS_PER_DAY
from recloop.stats.tables.queries import Window, assigned_units, unit_day_totals, unit_totals
from recloop.stats.tables.warehouse import open_source


def test_the_golden_exposure_day_panel(golden_db: Path, golden_units: Any) -> None:
    with open_source(golden_db) as wh:
        info = validate(wh, "golden")
        window = Window("golden", info.start_ms, info.end_ms)
        units = assigned_units(wh, window)
        data = panel(units, unit_day_totals(wh, window, units, "exposure"), "exposure",
                     info.start_ms, info.end_ms)  # fmt: skip
    expected: dict[tuple[int, int], float] = {}
    for unit, (variant, sessions) in golden_units.items():
        if variant == "holdout":
            continue
        first = min(s.day for s in sessions if s.day >= 0 and s.test)
        for day in range(math.floor(3 - first)):  # whole days before the end
            expected[(unit, day)] = 0.0
        for s in sessions:
            day = math.floor(s.day - first)
            if s.test and first <= s.day < 3 and (unit, day) in expected:
                expected[(unit, day)] += sum(s.consumes)
    cells = zip(data.row, data.day, data.totals.consumption, strict=True)
    got = {(int(units.unit_id[r]), int(d)): float(v) for r, d, v in cells}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key


def test_the_test_day_panel_covers_each_unit_from_its_first_day(golden_db: Path) -> None:
    with open_source(golden_db) as wh:
        info = validate(wh, "golden")
        window = Window("golden", info.start_ms, info.end_ms)
        units = assigned_units(wh, window)
        data = panel(units, unit_day_totals(wh, window, units, "test"), "test",
                     info.start_ms, info.end_ms)  # fmt: skip
    first_day = (units.first_exposure_ms - info.start_ms) // MS_PER_DAY
    for row in range(len(units)):
        assert data.day[data.row == row].tolist() == list(range(first_day[row], 3))
    total = np.bincount(data.row, weights=data.totals.sessions, minlength=len(units))
    with open_source(golden_db) as wh:
        np.testing.assert_array_equal(total, unit_totals(wh, window, units).sessions)


def test_snapshots_equal_querying_at_each_look(sim_db: Path) -> None:
    with open_source(sim_db) as wh:
        info = validate(wh, "exp-1")
        whole = Window("exp-1", info.start_ms, info.end_ms)
        units = assigned_units(wh, whole)
        by_day = unit_day_totals(wh, whole, units, "test")
        for day in range(5):
            look = Window("exp-1", info.start_ms, info.start_ms + (day + 1) * MS_PER_DAY)
            direct_units = assigned_units(wh, look)
            direct = unit_totals(wh, look, direct_units)
            members, totals = snapshot(units, by_day, info.start_ms, day)
            np.testing.assert_array_equal(units.unit_id[members], direct_units.unit_id)
            for f in fields(UnitTotals):
                np.testing.assert_allclose(getattr(totals, f.name), getattr(direct, f.name))


def test_ratio_pseudo_values_average_to_each_days_ratio(sim_db: Path) -> None:
    with open_source(sim_db) as wh:
        info = validate(wh, "exp-1")
        window = Window("exp-1", info.start_ms, info.end_ms)
        units = assigned_units(wh, window)
        data = panel(units, unit_day_totals(wh, window, units, "exposure"), "exposure",
                     info.start_ms, info.end_ms)  # fmt: skip
    arm = units.variant[data.row] == "treatment"
    rows, days, values = daily_values(get_metric("ctr"), data, arm)
    for day in np.unique(days):
        here = arm & (data.day == day)
        ratio = data.totals.clicks[here].sum() / data.totals.impressions[here].sum()
        assert values[days == day].mean() == pytest.approx(ratio)
    rows, days, values = daily_values(get_metric("return_rate"), data, arm)
    assert set(np.unique(values)) <= {0.0, 1.0} and len(rows) == arm.sum()
