"""Novelty, seasonality and segments of one look, from the per-unit data of `tables`.

Each turns unit-day panels or pre-period labels into the inputs of the pure diagnoses
(`novelty_diagnosis`, `seasonality_diagnosis`, `segment_effects`) and returns their summaries.
They describe the result; only novelty can change a decision (see `analysis`). All use the
fixed-horizon Welch test, whatever the look's inference: they are read once, not peeked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recloop.stats.attribution import NoveltySummary, SegmentSummary
from recloop.stats.metrics import Metric, UnitTotals, has_pre_period
from recloop.stats.novelty import UnitDays, novelty_diagnosis
from recloop.stats.seasonality import SeasonalityDiagnosis, seasonality_diagnosis
from recloop.stats.segments import segment_effects
from recloop.stats.summary import ArmData
from recloop.stats.tables.contract import ExperimentInfo
from recloop.stats.tables.daily import Panel, daily_values, panel
from recloop.stats.tables.queries import UnitDayTotals, Units, Window, unit_day_totals
from recloop.stats.tables.warehouse import Warehouse

ARMS = ("control", "treatment")


@dataclass(frozen=True, eq=False)
class LookData:
    """The compared units of a look, their test-period totals and pre-period totals."""

    units: Units
    totals: UnitTotals
    pre: UnitTotals | None  # None: no pre-period in the tables

    def rows(self, arm: str) -> np.ndarray:
        return np.flatnonzero(self.units.variant == arm)

    def count(self, arm: str) -> int:
        return int((self.units.variant == arm).sum())

    def arm(self, metric: Metric, arm: str, *, with_pre: bool = True) -> ArmData:
        """One arm's per-unit data of `metric`; the pre-period (NaN: a new unit) when asked."""
        return arm_data(metric, self.totals, self.pre if with_pre else None, self.rows(arm))


def arm_data(
    metric: Metric, totals: UnitTotals, pre: UnitTotals | None, rows: np.ndarray
) -> ArmData:
    """ArmData of `metric` for some units; with `pre`, units without pre-period sessions are NaN."""
    num, den = metric.unit_values(totals.take(rows))
    denominator = den if metric.denominator is not None else None
    if pre is None or not has_pre_period(metric):
        return ArmData(values=num, denominator=denominator)
    before = pre.take(rows)
    pre_num, pre_den = metric.unit_values(before)
    new = before.sessions == 0
    return ArmData(
        values=num,
        denominator=denominator,
        pre=np.where(new, np.nan, pre_num),
        pre_denominator=None if denominator is None else np.where(new, 0.0, pre_den),
    )


def novelty(metric: Metric, panel: Panel, units: Units, alpha: float) -> NoveltySummary:
    """The effect by whole days since first exposure (raises ValueError with too few days)."""
    arms = []
    for arm in ARMS:
        rows, days, values = daily_values(metric, panel, units.variant[panel.row] == arm)
        arms.append(UnitDays(unit=rows, day=days, value=values))
    return NoveltySummary.of(novelty_diagnosis(metric.name, arms[0], arms[1], alpha=alpha))


def seasonality(metric: Metric, panel: Panel, units: Units, alpha: float) -> SeasonalityDiagnosis:
    """The effect by calendar day of the test among the units active that day (an experiment
    session that day: the share of assigned units still active falls as a test ages, which
    would look like a trend), shocked days of the control, and the effect's stability."""
    active = panel.totals.sessions > 0
    arms = []
    for arm in ARMS:
        rows, days, values = daily_values(metric, panel, (units.variant[panel.row] == arm) & active)
        arms.append(UnitDays(unit=rows, day=days, value=values))
    return seasonality_diagnosis(metric.name, arms[0], arms[1], alpha=alpha)


def segment_labels(pre: UnitTotals) -> dict[str, np.ndarray]:
    """Per unit: tenure (new: no pre-period session) and, for returning units, activity
    (light: pre-period sessions at or below the returning units' median; heavy: above). Units
    outside a dimension are labelled ''."""
    returning = pre.sessions > 0
    tenure = np.where(returning, "returning", "new")
    activity = np.full(len(pre), "", dtype=object)
    if returning.any():
        median = float(np.median(pre.sessions[returning]))
        activity[returning] = np.where(pre.sessions[returning] <= median, "light", "heavy")
    return {"tenure": tenure.astype(object), "activity": activity}


def segments(metric: Metric, data: LookData, alpha: float) -> list[SegmentSummary]:
    """Segment-vs-rest effects along each pre-period dimension (Bonferroni within each)."""
    if data.pre is None:
        return []
    out = []
    for dimension, labels in segment_labels(data.pre).items():
        arms = []
        for arm in ARMS:
            rows = data.rows(arm)
            rows = rows[labels[rows] != ""]
            arms.append((arm_data(metric, data.totals, None, rows), labels[rows].astype(str)))
        (c, seg_c), (t, seg_t) = arms
        if min(c.n, t.n) < 2:
            continue
        report = segment_effects(metric.name, c, t, seg_c, seg_t, dimension=dimension, alpha=alpha)
        out.append(SegmentSummary.of(report))
    return out


def diagnoses(
    wh: Warehouse,
    info: ExperimentInfo,
    window: Window,
    data: LookData,
    exposure_days: UnitDayTotals,
    primaries: Sequence[Metric],
    alpha: float,
    cutoff: int,
    notes: list[str],
) -> tuple[list[NoveltySummary], list[SeasonalityDiagnosis], list[SegmentSummary]]:
    """Novelty, seasonality and segments of the primaries at a look (`notes` says what is not
    assessed yet)."""
    by_exposure = panel(data.units, exposure_days, "exposure", info.start_ms, cutoff)
    by_test_day = panel(data.units, unit_day_totals(wh, window, data.units, "test"),
                        "test", info.start_ms, cutoff)  # fmt: skip
    found_novelty, found_seasonality, found_segments = [], [], []
    for metric in primaries:
        try:
            found_novelty.append(novelty(metric, by_exposure, data.units, alpha))
        except ValueError as exc:
            notes.append(f"novelty of {metric.name} is not assessed yet: {exc}")
        found_seasonality.append(seasonality(metric, by_test_day, data.units, alpha))
        found_segments += segments(metric, data, alpha)
    if data.pre is None:
        notes.append("segments (new/returning, light/heavy) need a pre-period: skipped")
    return found_novelty, found_seasonality, found_segments
