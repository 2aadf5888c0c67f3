"""The attribution of one look at an experiment: the verdict, the numbers it rests on, and why.

This record is what the Evaluation agent hands the loop and what `recloop analyze` prints. Every
field is computed by code from the tables and the pre-registered settings; `explanation` is
written from the numbers by templates. Cause codes beyond the decision rule's own
(`decision.REASON_MESSAGES`) live here, in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.stats.decision import REASON_MESSAGES as RULE_MESSAGES
from recloop.stats.decision import RuleOutcome, Verdict
from recloop.stats.effect import Effect, Inference
from recloop.stats.guardrails import GuardrailResult, GuardrailSpec
from recloop.stats.multiple import Correction
from recloop.stats.novelty import NoveltyDiagnosis
from recloop.stats.seasonality import SeasonalityDiagnosis
from recloop.stats.segments import SegmentReport
from recloop.stats.srm import SrmResult

AnalysisReason = Literal["srm_mismatch", "novelty_not_settled", "too_few_units",
                         "metric_unavailable"]  # fmt: skip
ANALYSIS_MESSAGES: dict[str, str] = {
    "srm_mismatch": "the arms' sizes do not match the planned allocation (sample-ratio mismatch):"
    " assignment or logging is broken, so no effect can be trusted",
    "novelty_not_settled": "the primary gain is not significant on each unit's sessions after "
    "its first exposures (the burn-in): the lift may be novelty",
    "too_few_units": "fewer than 2 units in an arm at this look: nothing to compare yet",
    "metric_unavailable": "a primary or guardrail metric cannot be computed at this look",
}
REASON_MESSAGES: dict[str, str] = {
    **ANALYSIS_MESSAGES,
    **{str(k): v for k, v in RULE_MESSAGES.items()},
}
Role = Literal["primary", "guardrail", "secondary"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


DEFAULT_BURN_IN = 8  # sessions: tuned on the attribution bench's novelty-only tests


class AnalysisSettings(_Frozen):
    """The pre-registered analysis: saved with every attribution it produced.

    `horizon_days` is the number of planned daily looks of a group-sequential design (None: the
    days the tables cover). With `novelty_veto`, a ship also needs every improved primary to be
    significantly better on each unit's activity after its first `burn_in_exposures` sessions
    (see `tables.queries.unit_totals`), so a lift that lasts only while the change is new — a
    light user keeps it for many days, but not for many sessions — cannot carry the decision.
    """

    primary: tuple[str, ...]
    guardrails: tuple[GuardrailSpec, ...]
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    correction: Correction = "holm"
    inference: Inference = "fixed"
    tuning: float = Field(default=5_000.0, gt=0)
    horizon_days: int | None = Field(default=None, ge=1)  # group-sequential: planned daily looks
    cuped: bool = True
    novelty_veto: bool = True  # a ship needs the primary's gain after the burn-in too
    burn_in_exposures: int = Field(default=DEFAULT_BURN_IN, ge=0)
    treatment_share: float | None = Field(default=None, gt=0, lt=1)
    srm_min_expected: float = Field(default=100.0, ge=0)  # SRM untested below (a 1% ramp step)
    pre_days: int = Field(default=14, ge=0)


class EffectSummary(_Frozen):
    """Treatment minus control with its interval (absolute and relative) and p-value."""

    control_mean: float
    treatment_mean: float
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    relative_effect: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None

    @classmethod
    def of(cls, e: Effect) -> EffectSummary:
        return cls(
            control_mean=e.control_mean, treatment_mean=e.treatment_mean, effect=e.effect,
            se=e.se, ci_low=e.ci_low, ci_high=e.ci_high, p_value=e.p_value,
            relative_effect=e.relative_effect, relative_ci_low=e.relative_ci_low,
            relative_ci_high=e.relative_ci_high,
        )  # fmt: skip


class CupedSummary(_Frozen):
    """Whether CUPED adjusted the metric, and what it gained."""

    applied: bool
    variance_reduction: float = 0.0
    theta: tuple[float, ...] = ()
    units_without_pre_period: int = 0
    skip_reason: str | None = None


class MetricResult(_Frozen):
    """One metric at one look: the estimate used (CUPED when applied) and the plain one."""

    name: str
    description: str
    kind: Literal["mean", "ratio"]
    direction: Literal["higher", "lower"]
    role: Role
    n_control: int
    n_treatment: int
    control: float  # unadjusted arm means (ratios: ratio of sums)
    treatment: float
    estimate: Literal["cuped", "unadjusted"]
    effect: float
    relative_effect: float | None
    ci_low: float
    ci_high: float
    relative_ci_low: float | None
    relative_ci_high: float | None
    p_value: float
    se: float
    unadjusted: EffectSummary
    cuped: CupedSummary

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


class GuardrailOutcome(_Frozen):
    """A guardrail's non-inferiority test (and the harm test behind a rollback)."""

    metric: str
    margin: float
    margin_kind: Literal["relative", "absolute"]
    direction: Literal["higher", "lower"]
    estimate: float
    bound: float  # one-sided (1 - α) bound on the bad side
    p_value: float
    non_inferior: bool
    harmful: bool
    harm_p_value: float

    @classmethod
    def of(cls, g: GuardrailResult) -> GuardrailOutcome:
        return cls(
            metric=g.spec.metric, margin=g.spec.margin, margin_kind=g.spec.margin_kind,
            direction=g.spec.direction, estimate=g.estimate, bound=g.bound, p_value=g.p_value,
            non_inferior=g.non_inferior, harmful=g.harmful, harm_p_value=g.harm_p_value,
        )  # fmt: skip


class SrmStatus(_Frozen):
    """Sample-ratio check of the compared arms against the planned treatment share."""

    p_value: float
    flag: bool
    tested: bool
    counts: dict[str, int]
    expected_treatment_share: float
    observed_treatment_share: float
    threshold: float

    @classmethod
    def of(cls, r: SrmResult) -> SrmStatus:
        return cls(
            p_value=r.p_value, flag=r.flag, tested=r.tested,
            counts={"control": r.counts[0], "treatment": r.counts[1]},
            expected_treatment_share=r.expected_share[1],
            observed_treatment_share=r.observed_share[1], threshold=r.threshold,
        )  # fmt: skip


class DayPoint(_Frozen):
    day: int
    effect: float
    ci_low: float
    ci_high: float


class NoveltySummary(_Frozen):
    """The effect over days since first exposure: does it fade?"""

    metric: str
    trend: Literal["decaying", "growing", "stable"]
    window: int
    early_effect: EffectSummary
    late_effect: EffectSummary
    change: EffectSummary  # late minus early on the cohort seen in both windows
    slope: float | None
    slope_p_value: float | None
    days: tuple[DayPoint, ...]

    @property
    def decaying(self) -> bool:
        return self.trend == "decaying"

    @classmethod
    def of(cls, n: NoveltyDiagnosis) -> NoveltySummary:
        points = tuple(
            DayPoint(day=d, effect=e.effect, ci_low=e.ci_low, ci_high=e.ci_high)
            for d, e in zip(n.days, n.daily, strict=True)
        )
        return cls(
            metric=n.metric, trend=n.trend, window=n.window,
            early_effect=EffectSummary.of(n.early_effect),
            late_effect=EffectSummary.of(n.late_effect), change=EffectSummary.of(n.change),
            slope=n.slope, slope_p_value=n.slope_p_value, days=points,
        )  # fmt: skip


class SegmentRow(_Frozen):
    segment: str
    n_control: int
    n_treatment: int
    effect: EffectSummary
    difference: float  # segment effect - rest effect
    p_value: float
    p_adjusted: float  # Bonferroni over the dimension's segments
    heterogeneous: bool


class SegmentSummary(_Frozen):
    """Segment effects of one metric along one dimension (segment vs rest, corrected)."""

    metric: str
    dimension: str
    segments: tuple[SegmentRow, ...]
    skipped: tuple[str, ...]

    @classmethod
    def of(cls, r: SegmentReport) -> SegmentSummary:
        rows = tuple(
            SegmentRow(
                segment=s.segment, n_control=s.effect.n_control, n_treatment=s.effect.n_treatment,
                effect=EffectSummary.of(s.effect), difference=s.difference, p_value=s.p_value,
                p_adjusted=s.p_adjusted, heterogeneous=s.heterogeneous,
            )
            for s in r.segments
        )  # fmt: skip
        return cls(metric=r.metric, dimension=r.dimension, segments=rows, skipped=r.skipped)


class Look(_Frozen):
    """Which data the attribution saw: the test from its start up to `as_of` (exclusive)."""

    start: datetime
    start_from: str
    end: datetime | None
    as_of: datetime
    day: int  # the test day (0-based) the look ends in
    final: bool  # the look covers the whole test
    ramp_share: float | None


class Attribution(_Frozen):
    """The analysis of one look at one experiment."""

    experiment: str
    source: str
    decision: Verdict
    reasons: tuple[str, ...]
    look: Look
    settings: AnalysisSettings
    units: dict[str, int]  # compared units at the look, and the holdout's
    srm: SrmStatus | None
    metrics: dict[str, MetricResult]
    settled: dict[str, MetricResult] = {}  # primaries on sessions after the burn-in
    guardrails: tuple[GuardrailOutcome, ...]
    rule: RuleOutcome | None
    novelty: tuple[NoveltySummary, ...]
    seasonality: tuple[SeasonalityDiagnosis, ...]
    segments: tuple[SegmentSummary, ...]
    pre_period: bool
    notes: tuple[str, ...]
    explanation: str

    @property
    def reason_messages(self) -> tuple[str, ...]:
        return tuple(REASON_MESSAGES[r] for r in self.reasons)

    def report(self) -> dict[str, Any]:
        """JSON-ready dict (the `--json` output)."""
        data = self.model_dump(mode="json")
        data["reason_messages"] = list(self.reason_messages)
        return data
