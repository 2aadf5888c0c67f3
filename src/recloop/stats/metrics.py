"""The experiment's metrics, defined once: for the analysis of any tables and for the simulator.

Two layers, both declarative:

1. **Per-unit totals** (`TOTALS`): what is summed per unit, each with its SQL aggregate over the
   unit's rows of the test period — from its first exposure up to the look (`x` is an
   `exposures` row of the experiment, `v` an `events` row, `a` the unit's `assignments` row) —
   and, where the events allow, over the pre-period before the experiment's start (the CUPED
   covariate and the segments). The pre-period has no exposures, so its sessions are the
   distinct `events.session_id`s and serving latency has no pre-period value.
2. **Metrics** (`METRICS`): the mean over units of a per-unit total (or of the indicator that
   it is positive: `return_rate`), or the ratio of two totals summed over units (CTR = all clicks
   / all impressions; delta-method variance, see `summary`), with the direction that is better.

The SQL is portable (no FILTER clause, CASE inside the aggregate); `{later}` is the dialect's
"strictly after the first exposure" (a return logged at the first exposure session is the
unit's arrival, not a return). The simulator's engine counts the same totals in memory and its
tests check that both agree unit for unit.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

Direction = Literal["higher", "lower"]
Source = Literal["exposures", "events"]


def _count(event_type: str) -> str:
    return f"SUM(CASE WHEN v.event_type = '{event_type}' THEN 1 ELSE 0 END)"


@dataclass(frozen=True)
class Total:
    """A per-unit sum: its table and its SQL aggregate in the test period and the pre-period."""

    name: str
    source: Source
    test_sql: str
    pre_sql: str | None  # over events before the start; None: not measurable there
    description: str


TOTALS: tuple[Total, ...] = (
    Total("sessions", "exposures", "COUNT(*)", "COUNT(DISTINCT v.session_id)",
          "sessions (exposures rows; distinct event sessions before the start)"),
    Total("impressions", "events", _count("impression"), _count("impression"), "items shown"),
    Total("clicks", "events", _count("click"), _count("click"), "clicks"),
    Total("consumes", "events", _count("consume"), _count("consume"), "items consumed"),
    Total("consumption", "events",
          "SUM(CASE WHEN v.event_type = 'consume' THEN v.value ELSE 0 END)",
          "SUM(CASE WHEN v.event_type = 'consume' THEN v.value ELSE 0 END)",
          "summed satisfaction of consumed items"),
    Total("returns", "events",
          "SUM(CASE WHEN v.event_type = 'return' AND {later} THEN 1 ELSE 0 END)",
          _count("return"), "sessions that are a return, after the first exposure"),
    Total("latency_ms", "exposures", "SUM(x.latency_ms)", None,
          "serving milliseconds summed over sessions"),
)  # fmt: skip
TOTAL_FIELDS = tuple(t.name for t in TOTALS)


@dataclass(eq=False)
class UnitTotals:
    """float64 totals per unit (index = unit of a population, or row of a table query)."""

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
    """A mean of a per-unit value, or a ratio of two per-unit totals summed over units."""

    name: str
    kind: Literal["mean", "ratio"]
    numerator: str
    denominator: str | None = None
    description: str = ""
    direction: Direction = "higher"
    indicator: bool = False  # the per-unit value is 1 when the numerator is positive

    def unit_values(self, totals: UnitTotals) -> tuple[np.ndarray, np.ndarray]:
        """Per-unit numerator and denominator (1 per unit for a mean metric)."""
        num = getattr(totals, self.numerator)
        if self.indicator:
            num = (num > 0).astype(np.float64)
        den = (
            np.ones(len(totals)) if self.denominator is None else getattr(totals, self.denominator)
        )
        return num, den

    @property
    def totals(self) -> tuple[str, ...]:
        """The per-unit totals the metric reads."""
        return (self.numerator,) if self.denominator is None else (self.numerator, self.denominator)


METRICS: tuple[Metric, ...] = (
    Metric("sessions_per_user", "mean", "sessions", None, "sessions per exposed unit"),
    Metric("impressions_per_user", "mean", "impressions", None, "items shown per unit"),
    Metric("clicks_per_user", "mean", "clicks", None, "clicks per unit"),
    Metric("ctr", "ratio", "clicks", "impressions", "clicks / impressions"),
    Metric("consumes_per_user", "mean", "consumes", None, "consumed items per unit"),
    Metric("consumption_per_user", "mean", "consumption", None, "summed satisfaction per unit"),
    Metric("return_rate", "mean", "returns", None, "share of units back after exposure",
           indicator=True),
    Metric("latency_ms", "ratio", "latency_ms", "sessions", "serving ms per user request",
           direction="lower"),
)  # fmt: skip
METRIC_NAMES = tuple(m.name for m in METRICS)
_BY_NAME = {m.name: m for m in METRICS}


def get_metric(name: str) -> Metric:
    """The metric called `name`; an unknown name is refused with the closest known ones."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    close = difflib.get_close_matches(name, METRIC_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown metric {name!r}{hint}; known: {', '.join(METRIC_NAMES)}")


def has_pre_period(metric: Metric) -> bool:
    """Whether every total the metric reads is measurable before the start (CUPED possible)."""
    by_name = {t.name: t for t in TOTALS}
    return all(by_name[name].pre_sql is not None for name in metric.totals)
