"""Segment effects: the effect within each segment and whether it differs from the rest.

Statsig's heterogeneous-effect check (REFERENCES.md): for each segment of a dimension (new vs
returning, light vs heavy), compare the treatment effect inside the segment with the effect in
all other units — a Welch-type test of Δ_segment - Δ_rest, whose variance is the sum of the
four arm-by-group mean variances and whose dof is Welch–Satterthwaite over those four groups —
and Bonferroni-correct over the segments tested, since with K segments one of them will look
different by chance. A flagged segment means "the effect depends on who the user is", not that
the overall effect is wrong.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.stats import _tdist
from recloop.stats.effect import Effect, estimate_effect
from recloop.stats.summary import ArmData, arm_stats


class SegmentEffect(BaseModel):
    """One segment's effect, the rest's, and the corrected test of their difference."""

    model_config = ConfigDict(frozen=True)

    segment: str
    effect: Effect  # within the segment
    rest: Effect  # in all other units
    difference: float  # effect.effect - rest.effect
    se: float
    dof: float | None
    p_value: float
    p_adjusted: float  # Bonferroni over the segments tested
    heterogeneous: bool  # p_adjusted < alpha


class SegmentReport(BaseModel):
    """Segment effects along one dimension; segments too small to test are listed."""

    model_config = ConfigDict(frozen=True)

    metric: str
    dimension: str
    alpha: float
    segments: tuple[SegmentEffect, ...]
    skipped: tuple[str, ...]  # fewer than `min_units` units in an arm of segment or rest

    @property
    def heterogeneous(self) -> tuple[str, ...]:
        return tuple(s.segment for s in self.segments if s.heterogeneous)


def _as_data(data: ArmData | np.ndarray) -> ArmData:
    return data if isinstance(data, ArmData) else ArmData(values=np.asarray(data, np.float64))


def segment_effects(
    metric: str,
    control: ArmData | np.ndarray,
    treatment: ArmData | np.ndarray,
    control_segments: np.ndarray,
    treatment_segments: np.ndarray,
    *,
    dimension: str = "segment",
    alpha: float = 0.05,
    min_units: int = 2,
) -> SegmentReport:
    """Effects per segment label with segment-vs-rest tests (fixed horizon, Welch)."""
    c, t = _as_data(control), _as_data(treatment)
    seg_c, seg_t = np.asarray(control_segments), np.asarray(treatment_segments)
    if seg_c.shape != (c.n,) or seg_t.shape != (t.n,):
        raise ValueError(f"{metric}: one segment label per unit is needed in each arm")
    min_units = max(min_units, 2)
    labels = np.unique(np.concatenate([seg_c, seg_t]))
    tested: list[tuple[object, np.ndarray, np.ndarray]] = []
    skipped: list[tuple[object, np.ndarray, np.ndarray]] = []
    for label in labels:
        in_c, in_t = seg_c == label, seg_t == label
        counts = (in_c.sum(), in_t.sum(), (~in_c).sum(), (~in_t).sum())
        (tested if min(counts) >= min_units else skipped).append((label, in_c, in_t))
    results = []
    for label, in_c, in_t in tested:
        groups = [arm_stats(c.subset(in_c)), arm_stats(t.subset(in_t))]
        groups += [arm_stats(c.subset(~in_c)), arm_stats(t.subset(~in_t))]
        inside = estimate_effect(metric, groups[0], groups[1], alpha=alpha)
        rest = estimate_effect(metric, groups[2], groups[3], alpha=alpha)
        diff = inside.effect - rest.effect
        se = math.sqrt(inside.se**2 + rest.se**2)
        dof = float(
            _tdist.satterthwaite_dof(
                np.array([g.variance for g in groups]), np.array([g.n for g in groups])
            )
        )
        p = float(_tdist.p_two_sided(diff, se, dof))
        p_adj = min(1.0, p * len(tested))
        results.append(
            SegmentEffect(
                segment=str(label),
                effect=inside,
                rest=rest,
                difference=diff,
                se=se,
                dof=dof if np.isfinite(dof) else None,
                p_value=p,
                p_adjusted=p_adj,
                heterogeneous=p_adj < alpha,
            )
        )
    return SegmentReport(
        metric=metric,
        dimension=dimension,
        alpha=alpha,
        segments=tuple(results),
        skipped=tuple(str(label) for label, _, _ in skipped),
    )
