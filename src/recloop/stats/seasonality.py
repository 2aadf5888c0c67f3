"""Seasonality: days whose level jumps in both arms while the effect does not.

A shock (a holiday, an outage, a marketing push) moves the metric in both arms. It is no reason
to ship or not to ship: randomisation keeps the comparison fair; what matters is whether the
*effect* changed while the world did. Per calendar day of the test (the caller chooses the units
of a day: `recloop analyze` takes the units active that day):

- the control's daily mean with its standard error, and the day's effect;
- **steps**: day-to-day changes of the control mean that are abrupt — at least `min_shift`
  relative, and significant by a z-test on the two days' standard errors, Bonferroni-corrected
  over the T - 1 changes at `step_alpha`. A shock is abrupt; the slow drift of a test's metrics
  as its units age (consumed items, fatigue, novelty wearing off) is not, and is left alone;
- the steps cut the days into runs; the first run is the normal level (the longest when the
  first is a single day) and the days of other runs whose mean differs from it by at least
  `min_shift` are the **shocked days** (a one-day shock is a step down and a step back);
- **effect stability**: the *relative* effect on shocked days vs normal days (a shock that
  scales the metric scales an absolute effect with it). The test is a difference-in-differences
  on the units seen in both periods: each unit's mean on shocked days over the control's mean
  then, minus the same on normal days; Welch between arms estimates (relative effect when
  shocked) - (relative effect otherwise) with one value per unit, so the days a unit shares do
  not fake precision. It is a diagnosis, not a decision input.

Input, as for `novelty`: one row per (unit, day) the caller counts on that day, here calendar
days of the test; ratio metrics as per-day pseudo-values.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import special

from recloop.stats.effect import estimate_effect
from recloop.stats.novelty import UnitDays
from recloop.stats.summary import arm_stats

Verdict = Literal["too_few_days", "no_shock", "shock_effect_stable", "shock_effect_changed"]
MIN_DAYS = 4


class DayEffect(BaseModel):
    """One calendar day of the test: both arms' means and the day's effect."""

    model_config = ConfigDict(frozen=True)

    day: int
    n_control: int
    n_treatment: int
    control_mean: float
    control_se: float
    treatment_mean: float
    effect: float
    relative_effect: float | None
    relative_se: float | None
    ci_low: float
    ci_high: float


class SeasonalityDiagnosis(BaseModel):
    """Abrupt level changes of the control metric and whether the effect moved with them."""

    model_config = ConfigDict(frozen=True)

    metric: str
    days: tuple[DayEffect, ...]
    step_days: tuple[int, ...] = ()  # days whose level jumped from the day before
    shock_days: tuple[int, ...] = ()
    control_change: float | None = None  # relative level of shocked days vs normal days
    effect_normal: float | None = None  # pooled relative effect on normal days
    effect_shock: float | None = None  # pooled relative effect on shocked days
    difference_p_value: float | None = None
    verdict: Verdict


def _steps(m: np.ndarray, se: np.ndarray, min_shift: float, step_alpha: float) -> list[int]:
    """Indices t (>= 1) where the level jumps from day t - 1 to day t."""
    found = []
    tests = len(m) - 1
    for t in range(1, len(m)):
        base = m[t - 1]
        if base == 0 or abs(m[t] / base - 1) < min_shift:
            continue
        spread = np.hypot(se[t], se[t - 1])
        p = 0.0 if spread == 0 else float(2 * special.ndtr(-abs(m[t] - base) / spread))
        if p * tests < step_alpha:
            found.append(t)
    return found


def _shocked(m: np.ndarray, steps: list[int], min_shift: float) -> np.ndarray:
    """Days outside the normal run whose level differs from it by at least min_shift.

    The normal run is the test's first (its level at the start), unless that is a single day,
    a blip at the start; then the longest run.
    """
    runs = list(pairwise([0, *steps, len(m)]))
    lo, hi = runs[0] if runs[0][1] - runs[0][0] >= 2 else max(runs, key=lambda r: r[1] - r[0])
    normal = m[lo:hi].mean()
    shocked = np.zeros(len(m), bool)
    if normal == 0:
        return shocked
    for a, b in runs:
        if (a, b) != (lo, hi) and abs(m[a:b].mean() / normal - 1) >= min_shift:
            shocked[a:b] = True
    return shocked


def _day(metric: str, day: int, c: np.ndarray, t: np.ndarray, alpha: float) -> DayEffect:
    sc, st = arm_stats(c), arm_stats(t)
    e = estimate_effect(f"{metric}@test-day{day}", sc, st, alpha=alpha)
    return DayEffect(
        day=day, n_control=sc.n, n_treatment=st.n, control_mean=e.control_mean,
        control_se=float(np.sqrt(sc.variance / sc.n)), treatment_mean=e.treatment_mean,
        effect=e.effect, relative_effect=e.relative_effect, relative_se=e.relative_se,
        ci_low=e.ci_low, ci_high=e.ci_high,
    )  # fmt: skip


def _unit_means(data: UnitDays, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit ids and each unit's mean over its rows on `days`."""
    rows = np.isin(data.day, days)
    ids, inverse = np.unique(data.unit[rows], return_inverse=True)
    sums = np.bincount(inverse, weights=data.value[rows], minlength=len(ids))
    return ids, sums / np.bincount(inverse, minlength=len(ids))


def _scaled_change(data: UnitDays, shocked: np.ndarray, normal: np.ndarray,
                   levels: tuple[float, float]) -> np.ndarray:  # fmt: skip
    """Per unit seen in both periods: mean when shocked / level then - mean otherwise / level."""
    ids_s, mean_s = _unit_means(data, shocked)
    ids_n, mean_n = _unit_means(data, normal)
    _, at_s, at_n = np.intersect1d(ids_s, ids_n, assume_unique=True, return_indices=True)
    return mean_s[at_s] / levels[0] - mean_n[at_n] / levels[1]


def _period_mean(data: UnitDays, days: np.ndarray) -> float:
    return float(data.value[np.isin(data.day, days)].mean())


def seasonality_diagnosis(
    metric: str,
    control: UnitDays,
    treatment: UnitDays,
    *,
    alpha: float = 0.05,
    min_shift: float = 0.10,
    step_alpha: float = 0.01,
) -> SeasonalityDiagnosis:
    """Daily effects by calendar day, shocked days of the control, and the effect's stability."""
    effects = []
    for day in np.unique(np.concatenate([control.day, treatment.day])):
        c, t = control.value[control.day == day], treatment.value[treatment.day == day]
        if len(c) >= 2 and len(t) >= 2:
            effects.append(_day(metric, int(day), c, t, alpha))
    if len(effects) < MIN_DAYS:
        return SeasonalityDiagnosis(metric=metric, days=tuple(effects), verdict="too_few_days")
    m = np.array([d.control_mean for d in effects])
    se = np.array([d.control_se for d in effects])
    labels = np.array([d.day for d in effects])
    steps = _steps(m, se, min_shift, step_alpha)
    shocked = _shocked(m, steps, min_shift)
    step_days = tuple(int(labels[t]) for t in steps)
    if not shocked.any():
        return SeasonalityDiagnosis(
            metric=metric, days=tuple(effects), step_days=step_days, verdict="no_shock"
        )
    shock_days, normal_days = labels[shocked], labels[~shocked]
    levels = (_period_mean(control, shock_days), _period_mean(control, normal_days))
    result = SeasonalityDiagnosis(
        metric=metric, days=tuple(effects), step_days=step_days,
        shock_days=tuple(int(d) for d in shock_days), verdict="shock_effect_stable",
    )  # fmt: skip
    if min(abs(levels[0]), abs(levels[1])) == 0:
        return result
    treated = (_period_mean(treatment, shock_days), _period_mean(treatment, normal_days))
    change_c = _scaled_change(control, shock_days, normal_days, levels)
    change_t = _scaled_change(treatment, shock_days, normal_days, levels)
    p = None
    if min(len(change_c), len(change_t)) >= 2:
        did = estimate_effect(f"{metric}:shock-minus-normal", arm_stats(change_c),
                              arm_stats(change_t), alpha=alpha)  # fmt: skip
        p = did.p_value
    return result.model_copy(update={
        "control_change": levels[0] / levels[1] - 1,
        "effect_shock": treated[0] / levels[0] - 1,
        "effect_normal": treated[1] / levels[1] - 1,
        "difference_p_value": p,
        "verdict": "shock_effect_changed" if p is not None and p < alpha else "shock_effect_stable",
    })  # fmt: skip
