"""Per-unit values in SQL: the golden answers, and the same numbers from every engine."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recloop.stats.metrics import TOTAL_FIELDS, UnitTotals
from recloop.stats.tables.contract import validate
from recloop.stats.tables.dialect import to_ms
from recloop.stats.tables.queries import (
    Units,
    Window,
    assigned_units,
    pre_totals,
    sessions_by_variant,
    unit_day_totals,
    unit_totals,
    unit_totals_by_variant,
)
from recloop.stats.tables.warehouse import open_source

START = datetime(2026, 1, 8)


def _window(days: float | None = 3, experiment: str = "golden") -> Window:
    cutoff = None if days is None else to_ms(START + timedelta(days=days))
    return Window(experiment, to_ms(START), cutoff, to_ms(START - timedelta(days=14)))


@pytest.mark.parametrize("cutoff_day", [1, 2, 3])
def test_golden_test_period_totals_per_unit(
    golden_db: Path, golden_expected: Any, cutoff_day: int
) -> None:
    expected = golden_expected(cutoff_day)
    with open_source(golden_db) as wh:
        units = assigned_units(wh, _window(cutoff_day))
        totals = unit_totals(wh, _window(cutoff_day), units)
    assert units.unit_id.tolist() == sorted(expected)  # no holdout, no other experiment
    assert units.variant.tolist() == [expected[u]["variant"] for u in sorted(expected)]
    for name in TOTAL_FIELDS:
        want = [expected[u][name] for u in sorted(expected)]
        np.testing.assert_allclose(getattr(totals, name), want, err_msg=name)


def test_golden_pre_period_totals_per_unit(golden_db: Path, golden_expected: Any) -> None:
    expected = golden_expected()
    with open_source(golden_db) as wh:
        units = assigned_units(wh, _window())
        pre, present = pre_totals(wh, _window(), units)
    ids = sorted(expected)
    assert present.tolist() == [expected[u]["pre_sessions"] > 0 for u in ids]  # 6, 16 are new
    for name in ("sessions", "impressions", "clicks", "consumption", "returns"):
        np.testing.assert_allclose(getattr(pre, name), [expected[u][f"pre_{name}"] for u in ids])
    assert np.isnan(pre.latency_ms).all()


def test_the_golden_numbers_by_hand(golden_db: Path) -> None:
    with open_source(golden_db) as wh:
        units = assigned_units(wh, _window())
        totals = unit_totals(wh, _window(), units)
    control, treatment = units.variant == "control", units.variant == "treatment"
    assert totals.consumption[control].sum() == pytest.approx(4.1)
    assert totals.consumption[treatment].sum() == pytest.approx(8.4)
    assert (totals.clicks[control].sum(), totals.impressions[control].sum()) == (10, 100)
    assert (totals.clicks[treatment].sum(), totals.impressions[treatment].sum()) == (19, 108)
    assert (totals.sessions[control].sum(), totals.latency_ms[control].sum()) == (10, 109)
    assert ((totals.returns > 0)[control].sum(), (totals.returns > 0)[treatment].sum()) == (3, 4)


@pytest.mark.parametrize("burn_in", [1, 2])
def test_a_burn_in_leaves_out_exactly_each_units_first_sessions(
    golden_db: Path, golden_units: Any, burn_in: int
) -> None:
    with open_source(golden_db) as wh:
        units = assigned_units(wh, _window())
        after = unit_totals(wh, _window(), units, burn_in=burn_in)
        no_burn_in = unit_totals(wh, _window(), units, burn_in=0)
        plain = unit_totals(wh, _window(), units)
    for name in TOTAL_FIELDS:  # a burn-in of 0 sessions is no burn-in
        np.testing.assert_allclose(getattr(no_burn_in, name), getattr(plain, name))
    for row, unit in enumerate(units.unit_id.tolist()):
        sessions = sorted((s for s in golden_units[unit][1] if 0 <= s.day < 3 and s.test),
                          key=lambda s: s.day)[burn_in:]  # fmt: skip
        assert after.sessions[row] == len(sessions), unit
        assert after.impressions[row] == sum(s.impressions for s in sessions), unit
        assert after.consumption[row] == pytest.approx(sum(sum(s.consumes) for s in sessions))
        assert after.latency_ms[row] == sum(s.latency for s in sessions), unit


def test_a_burn_in_counts_only_sessions_before_the_cutoff(golden_db: Path) -> None:
    # unit 5's sessions: days 0.3, 1.3, 2.3; as of day 2 its second session is past a burn-in
    # of 1, and nothing of the third is seen
    with open_source(golden_db) as wh:
        units = assigned_units(wh, _window(2))
        after = unit_totals(wh, _window(2), units, burn_in=1)
    row = int(np.flatnonzero(units.unit_id == 5)[0])
    assert (after.sessions[row], after.consumption[row]) == (1, pytest.approx(1.0))


@pytest.mark.parametrize(("cutoff_day", "want"), [(1, (4, 4)), (2, (8, 8)), (3, (10, 11))])
def test_sessions_by_variant_counts_the_exposed_traffic(
    golden_db: Path, cutoff_day: int, want: tuple[int, int]
) -> None:
    with open_source(golden_db) as wh:
        got = sessions_by_variant(wh, _window(cutoff_day))
    assert (got["control"], got["treatment"]) == want  # unit 3 visits on day 0.2 unexposed


def test_the_simulators_view_includes_the_holdout(golden_db: Path) -> None:
    with open_source(golden_db) as wh:
        by_variant = unit_totals_by_variant(wh, "golden")
    assert {k: len(v) for k, v in by_variant.items()} == {
        "control": 6,
        "holdout": 1,
        "treatment": 6,
    }


def _everything(source: str | Path, experiment: str) -> dict[str, Any]:
    """Every per-unit query of the analysis on a source, as named arrays."""
    with open_source(source) as wh:
        info = validate(wh, experiment)
        window = Window(info.name, info.start_ms, info.effective_end_ms, info.pre_start_ms)
        units = assigned_units(wh, window)
        arrays = {"unit_id": units.unit_id, "variant": units.variant,
                  "first_exposure": units.first_exposure_ms}  # fmt: skip
        totals = {"test": unit_totals(wh, window, units), "pre": pre_totals(wh, window, units)[0],
                  "burned": unit_totals(wh, window, units, burn_in=1)}  # fmt: skip
        for axis in ("exposure", "test"):
            days = unit_day_totals(wh, window, units, axis)  # type: ignore[arg-type]
            arrays[f"{axis}-row"], arrays[f"{axis}-day"] = days.row, days.day
            totals[f"by-{axis}-day"] = days.totals
    for name, t in totals.items():
        arrays.update({f"{name}.{f.name}": getattr(t, f.name) for f in fields(UnitTotals)})
    return arrays


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if value.dtype.kind == "f":  # sums of doubles may differ in the last bit by engine
            np.testing.assert_allclose(value, b[key], rtol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(value, b[key], err_msg=key)


@pytest.fixture(scope="module", params=["golden", "sim"])
def source(request: pytest.FixtureRequest) -> tuple[Path, str]:
    if request.param == "golden":
        return request.getfixturevalue("golden_db"), "golden"
    return request.getfixturevalue("sim_db"), "exp-1"


def test_sqlite_gives_the_same_per_unit_values(
    source: tuple[Path, str], tmp_path: Path, sqlite_copy: Any
) -> None:
    path, experiment = source
    url, _ = sqlite_copy(path, tmp_path / "copy.db")
    _same(_everything(path, experiment), _everything(url, experiment))


def test_postgres_gives_the_same_per_unit_values(
    source: tuple[Path, str], postgres_copy: Any, postgres_schema: str
) -> None:
    path, experiment = source
    url = postgres_copy(path, postgres_schema)
    _same(_everything(path, experiment), _everything(url, experiment))


def test_units_map_query_rows_back(golden_db: Path) -> None:
    units = Units(np.array([3, 5, 9]), np.array(["control"] * 3), np.zeros(3, np.int64))
    assert units.rows_of(np.array([9, 3])).tolist() == [2, 0]
    with pytest.raises(AssertionError, match="not assigned"):
        units.rows_of(np.array([4]))
