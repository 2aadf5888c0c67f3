"""Group-sequential boundaries on measured look correlations: values, covariance, boundaries,
p-values, and the type-I error of an indicator's daily looks."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.stats import group_sequential
from recloop.stats.estimated_design import (
    LookDesign,
    look_covariance,
    look_values,
    simulated_boundaries,
)
from recloop.stats.metrics import UnitTotals, get_metric
from recloop.stats.tables.dialect import MS_PER_DAY
from recloop.stats.tables.queries import UnitDayTotals, Units

ALPHA = 0.05


def _units(first_days: list[int]) -> Units:
    n = len(first_days)
    return Units(unit_id=np.arange(n, dtype=np.int64), variant=np.array(["control"] * n),
                 first_exposure_ms=np.array(first_days, dtype=np.int64) * MS_PER_DAY)  # fmt: skip


def _by_day(rows: list[int], days: list[int], returns: list[float]) -> UnitDayTotals:
    totals = UnitTotals.zeros(len(rows))
    totals.returns[:] = returns
    return UnitDayTotals(row=np.array(rows), day=np.array(days), totals=totals)


def test_look_values_are_cumulative_and_missing_before_entry() -> None:
    units = _units([0, 0, 2])
    by_day = _by_day([0, 1, 1, 2], [1, 0, 3, 3], [1, 0, 2, 0])  # unit 1 returns on day 3
    rate = look_values(get_metric("return_rate"), by_day, units, 0, 4)
    expected = [[0, 1, 1, 1], [0, 0, 0, 1], [np.nan, np.nan, 0, 0]]
    np.testing.assert_array_equal(rate, expected)
    sessions = look_values(get_metric("sessions_per_user"), by_day, units, 0, 4)
    assert np.isnan(sessions[2, :2]).all() and (sessions[:, 3] == 0).all()
    with pytest.raises(ValueError, match="mean metric"):
        look_values(get_metric("ctr"), by_day, units, 0, 4)


def test_covariance_of_arm_differences_by_hand() -> None:
    values = np.array([[0, 1], [1, 1], [np.nan, 0], [1, 0], [0, 0], [np.nan, 1]], dtype=float)
    treated = np.array([True, True, True, False, False, False])
    cov = look_covariance(values, treated)
    # treated: look 0 has units 0, 1 (var 0.5, n 2); look 1 has 3 units (var 1/3)
    # control: look 0 has units 3, 4 (var 0.5, n 2); look 1 has 3 units (var 1/3)
    assert cov[0, 0] == pytest.approx(0.5 / 2 + 0.5 / 2)
    assert cov[1, 1] == pytest.approx(1 / 3 / 3 * 2)
    # cross: units present at look 0: treated (0,1),(1,1) cov 0; control (1,0),(0,0) cov 0
    assert cov[0, 1] == cov[1, 0] == pytest.approx(0.0)


def test_calendar_correlation_gives_the_calendar_boundaries() -> None:
    fractions = np.arange(1, 8) / 7
    cov = np.sqrt(np.minimum.outer(fractions, fractions) / np.maximum.outer(fractions, fractions))
    simulated = simulated_boundaries(cov, fractions, ALPHA)
    exact = group_sequential.boundaries(tuple(fractions), ALPHA, two_sided=False)
    usable = np.array(exact) < 3.6  # below that the tail has too few of the 20,000 draws
    np.testing.assert_allclose(simulated[usable], np.array(exact)[usable], atol=0.1)
    assert simulated[0] > 3.5  # the first look spends almost nothing in either


def test_p_values_agree_with_the_boundary() -> None:
    fractions = np.arange(1, 6) / 10  # five looks of a ten-look design
    cov = np.sqrt(np.minimum.outer(fractions, fractions) / np.maximum.outer(fractions, fractions))
    design = LookDesign.of(cov, fractions, ALPHA)
    assert design.look == 4 and np.isfinite(design.boundary)
    assert design.p_value(design.boundary + 0.05) < ALPHA < design.p_value(design.boundary - 0.05)
    assert design.p_value(design.boundary + 1) < design.p_value(design.boundary + 0.5)
    assert design.p_value(-3.0) == 1.0


def test_an_indicator_s_daily_looks_keep_their_type_i_error() -> None:
    """Simulated A/A panels: units arrive front-loaded, return after an exponential wait; the
    harm test on 'returned by the look' crosses the measured design's boundary about α of the
    time, the calendar design's more often (its looks are less correlated than it assumes)."""
    rng = np.random.default_rng(7)
    looks, n, reps = 10, 3_000, 300
    fractions = np.arange(1, looks + 1) / looks
    calendar = np.array(group_sequential.boundaries(tuple(fractions), ALPHA, two_sided=False))
    crossed = {"measured": 0, "calendar": 0}
    for _ in range(reps):
        entry = np.minimum(rng.geometric(0.4, n) - 1, looks - 1)
        back = entry + rng.exponential(3.0, n)
        values = (back[:, None] < np.arange(1, looks + 1)[None, :]).astype(float)
        values[entry[:, None] > np.arange(looks)[None, :]] = np.nan
        treated = rng.random(n) < 0.5
        z = np.full(looks, -np.inf)
        for j in range(looks):
            a, b = values[treated, j], values[~treated, j]
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            z[j] = (b.mean() - a.mean()) / se if se > 0 else -np.inf
        bounds = simulated_boundaries(look_covariance(values, treated), fractions, ALPHA)
        crossed["measured"] += bool(np.any(z > bounds))
        crossed["calendar"] += bool(np.any(z > calendar))
    assert crossed["measured"] / reps < 0.085
    assert crossed["calendar"] > crossed["measured"]
