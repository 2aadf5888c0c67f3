"""A/B statistics: from an experiment's tables to a verdict and its attribution.

Two layers, data flowing one way:

- **Pure statistics** (no I/O): per-unit arrays (`ArmData`) → per-arm summaries (`arm_stats`,
  or `cuped_stats` with the pre-period) → `estimate_effect` (fixed-horizon Welch, a
  group-sequential design of daily looks, or an always-valid confidence sequence) →
  `check_guardrail` → `decide`. Alongside: `srm_check`, `adjust_p_values`, `segment_effects`,
  `novelty_diagnosis`, `seasonality_diagnosis`, the futility rule of early stopping (`futile`)
  and fixed-horizon planning (`sample_size_per_arm`, `plan_sample_size`).
- **Tables** (`tables/`: read-only sources, the contract, per-unit SQL) and the declarative
  `metrics` they compute; `analyze` runs one look at an experiment through both layers and
  returns an `Attribution`; `commands` is `recloop analyze`.
"""

from recloop.stats.analysis import (
    DEFAULT_GUARDRAILS,
    DEFAULT_PRIMARY,
    analyze,
    make_settings,
    parse_guardrail,
)
from recloop.stats.attribution import AnalysisSettings, Attribution, MetricResult
from recloop.stats.cuped import CupedResult, cuped_stats
from recloop.stats.decision import REASON_MESSAGES, RuleOutcome, Verdict, decide
from recloop.stats.effect import Effect, Inference, estimate_effect
from recloop.stats.futility import futile, upper_lift_bound
from recloop.stats.guardrails import Direction, GuardrailResult, GuardrailSpec, check_guardrail
from recloop.stats.metrics import METRIC_NAMES, METRICS, Metric, UnitTotals, get_metric
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
from recloop.stats.seasonality import SeasonalityDiagnosis, seasonality_diagnosis
from recloop.stats.segments import SegmentEffect, SegmentReport, segment_effects
from recloop.stats.sequential import DEFAULT_TUNING
from recloop.stats.srm import SRM_THRESHOLD, SrmResult, srm_check
from recloop.stats.summary import ArmData, ArmStats, arm_stats
from recloop.stats.tables import (
    ExperimentInfo,
    SchemaError,
    SourceError,
    TableError,
    Warehouse,
    open_source,
    validate,
)

__all__ = [
    "DEFAULT_GUARDRAILS",
    "DEFAULT_PRIMARY",
    "DEFAULT_TUNING",
    "METRICS",
    "METRIC_NAMES",
    "REASON_MESSAGES",
    "SRM_THRESHOLD",
    "Adjusted",
    "AnalysisSettings",
    "ArmData",
    "ArmStats",
    "Attribution",
    "Correction",
    "CupedResult",
    "Direction",
    "Effect",
    "ExperimentInfo",
    "GuardrailResult",
    "GuardrailSpec",
    "Inference",
    "Metric",
    "MetricResult",
    "NoveltyDiagnosis",
    "PlannedMetric",
    "RuleOutcome",
    "SamplePlan",
    "SchemaError",
    "SeasonalityDiagnosis",
    "SegmentEffect",
    "SegmentReport",
    "SourceError",
    "SrmResult",
    "TableError",
    "UnitDays",
    "UnitTotals",
    "Verdict",
    "Warehouse",
    "adjust_p_values",
    "analyze",
    "arm_stats",
    "check_guardrail",
    "cuped_stats",
    "decide",
    "estimate_effect",
    "futile",
    "get_metric",
    "guardrail_power",
    "make_settings",
    "novelty_diagnosis",
    "open_source",
    "parse_guardrail",
    "plan_sample_size",
    "power_at",
    "sample_size_per_arm",
    "seasonality_diagnosis",
    "segment_effects",
    "srm_check",
    "upper_lift_bound",
    "validate",
]
