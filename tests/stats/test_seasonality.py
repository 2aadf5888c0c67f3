"""Seasonality on constructed unit-day panels with known shocks."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.stats.novelty import UnitDays
from recloop.stats.seasonality import seasonality_diagnosis

UNITS, DAYS = 400, 10


def _panel(
    rng: np.random.Generator, level: np.ndarray, lift: np.ndarray, drift: float = 0.0
) -> tuple[UnitDays, UnitDays]:
    """Control and treatment: per-unit baseline x day level x (1 + lift on treatment), noisy."""
    arms = []
    for arm, offset in ((0.0, 0), (1.0, UNITS)):
        base = rng.gamma(4.0, 0.25, UNITS)
        days = np.arange(DAYS)
        mean = base[:, None] * level[None, :] * (1 + arm * lift[None, :]) * (1 - drift * days)
        values = rng.poisson(mean * 5) / 5.0
        unit = np.repeat(np.arange(UNITS) + offset, DAYS)
        arms.append(UnitDays(unit=unit, day=np.tile(days, UNITS), value=values.ravel()))
    return arms[0], arms[1]


def test_a_steady_test_has_no_shock() -> None:
    c, t = _panel(np.random.default_rng(1), np.ones(DAYS), np.full(DAYS, 0.1))
    result = seasonality_diagnosis("m", c, t)
    assert result.verdict == "no_shock" and result.shock_days == () and len(result.days) == DAYS


def test_a_slow_drift_is_not_a_shock() -> None:
    c, t = _panel(np.random.default_rng(2), np.ones(DAYS), np.full(DAYS, 0.1), drift=0.04)
    assert seasonality_diagnosis("m", c, t).verdict == "no_shock"  # -36% over ten days


def test_a_level_shift_with_a_stable_relative_effect() -> None:
    level = np.where(np.arange(DAYS) >= 6, 0.5, 1.0)
    c, t = _panel(np.random.default_rng(3), level, np.full(DAYS, 0.2))
    result = seasonality_diagnosis("m", c, t)
    assert result.verdict == "shock_effect_stable"
    assert result.step_days == (6,) and result.shock_days == (6, 7, 8, 9)
    assert result.control_change == pytest.approx(-0.5, abs=0.05)
    assert result.effect_normal is not None and result.effect_shock is not None
    assert result.effect_normal == pytest.approx(0.2, abs=0.1)  # arms' baselines differ by chance
    assert result.effect_shock == pytest.approx(result.effect_normal, abs=0.08)  # same units


def test_a_one_day_shock_whose_effect_vanishes() -> None:
    level = np.where(np.arange(DAYS) == 4, 1.8, 1.0)
    lift = np.where(np.arange(DAYS) == 4, 0.0, 0.3)
    c, t = _panel(np.random.default_rng(4), level, lift)
    result = seasonality_diagnosis("m", c, t)
    assert result.step_days == (4, 5) and result.shock_days == (4,)
    assert result.verdict == "shock_effect_changed" and result.difference_p_value is not None
    assert result.difference_p_value < 0.001


def test_too_few_days() -> None:
    c, t = _panel(np.random.default_rng(5), np.ones(DAYS), np.zeros(DAYS))
    keep_c, keep_t = c.day < 3, t.day < 3
    short = seasonality_diagnosis(
        "m",
        UnitDays(c.unit[keep_c], c.day[keep_c], c.value[keep_c]),
        UnitDays(t.unit[keep_t], t.day[keep_t], t.value[keep_t]),
    )
    assert short.verdict == "too_few_days" and len(short.days) == 3
