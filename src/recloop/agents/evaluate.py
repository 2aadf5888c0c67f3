"""The Evaluation agent: runs a candidate's online test day by day and decides from the rule.

    source (simulator tables or a warehouse) ─ validate once ─ for each test day d:
        stats.analyze_look(as_of=d, group-sequential) ─ stop? (SRM, harmful guardrail, worse
        primary: any day; ship, futility: from plan.min_ship_day) ─ OnlineAttribution at the
        stop look

The verdict is the pre-registered rule's (`stats.decide` inside `stats.analyze_look`), never a
judgement: the agent only chooses *when* to stop, by a rule fixed before the test. Because each
look is one of a group-sequential design of daily looks over the planned horizon (alpha
spending), stopping at the first decisive look keeps the error rates. A look at day d reads
only rows before the end of day d, so analysing the prefixes of a finished simulation is the
same as peeking at a running test; "samples used" are the units exposed up to the stop day.
`recloop analyze --sequential --as-of DAY` on the same tables reproduces the decision and every
number of the stop look.

`OnlineEvaluator` is the seam the loop calls; `EvaluationAgent` implements it on the simulator
(`online_sim`) and, through `evaluate_tables`, on a real experiment's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from recloop.agents.online import (
    EARLY_STOPS,
    EvaluationPlan,
    LookSummary,
    OnlineAttribution,
    OnlineOutcome,
    Samples,
    Stop,
    StopReason,
    explain_stop,
)
from recloop.agents.online_sim import Policy, SimulatedTest, run_simulation
from recloop.sim.config import SimConfig
from recloop.sim.truth import GroundTruth
from recloop.stats.analysis import analyze_look, resolve_look
from recloop.stats.attribution import AnalysisSettings, Attribution
from recloop.stats.futility import futile
from recloop.stats.tables.contract import ExperimentInfo, validate
from recloop.stats.tables.dialect import MS_PER_DAY
from recloop.stats.tables.queries import Window, assigned_units, sessions_by_variant
from recloop.stats.tables.warehouse import Warehouse, open_source
from recloop.workspace.manifest import OnlineSettings

LookProgress = Callable[[int, int], None]  # (looks done, horizon)


class OnlineEvaluator(Protocol):
    """The online stage as the loop sees it."""

    def evaluate(
        self,
        control: Policy,
        treatment: Policy,
        settings: OnlineSettings,
        change_summary: str = "",
    ) -> OnlineOutcome: ...


def stop_reason(a: Attribution, day: int, last_day: int, plan: EvaluationPlan) -> StopReason | None:
    """The stopping rule at one look (None: keep running)."""
    if a.srm is not None and a.srm.flag:
        return "srm"
    if any(g.harmful for g in a.guardrails):
        return "guardrail_harm"
    if a.rule is not None and a.rule.deteriorated:
        return "primary_harm"
    if a.decision == "ship" and day >= plan.min_ship_day:
        return "decisive_ship"
    if plan.min_effect is not None and day >= plan.min_ship_day and day < last_day:
        pairs = [(a.metrics.get(name), a.settled.get(name)) for name in a.settings.primary]
        estimates = [m for pair in pairs for m in pair if m is not None]
        if futile(estimates, plan.min_effect, plan.futility_level):
            return "futility"
    if day >= last_day:
        return "horizon"
    return None


def _summary(a: Attribution) -> LookSummary:
    first = a.metrics.get(a.settings.primary[0])
    effect = ci = None
    if first is not None and first.relative_effect is not None:
        effect = first.relative_effect
        ci = (first.relative_ci_low or 0.0, first.relative_ci_high or 0.0)
    return LookSummary(
        day=a.look.day, ramp_share=a.look.ramp_share, units=sum(a.units.values()),
        decision=a.decision, primary_effect=effect, primary_ci=ci,
        srm_p_value=None if a.srm is None else a.srm.p_value,
        guardrails_harmful=tuple(g.metric for g in a.guardrails if g.harmful),
    )  # fmt: skip


def exposed_until(wh: Warehouse, info: ExperimentInfo, day: int) -> tuple[int, int]:
    """Units assigned and sessions served the treatment by the end of test day `day`."""
    cutoff = min(info.start_ms + (day + 1) * MS_PER_DAY, info.effective_end_ms)
    window = Window(info.name, info.start_ms, cutoff, info.pre_start_ms)
    return len(assigned_units(wh, window)), sessions_by_variant(wh, window).get("treatment", 0)


def available_days(info: ExperimentInfo) -> int:
    """Whole or partial test days the tables cover."""
    return max(1, -(-(info.effective_end_ms - info.start_ms) // MS_PER_DAY))


def run_looks(
    wh: Warehouse,
    info: ExperimentInfo,
    settings: AnalysisSettings,
    plan: EvaluationPlan,
    horizon_days: int,
    progress: LookProgress | None = None,
) -> tuple[Attribution, tuple[LookSummary, ...], Stop]:
    """Look every test day until the stopping rule fires; the stop look's attribution (with the
    diagnoses the daily looks skip: they never change a decision)."""
    days = available_days(info)
    last = min(horizon_days, days) - 1
    looks: list[LookSummary] = []
    for day in range(last + 1):
        attribution = analyze_look(wh, info, settings, resolve_look(info, day), diagnose=False)
        looks.append(_summary(attribution))
        if progress is not None:
            progress(day + 1, horizon_days)
        reason = stop_reason(attribution, day, last, plan)
        if reason is not None:
            if reason == "horizon" and days < horizon_days:
                reason = "data_ends"
            stop = Stop(day=day, reason=reason, early=reason in EARLY_STOPS and day < last,
                        horizon_days=horizon_days)  # fmt: skip
            return analyze_look(wh, info, settings, resolve_look(info, day)), tuple(looks), stop
    raise AssertionError("the last look always stops")  # pragma: no cover


def evaluate_source(
    source: str | Path | Warehouse,
    experiment: str,
    plan: EvaluationPlan | None = None,
    *,
    horizon_days: int | None = None,
    change_summary: str = "",
    alpha: float | None = None,
    progress: LookProgress | None = None,
) -> OnlineAttribution:
    """The agent's core on any tables `stats.analyze` reads (see the module docstring).

    `horizon_days` defaults to the days the tables cover.
    """
    plan = plan or EvaluationPlan()
    if isinstance(source, Warehouse):
        return _evaluate(source, experiment, plan, alpha, horizon_days, change_summary, progress)
    with open_source(source) as wh:
        return _evaluate(wh, experiment, plan, alpha, horizon_days, change_summary, progress)


def _evaluate(
    wh: Warehouse,
    experiment: str,
    plan: EvaluationPlan,
    alpha: float | None,
    horizon_days: int | None,
    change_summary: str,
    progress: LookProgress | None,
) -> OnlineAttribution:
    info = validate(wh, experiment, pre_days=plan.pre_days)
    horizon = horizon_days or available_days(info)
    settings = plan.settings(alpha, horizon)
    analysis, looks, stop = run_looks(wh, info, settings, plan, horizon, progress)
    used = exposed_until(wh, info, stop.day)
    planned = exposed_until(wh, info, min(horizon, available_days(info)) - 1)
    samples = Samples(used=used[0], planned=planned[0], sessions_used=used[1],
                      sessions_planned=planned[1])  # fmt: skip
    attribution = OnlineAttribution(
        change_summary=change_summary, experiment=info.name, source=info.source,
        decision=analysis.decision, plan=plan, stop=stop, samples=samples, looks=looks,
        analysis=analysis, explanation="",
    )  # fmt: skip
    text = f"{explain_stop(attribution)}\n{analysis.explanation}"
    return attribution.model_copy(update={"explanation": text})


class EvaluationAgent:
    """The online stage: simulate (or read) the test, look daily, stop by rule, decide.

    `sim` is the base simulation (world, traffic, pre-period, oracle size); each evaluation
    takes its days, seed, treatment share, α and minimum effect from the `OnlineSettings`.
    `workdir` keeps each test's DuckDB tables (named after the experiment); without it they
    live in memory only.
    """

    def __init__(
        self,
        plan: EvaluationPlan | None = None,
        sim: SimConfig | None = None,
        *,
        truth: GroundTruth | None = None,
        workdir: Path | None = None,
        progress: LookProgress | None = None,
    ) -> None:
        self.plan = plan or EvaluationPlan()
        self.sim = sim or SimulatedTest.default_config()
        self.truth = truth
        self.workdir = workdir
        self.progress = progress

    def _plan(self, settings: OnlineSettings) -> EvaluationPlan:
        """The plan with the test's own pre-registered minimum effect (0: no futility stops)."""
        return self.plan.model_copy(update={"min_effect": settings.min_effect or None})

    def evaluate(
        self,
        control: Policy,
        treatment: Policy,
        settings: OnlineSettings,
        change_summary: str = "",
        experiment: str = "online",
    ) -> OnlineOutcome:
        """Simulate `control` against `treatment` (names or Recommender objects) and decide."""
        if settings.mode != "simulator":
            raise ValueError("online mode 'tables' reads a real experiment: use evaluate_tables")
        plan = self._plan(settings)
        test = SimulatedTest(self.sim, plan, settings, experiment)
        result = run_simulation(test, control, treatment, self.truth, self.workdir)
        attribution = evaluate_source(
            result.warehouse_path, experiment, plan, horizon_days=settings.duration_days,
            change_summary=change_summary, alpha=settings.alpha, progress=self.progress,
        )  # fmt: skip
        result.cleanup()
        return OnlineOutcome(
            decision=attribution.decision, attribution=attribution,
            tables=None if result.kept is None else str(result.kept), truth=result.truth,
        )  # fmt: skip

    def evaluate_tables(
        self,
        source: str | Path,
        experiment: str,
        settings: OnlineSettings,
        change_summary: str = "",
    ) -> OnlineOutcome:
        """The same agent on a real experiment's tables (read-only)."""
        attribution = evaluate_source(
            source, experiment, self._plan(settings), horizon_days=settings.duration_days,
            change_summary=change_summary, alpha=settings.alpha, progress=self.progress,
        )  # fmt: skip
        return OnlineOutcome(decision=attribution.decision, attribution=attribution,
                             tables=str(source))  # fmt: skip
