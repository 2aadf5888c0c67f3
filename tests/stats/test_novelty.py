"""Novelty diagnosis: detects a decaying effect, leaves a constant one alone; the pieces agree
with scipy (daily Welch), statsmodels (WLS slope) and a plain-Python DiD."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from recloop.stats.novelty import UnitDays, novelty_diagnosis

DAYS = 21


def _arm(
    rng: np.random.Generator, n_units: int, effect: Callable[[np.ndarray], np.ndarray]
) -> UnitDays:
    """Units start over the first week and are seen every day until day 20 of the experiment.
    Value = 2 + the unit's own level (correlates its days) + noise + effect(days since start)."""
    start = rng.integers(0, 7, n_units)
    level = rng.normal(0, 1, n_units)
    unit = np.repeat(np.arange(n_units), DAYS - start)
    day = np.concatenate([np.arange(DAYS - s) for s in start])
    value = 2 + level[unit] + rng.normal(0, 1, len(unit)) + effect(day)
    return UnitDays(unit=unit, day=day, value=value)


def decaying(day: np.ndarray) -> np.ndarray:
    return 0.3 * np.exp(-day / 3)


def constant(day: np.ndarray) -> np.ndarray:
    return np.full(len(day), 0.15)


def none(day: np.ndarray) -> np.ndarray:
    return np.zeros(len(day))


def test_detects_a_decaying_effect_and_not_a_constant_one() -> None:
    rng = np.random.default_rng(0)
    trends: dict[str, list[str]] = {"decaying": [], "constant": []}
    late = []
    for _ in range(20):
        for name, effect in (("decaying", decaying), ("constant", constant)):
            result = novelty_diagnosis("m", _arm(rng, 2000, none), _arm(rng, 2000, effect))
            trends[name].append(result.trend)
            if name == "decaying":
                late.append(result.late_effect.effect)
    assert trends["decaying"].count("decaying") >= 19  # measured 20 of 20
    # a 5% test (measured 18 of 20 stable here, 5% flagged over 200 runs); > 3 flags is rare
    assert trends["constant"].count("stable") >= 17
    # late window is days 14-20: true effect 0.3·e^(-14/3)..0.3·e^(-20/3) ≈ 0.003
    assert np.mean(late) == pytest.approx(0.003, abs=0.01)


def test_pieces_agree_with_independent_computations() -> None:
    rng = np.random.default_rng(1)
    control, treatment = _arm(rng, 500, none), _arm(rng, 500, decaying)
    result = novelty_diagnosis("m", control, treatment, window=5)
    assert result.window == 5 and result.days == tuple(range(DAYS))
    # daily effects are Welch tests on that day's rows
    for d in (0, 7, 20):
        welch = stats.ttest_ind(
            treatment.value[treatment.day == d], control.value[control.day == d], equal_var=False
        )
        assert result.daily[d].p_value == pytest.approx(welch.pvalue, rel=1e-9)
    # slope: WLS of daily effects on day with weights 1/se² and the variances taken as known
    effects = np.array([e.effect for e in result.daily])
    se = np.array([e.se for e in result.daily])
    fit = sm.WLS(effects, sm.add_constant(np.arange(DAYS)), weights=1 / se**2).fit(
        cov_type="fixed scale"
    )
    assert result.slope == pytest.approx(fit.params[1], rel=1e-9)
    assert result.slope_se == pytest.approx(fit.bse[1], rel=1e-9)
    assert result.slope_p_value == pytest.approx(fit.pvalues[1], rel=1e-6)
    # DiD on the cohort seen in both windows (days 0-4 and 16-20), written out in plain Python
    assert result.change.effect == pytest.approx(_python_did(treatment) - _python_did(control))


def _python_did(data: UnitDays) -> float:
    early: dict[int, list[float]] = defaultdict(list)
    late: dict[int, list[float]] = defaultdict(list)
    for unit, day, value in zip(
        data.unit.tolist(), data.day.tolist(), data.value.tolist(), strict=True
    ):
        if day <= 4:
            early[unit].append(value)
        elif day >= 16:
            late[unit].append(value)
    both = [u for u in early if u in late]
    changes = [sum(late[u]) / len(late[u]) - sum(early[u]) / len(early[u]) for u in both]
    return sum(changes) / len(changes)


def test_inputs_are_validated() -> None:
    one_day = UnitDays(unit=np.arange(4), day=np.zeros(4, dtype=int), value=np.ones(4))
    with pytest.raises(ValueError, match="at least 2 days"):
        novelty_diagnosis("m", one_day, one_day)
    rng = np.random.default_rng(2)
    arm = _arm(rng, 50, none)
    with pytest.raises(ValueError, match="window"):
        novelty_diagnosis("m", arm, arm, window=11)
    with pytest.raises(ValueError, match="non-negative integers"):
        UnitDays(unit=np.arange(2), day=np.array([0.5, 1.0]), value=np.ones(2))
    with pytest.raises(ValueError, match="equal length"):
        UnitDays(unit=np.arange(2), day=np.arange(3), value=np.ones(2))


def test_a_cohort_is_needed_in_both_windows() -> None:
    # every unit is seen on one day only: nobody is in both the early and the late window
    unit, day = np.arange(40), np.tile(np.arange(4), 10)
    arm = UnitDays(unit=unit, day=day, value=np.random.default_rng(3).normal(size=40))
    with pytest.raises(ValueError, match="both early and late"):
        novelty_diagnosis("m", arm, arm, window=1)
