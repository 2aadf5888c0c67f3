"""A/B statistics: pure functions from per-unit arrays to effects, tests and verdicts.

Data flows one way: per-unit arrays (`ArmData`) → per-arm summaries (`arm_stats`, or
`cuped_stats` with the pre-period) → `estimate_effect` (fixed-horizon Welch or an always-valid
confidence sequence) → `check_guardrail` → `decide`. Alongside: `srm_check`, `adjust_p_values`,
`segment_effects`, `novelty_diagnosis` and fixed-horizon planning (`sample_size_per_arm`,
`plan_sample_size`). No I/O and no SQL here: the metric layer computes per-unit arrays from the
event tables and calls these.
"""

from recloop.stats.cuped import CupedResult, cuped_stats
from recloop.stats.decision import REASON_MESSAGES, RuleOutcome, Verdict, decide
from recloop.stats.effect import Effect, Inference, estimate_effect
from recloop.stats.guardrails import Direction, GuardrailResult, GuardrailSpec, check_guardrail
from recloop.stats.multiple import Adjusted, Correction, adjust_p_values
from recloop.stats.novelty import NoveltyDiagnosis, UnitDays, novelty_diagnosis
from recloop.stats.power import (
    PlannedMetric,
    SamplePlan,
    guardrail_power,
    plan_sample_size,
    power_at,
    sample_size_per_arm,
)
from recloop.stats.segments import SegmentEffect, SegmentReport, segment_effects
from recloop.stats.sequential import DEFAULT_TUNING
from recloop.stats.srm import SRM_THRESHOLD, SrmResult, srm_check
from recloop.stats.summary import ArmData, ArmStats, arm_stats

__all__ = [
    "DEFAULT_TUNING",
    "REASON_MESSAGES",
    "SRM_THRESHOLD",
    "Adjusted",
    "ArmData",
    "ArmStats",
    "Correction",
    "CupedResult",
    "Direction",
    "Effect",
    "GuardrailResult",
    "GuardrailSpec",
    "Inference",
    "NoveltyDiagnosis",
    "PlannedMetric",
    "RuleOutcome",
    "SamplePlan",
    "SegmentEffect",
    "SegmentReport",
    "SrmResult",
    "UnitDays",
    "Verdict",
    "adjust_p_values",
    "arm_stats",
    "check_guardrail",
    "cuped_stats",
    "decide",
    "estimate_effect",
    "guardrail_power",
    "novelty_diagnosis",
    "plan_sample_size",
    "power_at",
    "sample_size_per_arm",
    "segment_effects",
    "srm_check",
]
