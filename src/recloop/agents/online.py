"""The Evaluation agent's records: its pre-registered plan, each daily look, and its outcome.

`EvaluationPlan` is saved with every outcome it produced: the metrics and margins of the
decision rule (the same rule `recloop analyze` applies), the ramp, and the stopping rule.
`OnlineAttribution` is the knowledge asset the loop learns from: the change that was tested,
the analysis at the stop look (`stats.Attribution`: effects with intervals on every metric, CUPED,
SRM, novelty, seasonality, segments), why and when the test stopped, the samples it used against
the planned horizon, and a plain-language explanation written by templates from the numbers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.stats.analysis import DEFAULT_PRIMARY, make_settings
from recloop.stats.attribution import DEFAULT_BURN_IN, AnalysisSettings, Attribution
from recloop.stats.decision import Verdict
from recloop.stats.futility import DEFAULT_FUTILITY_LEVEL, DEFAULT_MIN_EFFECT, upper_lift_bound

StopReason = Literal["srm", "guardrail_harm", "primary_harm", "decisive_ship", "futility",
                     "horizon", "data_ends"]  # fmt: skip
STOP_MESSAGES: dict[str, str] = {
    "srm": "the sample-ratio check failed: assignment or logging is broken, no effect can be "
    "trusted",
    "guardrail_harm": "a guardrail is significantly worse than control (rollback)",
    "primary_harm": "the primary metric is significantly worse than control",
    "decisive_ship": "the group-sequential boundary shows a significant gain on the primary "
    "metric, also after each unit's burn-in sessions, with every guardrail non-inferior",
    "futility": "the primary's gain can no longer reach the plan's minimum effect worth shipping",
    "horizon": "the planned horizon was reached",
    "data_ends": "the tables end before the planned horizon: the test is still running",
}
EARLY_STOPS = frozenset({"srm", "guardrail_harm", "primary_harm", "decisive_ship", "futility"})
DEFAULT_ONLINE_GUARDRAILS = ("return_rate:0.03",)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvaluationPlan(_Frozen):
    """The online stage's pre-registered analysis and stopping rule.

    Every look is one of a group-sequential design of daily looks over the planned horizon
    (O'Brien–Fleming-type alpha spending, `stats.group_sequential`), so looking daily is safe
    and the late looks are nearly as sharp as one fixed-horizon test. Vetoes (SRM, a harmful
    guardrail, a significantly worse primary) stop the test on any day; a ship stops it only
    from `min_ship_day` on (a full weekly cycle by default, so a weekday pattern cannot carry
    the decision) and only when the primary's gain is also significant on each unit's activity
    after its first `burn_in_exposures` sessions (a novelty lift fades with exposures: see
    `stats.analysis`). The ramp's shares before the final one are `ramp` ((test day, share of
    all users in the test)); the final share follows from the treatment's traffic fraction (see
    `online_sim.ramp_schedule`). The SRM check waits for `srm_min_expected` units expected per
    arm (a 1% step's few dozen units are too few for a daily-repeated χ² to mean much).
    From `min_ship_day` on, a test whose primary lift can no longer reach `min_effect` (relative,
    the smallest lasting lift worth shipping; its one-sided `futility_level` upper bound is below
    it) stops as futile, inconclusive (`stats.futility`; None turns futility stopping off; the
    agent takes each test's value from its `OnlineSettings.min_effect`, the manifest's).
    """

    primary: tuple[str, ...] = DEFAULT_PRIMARY
    guardrails: tuple[str, ...] = DEFAULT_ONLINE_GUARDRAILS
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    min_ship_day: int = Field(default=6, ge=0, description="earliest test day a ship may stop on")
    ramp: tuple[tuple[int, float], ...] = ((0, 0.01), (1, 0.1))
    pre_days: int = Field(default=14, ge=0, description="pre-period days read for CUPED")
    cuped: bool = True
    burn_in_exposures: int = Field(
        default=DEFAULT_BURN_IN,
        ge=0,
        description="sessions per unit before its activity shows a lasting gain",
    )
    srm_min_expected: float = Field(default=100.0, ge=0, description="units per arm for SRM")
    min_effect: float | None = Field(
        default=DEFAULT_MIN_EFFECT, gt=0, description="smallest relative lasting lift to ship"
    )
    futility_level: float = Field(default=DEFAULT_FUTILITY_LEVEL, gt=0.5, lt=1)

    def settings(
        self, alpha: float | None = None, horizon_days: int | None = None
    ) -> AnalysisSettings:
        """The analysis settings of every look: group-sequential over `horizon_days` daily looks
        (None: the days the tables cover)."""
        return make_settings(
            self.primary, self.guardrails, alpha=self.alpha if alpha is None else alpha,
            inference="group-sequential", horizon_days=horizon_days, cuped=self.cuped,
            burn_in_exposures=self.burn_in_exposures, srm_min_expected=self.srm_min_expected,
            pre_days=self.pre_days,
        )  # fmt: skip


class LookSummary(_Frozen):
    """One daily look, as the agent saw it."""

    day: int
    ramp_share: float | None
    units: int
    decision: Verdict
    primary_effect: float | None  # relative effect of the first primary metric
    primary_ci: tuple[float, float] | None
    srm_p_value: float | None
    guardrails_harmful: tuple[str, ...]


class Stop(_Frozen):
    """When the test stopped and why."""

    day: int
    reason: StopReason
    early: bool
    horizon_days: int

    @property
    def message(self) -> str:
        return STOP_MESSAGES[self.reason]


class Samples(_Frozen):
    """What the decision used against what the planned horizon would use, in distinct units and
    in sessions served the treatment: most units arrive in a test's first days (returning
    users), so an early stop saves far more exposed traffic than units."""

    used: int
    planned: int
    sessions_used: int = 0
    sessions_planned: int = 0

    @property
    def saved_share(self) -> float:
        return 0.0 if self.planned == 0 else 1.0 - self.used / self.planned

    @property
    def sessions_saved_share(self) -> float:
        planned = self.sessions_planned
        return 0.0 if planned == 0 else 1.0 - self.sessions_used / planned


class OnlineAttribution(_Frozen):
    """The structured attribution of one online test (see the module docstring)."""

    change_summary: str
    experiment: str
    source: str
    decision: Verdict
    plan: EvaluationPlan
    stop: Stop
    samples: Samples
    looks: tuple[LookSummary, ...]
    analysis: Attribution  # the look the decision was made at
    explanation: str

    @property
    def cuped_gain(self) -> dict[str, float]:
        """Variance removed by CUPED, per metric where it was applied."""
        return {name: m.cuped.variance_reduction for name, m in self.analysis.metrics.items()
                if m.cuped.applied}  # fmt: skip

    def report(self) -> dict[str, Any]:
        """JSON-ready dict for the ledger (the analysis under `"analysis"`)."""
        data = self.model_dump(mode="json", exclude={"analysis"})
        data["analysis"] = self.analysis.report()
        data["stop"]["message"] = self.stop.message
        data["samples"]["saved_share"] = self.samples.saved_share
        data["samples"]["sessions_saved_share"] = self.samples.sessions_saved_share
        data["cuped_gain"] = self.cuped_gain
        return data


class OnlineOutcome(_Frozen):
    """What the loop gets back: the decision, its attribution, and (simulated) the truth."""

    decision: Verdict
    attribution: OnlineAttribution
    tables: str | None = None  # where the experiment's tables are (None: not kept)
    truth: dict[str, Any] | None = None  # the simulator oracle's true effects, when simulated


def _futility_terms(a: OnlineAttribution) -> str:
    """The upper bounds that stopped a futile test, against the minimum effect."""
    plan, analysis = a.plan, a.analysis
    parts = []
    for name in plan.primary:
        for label, result in (("on every session", analysis.metrics.get(name)),
                              (f"after each unit's first {plan.burn_in_exposures} sessions",
                               analysis.settled.get(name))):  # fmt: skip
            bound = None if result is None else upper_lift_bound(result, plan.futility_level)
            if bound is not None:
                parts.append(f"{name} {label} at most {bound:+.1%}")
    return (f": {', '.join(parts)} ({plan.futility_level:.0%} upper bounds) against a minimum "
            f"of {plan.min_effect or 0:+.1%}")  # fmt: skip


def explain_stop(a: OnlineAttribution) -> str:
    """Template sentences on the test's course, put before the analysis' own explanation."""
    s, n = a.stop, a.samples
    terms = _futility_terms(a) if s.reason == "futility" else ""
    course = (f"stopped early on test day {s.day} of {s.horizon_days}" if s.early
              else f"ran to test day {s.day} of {s.horizon_days}")  # fmt: skip
    lines = [
        f"Change tested: {a.change_summary or '(no summary given)'}.",
        f"The test {course}: {s.message}{terms}.",
        f"It used {n.used:,} units of the {n.planned:,} the full horizon exposes"
        + (f" ({n.saved_share:.0%} fewer)" if s.early and n.planned else "")
        + f" and served the treatment {n.sessions_used:,} sessions of {n.sessions_planned:,}"
        + (f" ({n.sessions_saved_share:.0%} fewer)." if s.early and n.sessions_planned else "."),
    ]
    gains = a.cuped_gain
    if gains:
        best = max(gains, key=lambda k: gains[k])
        lines.append(f"CUPED removed {gains[best]:.0%} of the variance of {best}.")
    return " ".join(lines)
