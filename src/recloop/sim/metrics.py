"""The test's metrics: per-unit totals in, per-arm values and effects out.

The definitions (totals, metrics, their SQL) live in `recloop.stats.metrics`, shared with the
analysis of any experiment's tables; this module re-exports them. A unit's totals cover its
sessions from its first exposure to the end of the test. Mean metrics average a per-unit value
over units; ratio metrics divide two sums (CTR = all clicks / all impressions), with
delta-method standard errors (REFERENCES.md: GrowthBook, Eppo, Statsig). The oracle feeds paired
totals (the same units under both policies, common random numbers); summaries of a run's tables
feed the two arms' units. These are display statistics for the simulator's reports — the
inference the loop decides on lives in `recloop.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.stats.metrics import METRIC_NAMES, METRICS, TOTAL_FIELDS, Metric, UnitTotals

__all__ = [
    "METRICS",
    "METRIC_NAMES",
    "TOTAL_FIELDS",
    "Effect",
    "Metric",
    "UnitTotals",
    "arm_value",
    "independent_effect",
    "paired_effect",
]


@dataclass(frozen=True)
class Effect:
    """A metric under control and treatment, their difference and its standard error."""

    control: float
    treatment: float
    effect: float
    se: float

    @property
    def relative_effect(self) -> float:
        return self.effect / self.control if self.control else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {
            "control": self.control,
            "treatment": self.treatment,
            "effect": self.effect,
            "se": self.se,
            "relative_effect": self.relative_effect,
        }


def _linearised(num: np.ndarray, den: np.ndarray) -> tuple[float, np.ndarray]:
    """Ratio of sums and each unit's influence on it (delta method)."""
    mean_den = den.mean()
    ratio = float(num.sum() / den.sum()) if den.sum() else 0.0
    influence = (num - ratio * den) / mean_den if mean_den else np.zeros_like(num)
    return ratio, influence


def arm_value(metric: Metric, totals: UnitTotals) -> tuple[float, float]:
    """The metric of one arm and its standard error."""
    num, den = metric.unit_values(totals)
    n = len(totals)
    if n == 0:
        return float("nan"), float("nan")
    value, influence = _linearised(num, den)
    se = float(influence.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return value, se


def independent_effect(metric: Metric, control: UnitTotals, treatment: UnitTotals) -> Effect:
    """Difference of two independent arms, with its (Welch / delta-method) standard error."""
    c, se_c = arm_value(metric, control)
    t, se_t = arm_value(metric, treatment)
    return Effect(c, t, t - c, float(np.hypot(se_c, se_t)))


def paired_effect(metric: Metric, control: UnitTotals, treatment: UnitTotals) -> Effect:
    """Difference of the same units under two policies, with its paired standard error."""
    if len(control) != len(treatment):
        raise ValueError("paired totals must cover the same units")
    c, infl_c = _linearised(*metric.unit_values(control))
    t, infl_t = _linearised(*metric.unit_values(treatment))
    n = len(control)
    se = float((infl_t - infl_c).std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return Effect(c, t, t - c, se)
