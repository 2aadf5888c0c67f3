"""The test's metrics, defined once: per-unit totals in, per-arm values and effects out.

A unit's totals cover its sessions from its first exposure to the end of the test. Mean metrics
average a per-unit value over units; ratio metrics divide two sums (CTR = all clicks / all
impressions), with delta-method standard errors (REFERENCES.md: GrowthBook, Eppo, Statsig).
The oracle feeds paired totals (the same units under both policies, common random numbers);
summaries of a run's tables feed the two arms' units. These are display statistics for the
simulator's reports — the inference the loop decides on lives in `recloop.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

TOTAL_FIELDS = (
    "sessions",
    "impressions",
    "clicks",
    "consumes",
    "consumption",
    "returns",
    "latency_ms",
)


@dataclass(eq=False)
class UnitTotals:
    """float64 sums per unit (index = unit of a population, or row of a table query)."""

    sessions: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    consumes: np.ndarray
    consumption: np.ndarray  # sum of consume values (satisfaction)
    returns: np.ndarray  # sessions after the first exposure (each is a return)
    latency_ms: np.ndarray  # sum over sessions of the per-user serving latency

    @classmethod
    def zeros(cls, n: int) -> UnitTotals:
        return cls(**{f.name: np.zeros(n) for f in fields(cls)})

    def add(self, units: np.ndarray, **values: np.ndarray) -> None:
        """Add per-session values; `units` must hold each unit at most once."""
        for name, value in values.items():
            getattr(self, name)[units] += value

    def take(self, index: np.ndarray) -> UnitTotals:
        return UnitTotals(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def __len__(self) -> int:
        return len(self.sessions)


@dataclass(frozen=True)
class Metric:
    """A mean of a per-unit value, or a ratio of two sums."""

    name: str
    kind: Literal["mean", "ratio"]
    numerator: str
    denominator: str | None = None
    description: str = ""

    def unit_values(self, totals: UnitTotals) -> tuple[np.ndarray, np.ndarray]:
        """Per-unit numerator and denominator (1 per unit for a mean metric)."""
        if self.name == "return_rate":
            num = (totals.returns > 0).astype(np.float64)
        else:
            num = getattr(totals, self.numerator)
        den = (
            np.ones(len(totals)) if self.denominator is None else getattr(totals, self.denominator)
        )
        return num, den


METRICS: tuple[Metric, ...] = (
    Metric("sessions_per_user", "mean", "sessions", None, "sessions per exposed unit"),
    Metric("impressions_per_user", "mean", "impressions", None, "items shown per unit"),
    Metric("clicks_per_user", "mean", "clicks", None, "clicks per unit"),
    Metric("ctr", "ratio", "clicks", "impressions", "clicks / impressions"),
    Metric("consumes_per_user", "mean", "consumes", None, "consumed items per unit"),
    Metric("consumption_per_user", "mean", "consumption", None, "summed satisfaction per unit"),
    Metric("return_rate", "mean", "returns", None, "share of units back after exposure"),
    Metric("latency_ms", "ratio", "latency_ms", "sessions", "serving ms per user request"),
)
METRIC_NAMES = tuple(m.name for m in METRICS)


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
