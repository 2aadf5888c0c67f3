"""Novelty diagnosis: does the effect fade with days since a unit's first exposure?

A changed recommender often gets a transient lift because it is new (novelty) or a transient
dip because it is unfamiliar (primacy); shipping on the early effect then over-promises.
Following Sadeghi et al. (Microsoft, "Novelty and Primacy: A Long-Term Estimator for Online
Experiments", 2021; REFERENCES.md) the effect is indexed by days since *each unit's* first
exposure, not by calendar day, and compared early vs late by difference-in-differences:

- `daily`: the Welch effect on each day since first exposure (the curve to look at);
- `slope`: weighted least squares of daily effects on day (weights 1/se²) — descriptive,
  since the same units appear on many days and the daily effects are not independent;
- `change`: the test. Units seen in both the early window (first `window` days) and the late
  window (last `window` days) give d_i = late mean - early mean; Welch on d between arms is
  the DiD (late effect - early effect) on one fixed cohort, so a change in who is observed
  cannot masquerade as decay, and a unit's days being correlated is accounted for.
- `trend`: "decaying" when the change is significant and opposes the early effect's sign
  (the early effect overstates the later one, the risk when shipping on it), "growing" for a
  significant change in the early effect's direction, else "stable". The early effect itself
  need not be significant: it carries the between-unit noise the cohort DiD cancels;
- `late_effect`: the effect over the late window, the better guess of the long-run effect.

Input: one row per unit and day since its first exposure (zeros included, not missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import special

from recloop.stats.effect import Effect, estimate_effect
from recloop.stats.summary import ArmStats, arm_stats

Trend = Literal["decaying", "growing", "stable"]


@dataclass(frozen=True, eq=False)
class UnitDays:
    """One arm's metric in long format: unit id, day since its first exposure, value."""

    unit: np.ndarray
    day: np.ndarray
    value: np.ndarray

    def __post_init__(self) -> None:
        unit, day = np.asarray(self.unit), np.asarray(self.day)
        value = np.asarray(self.value, dtype=np.float64)
        if not (unit.ndim == day.ndim == value.ndim == 1 and len(unit) == len(day) == len(value)):
            raise ValueError("unit, day and value must be 1-d arrays of equal length")
        if len(day) and (not np.issubdtype(day.dtype, np.integer) or day.min() < 0):
            raise ValueError("day must hold non-negative integers (days since first exposure)")
        if not np.all(np.isfinite(value)):
            raise ValueError("value has NaN or infinite entries")
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "day", day)
        object.__setattr__(self, "value", value)


class NoveltyDiagnosis(BaseModel):
    """The effect curve over days since first exposure and the early-vs-late test."""

    model_config = ConfigDict(frozen=True)

    metric: str
    alpha: float
    window: int  # days in each of the early and late windows
    days: tuple[int, ...]  # the days in `daily`
    daily: tuple[Effect, ...]
    slope: float | None  # effect change per day (WLS), None with < 2 usable days
    slope_se: float | None
    slope_p_value: float | None
    early_effect: Effect
    late_effect: Effect
    change: Effect  # DiD on the cohort seen early and late: late effect - early effect
    trend: Trend

    @property
    def decaying(self) -> bool:
        return self.trend == "decaying"


def _window_means(data: UnitDays, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit ids and each unit's mean value over days lo..hi (inclusive)."""
    rows = (data.day >= lo) & (data.day <= hi)
    ids, inverse = np.unique(data.unit[rows], return_inverse=True)
    sums = np.bincount(inverse, weights=data.value[rows], minlength=len(ids))
    counts = np.bincount(inverse, minlength=len(ids))
    return ids, sums / counts


def _cohort_change(data: UnitDays, early: tuple[int, int], late: tuple[int, int]) -> np.ndarray:
    ids_e, mean_e = _window_means(data, *early)
    ids_l, mean_l = _window_means(data, *late)
    _, at_e, at_l = np.intersect1d(ids_e, ids_l, assume_unique=True, return_indices=True)
    return mean_l[at_l] - mean_e[at_e]


def _daily_stats(data: UnitDays, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.bincount(data.day, minlength=n_days).astype(np.float64)
    s = np.bincount(data.day, weights=data.value, minlength=n_days)
    ss = np.bincount(data.day, weights=data.value**2, minlength=n_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        var = (ss - n * mean**2) / (n - 1)
    return n, mean, np.maximum(var, 0.0)


def _daily_effects(
    metric: str, control: UnitDays, treatment: UnitDays, n_days: int, alpha: float
) -> tuple[list[int], list[Effect]]:
    """Welch effect per day since first exposure (days with < 2 units in an arm are left out)."""
    stats_c, stats_t = _daily_stats(control, n_days), _daily_stats(treatment, n_days)
    days, daily = [], []
    for d in range(n_days):
        if stats_c[0][d] < 2 or stats_t[0][d] < 2:
            continue
        c = ArmStats.from_moments(int(stats_c[0][d]), stats_c[1][d], stats_c[2][d])
        t = ArmStats.from_moments(int(stats_t[0][d]), stats_t[1][d], stats_t[2][d])
        days.append(d)
        daily.append(estimate_effect(f"{metric}@day{d}", c, t, alpha=alpha))
    return days, daily


def _wls_slope(
    days: np.ndarray, effects: np.ndarray, se: np.ndarray
) -> tuple[float, float, float] | None:
    usable = se > 0
    if usable.sum() < 2:
        return None
    x, y, w = days[usable], effects[usable], 1 / se[usable] ** 2
    x_bar = np.sum(w * x) / w.sum()
    sxx = np.sum(w * (x - x_bar) ** 2)
    if sxx == 0:
        return None
    slope = float(np.sum(w * (x - x_bar) * y) / sxx)
    slope_se = float(1 / np.sqrt(sxx))
    return slope, slope_se, float(2 * special.ndtr(-abs(slope) / slope_se))


def _trend(early: Effect, change: Effect) -> Trend:
    if not change.significant:
        return "stable"
    if np.sign(change.effect) == -np.sign(early.effect):
        return "decaying"
    return "growing"


def novelty_diagnosis(
    metric: str,
    control: UnitDays,
    treatment: UnitDays,
    *,
    window: int | None = None,
    alpha: float = 0.05,
) -> NoveltyDiagnosis:
    """Effect by day since first exposure and the early-vs-late difference-in-differences."""
    last = int(max(control.day.max(initial=-1), treatment.day.max(initial=-1)))
    if last < 1:
        raise ValueError(f"{metric}: novelty needs at least 2 days since first exposure")
    window = max(1, (last + 1) // 3) if window is None else window
    if not 1 <= window <= (last + 1) // 2:
        raise ValueError(f"{metric}: window {window} must be in 1..{(last + 1) // 2}")
    early, late = (0, window - 1), (last - window + 1, last)

    days, daily = _daily_effects(metric, control, treatment, last + 1, alpha)
    trend_fit = _wls_slope(
        np.array(days, np.float64),
        np.array([e.effect for e in daily]),
        np.array([e.se for e in daily]),
    )

    def window_effect(name: str, bounds: tuple[int, int]) -> Effect:
        c, t = _window_means(control, *bounds)[1], _window_means(treatment, *bounds)[1]
        return estimate_effect(f"{metric}:{name}", arm_stats(c), arm_stats(t), alpha=alpha)

    early_effect, late_effect = window_effect("early", early), window_effect("late", late)
    cohort_c, cohort_t = (
        _cohort_change(control, early, late),
        _cohort_change(treatment, early, late),
    )
    if min(len(cohort_c), len(cohort_t)) < 2:
        raise ValueError(f"{metric}: fewer than 2 units per arm seen in both early and late window")
    change = estimate_effect(
        f"{metric}:late-minus-early", arm_stats(cohort_c), arm_stats(cohort_t), alpha=alpha
    )
    slope, slope_se, slope_p = trend_fit if trend_fit is not None else (None, None, None)
    return NoveltyDiagnosis(
        metric=metric,
        alpha=alpha,
        window=window,
        days=tuple(days),
        daily=tuple(daily),
        slope=slope,
        slope_se=slope_se,
        slope_p_value=slope_p,
        early_effect=early_effect,
        late_effect=late_effect,
        change=change,
        trend=_trend(early_effect, change),
    )
