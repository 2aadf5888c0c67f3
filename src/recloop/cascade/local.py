"""Stage 3, local execution: fit and recommend at scale within budget, against the champion.

The candidate is fitted on the local sample (`CascadeSettings.local_users` users with their
training history, the whole catalogue) and ranks every one of them `latency_repeats` times, in
the sandbox (`probe_child`, mode `measure`) with the manifest's local budget (wall clock for the
stage, memory per run). Its first lists are validated like any other. It is rejected when:

- the run times out, runs out of memory, crashes or answers outside the protocol
  (`local-timeout`, `local-memory`, `local-crash`, `local-bad-output`);
- a guardrail of the metrics contract on a cost metric is violated against the champion
  (`cost-guardrail`): `latency_ms_per_1k_users` (a recommend pass's wall-clock time per 1,000
  users), `fit_seconds` (wall clock), `peak_memory_mb` (the run's peak RSS, from the supervisor);
- fit + recommend costs more than `max_slowdown` times the champion's in CPU seconds
  (`slowdown`; CPU time, which other processes on the machine do not inflate). CPU time is the
  kernel's account of the sandbox's process tree, read by the parent from `/proc` when it sees
  each phase (`workspace.proc_cpu`), so a candidate patching `time.process_time` changes only
  its `reported` figures.

Wall-clock figures are the parent's own: the candidate's code runs in the child and could forge
any timing the child reports (a patched clock, a rewritten status file), so the parent polls the
child's status file and times its phases on its own clock (`run_command(timeline=...)`). The
recommend passes run from the moment the parent first saw the `recommend` phase to its last
sight of the child's final word in the file (when the process then exited within
`TEARDOWN_GRACE`: the interpreter's teardown is not the candidate's latency; else to the exit),
divided by the passes; fit from the `fit` phase to then. The child decides only when it
*announces* a phase: it can move work from recommend into fit (where `fit_seconds` and the
CPU-time bound still see it), not hide it; a phase never announced counts from the one before,
and work after a final word is bounded by the grace. The child's own figures are kept as
`reported`, for diagnosis only.

The champion's figures come from its cache (`champion`). Timings on a shared machine are noisy,
so before rejecting on cost — unless a bound is exceeded by more than `confirm_margin` times —
the stage measures the champion and the candidate again, in turn, until the candidate has made
`confirm_runs` runs, and judges its best run against the champion's best run of that period.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext, ChampionFailedError
from recloop.cascade.probe import load_answer, read_status, run_child
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import Evidence, MetricRow, Verdict
from recloop.recsys.evaluate import InvalidRecommendationsError, validate_recommendations
from recloop.workspace.contract import COST_METRICS
from recloop.workspace.manifest import Stage as StageName
from recloop.workspace.sandbox_command import CommandResult
from recloop.workspace.sandbox_files import Sighting

PHASES = ("start", "import", "factory", "fit", "recommend", "done")  # `probe_child`'s, in order
TEARDOWN_GRACE = 0.5  # seconds from the child's last word to its exit that still count as exit


class LocalMeasurement(BaseModel):
    """What one fit + recommend run on the local sample cost (best pass of its repeats)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_users: int
    fit_seconds: float  # parent's clock
    fit_cpu_seconds: float  # the kernel's account, read by the parent
    recommend_seconds: float  # one pass, parent's clock
    recommend_cpu_seconds: float  # one pass, the kernel's account
    peak_memory_mb: float | None
    wall_seconds: float  # the whole sandboxed run, as the supervisor saw it
    cpu_seconds: float
    reported: dict[str, float]  # the child's own account (diagnostic, forgeable)

    @property
    def latency_ms_per_1k_users(self) -> float:
        return self.recommend_seconds / max(self.n_users, 1) * 1e6

    @property
    def work_cpu_seconds(self) -> float:
        """fit + one recommend pass, in CPU seconds."""
        return self.fit_cpu_seconds + self.recommend_cpu_seconds

    def metric(self, name: str) -> float | None:
        """A cost metric of the contract by name (None when it was not measured)."""
        value: float | None = getattr(self, name)
        return value

    @classmethod
    def best(cls, runs: list[LocalMeasurement]) -> LocalMeasurement:
        """Each figure's best (lowest) value over several runs of the same code."""
        peaks = [r.peak_memory_mb for r in runs if r.peak_memory_mb is not None]
        fields = ("fit_seconds", "fit_cpu_seconds", "recommend_seconds", "recommend_cpu_seconds")
        best: dict[str, Any] = {name: min(getattr(r, name) for r in runs) for name in fields}
        reported = {k: min(r.reported.get(k, math.inf) for r in runs) for k in runs[0].reported}
        return cls(
            reported=reported,
            n_users=runs[0].n_users,
            peak_memory_mb=min(peaks) if peaks else None,
            wall_seconds=min(r.wall_seconds for r in runs),
            cpu_seconds=min(r.cpu_seconds for r in runs),
            **best,
        )


@dataclass
class LocalRun:
    """One measuring run: its measurement, or the cause and sentence of its failure."""

    measurement: LocalMeasurement | None
    cause: str | None = None
    sentence: str = ""
    evidence: Evidence = field(default_factory=Evidence)


def measure_local(worktree: Path, context: CascadeContext, wall_seconds: float) -> LocalRun:
    """One sandboxed, timed fit + recommend of the code in `worktree` on the local sample."""
    sample = context.local_sample
    request = {"mode": "measure", "repeats": context.settings.latency_repeats}
    result = run_child(
        worktree, context, "local", sample.train, request, wall_seconds, ["recs.npy"], True
    )
    status = read_status(result)
    tail = str(status.get("traceback", "")) or result.stderr_tail
    evidence = Evidence(
        log_tail=tail[-3000:], details={"sandbox": result.status, "phase": status.get("phase")}
    )
    n = sample.n_users
    what = f"Fit and recommend for {n} users"
    if result.status == "timeout":
        return LocalRun(None, causes.LOCAL_TIMEOUT, f"{what} stopped: {result.detail}.", evidence)
    if status.get("status") == "oom" or result.status == "oom":
        limit = context.manifest.budgets.local.memory_mb
        return LocalRun(
            None, causes.LOCAL_MEMORY, f"{what} ran out of its {limit} MB of memory.", evidence
        )
    if status.get("status") != "ok" or not result.ok:
        error = status.get("error") or result.detail
        return LocalRun(None, causes.LOCAL_CRASH, f"{what} failed: {error}.", evidence)
    recs, problem = load_answer(result, "recs")
    users = sample.warm_users
    try:
        if recs is None:
            raise InvalidRecommendationsError("shape", problem)
        k, n_items = context.manifest.k, sample.train.n_items
        validate_recommendations(recs, users, k, n_items, sample.train.binary[users])
        costs = parent_timings(result, context.settings.latency_repeats)
        measurement = LocalMeasurement(
            n_users=n,
            fit_seconds=costs.fit_seconds,
            fit_cpu_seconds=costs.fit_cpu_seconds,
            recommend_seconds=costs.recommend_seconds,
            recommend_cpu_seconds=costs.recommend_cpu_seconds,
            peak_memory_mb=result.peak_memory_mb,
            wall_seconds=result.wall_seconds,
            cpu_seconds=result.cpu_seconds,
            reported={
                "fit_seconds": float(status["fit_seconds"]),
                "recommend_seconds": min(map(float, status["recommend_seconds"])),
                "fit_cpu_seconds": float(status["fit_cpu_seconds"]),
                "recommend_cpu_seconds": min(map(float, status["recommend_cpu_seconds"])),
            },
        )
    except InvalidRecommendationsError as exc:
        return LocalRun(None, causes.LOCAL_BAD_OUTPUT, f"{what}: {exc}.", evidence)
    except (KeyError, TypeError, ValueError) as exc:
        return LocalRun(None, causes.LOCAL_CRASH, f"{what}: no usable timings ({exc}).", evidence)
    return LocalRun(measurement, evidence=evidence)


@dataclass(frozen=True)
class PhaseCosts:
    """Fit and one recommend pass as the parent measured them: its clock, the kernel's CPU."""

    fit_seconds: float
    recommend_seconds: float
    fit_cpu_seconds: float
    recommend_cpu_seconds: float


def parent_timings(result: CommandResult, passes: int) -> PhaseCosts:
    """Fit and one recommend pass on the parent's clock and the kernel's CPU account of the
    sandbox (module docstring); without `/proc`, the supervisor's CPU total stands for fit."""
    seen: dict[str, Sighting] = {}
    end = Sighting(result.wall_seconds, "", result.cpu_seconds)
    for sighting in result.timeline:
        try:
            status = json.loads(sighting.text)
            phase = status.get("phase")
        except (ValueError, AttributeError):
            continue
        if phase in PHASES:
            seen.setdefault(phase, sighting)
        ended = status.get("status") != "running"
        near_exit = result.wall_seconds - sighting.at <= TEARDOWN_GRACE
        end = (
            sighting
            if ended and near_exit
            else Sighting(result.wall_seconds, "", result.cpu_seconds)
        )
    start = Sighting(0.0, "", 0.0)
    before = [s for phase, s in seen.items() if PHASES.index(phase) < PHASES.index("fit")]
    fit = seen.get("fit", max(before, default=start))
    recommend = seen.get("recommend", fit)
    each = max(passes, 1)
    if fit.cpu is None or recommend.cpu is None or end.cpu is None:
        fit_cpu, recommend_cpu = result.cpu_seconds, 0.0
    else:
        fit_cpu, recommend_cpu = recommend.cpu - fit.cpu, max(end.cpu - recommend.cpu, 0.0) / each
    return PhaseCosts(recommend.at - fit.at, max(end.at - recommend.at, 0.0) / each, fit_cpu,
                      recommend_cpu)  # fmt: skip


class LocalStage:
    """Stage 3 (see the module docstring)."""

    name: StageName = "local"

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        clock = StageClock(self.name, context.manifest.budgets.local.wall_seconds)
        worktree = context.worktree(candidate.name)
        if worktree is None:
            return clock.error(causes.NOT_MATERIALIZED, f"No worktree for {candidate.name!r}.")
        try:
            cached = context.champion().local
            champion_tree = context.champion_checkout
        except ChampionFailedError as exc:
            return clock.error(causes.CHAMPION_FAILED, str(exc))
        clock = StageClock(self.name, context.manifest.budgets.local.wall_seconds)
        first = measure_local(worktree, context, clock.remaining)
        if first.measurement is None:
            assert first.cause is not None
            return clock.reject(first.cause, first.sentence, first.evidence)
        runs, fresh = [first.measurement], []
        rows, problem = judge_costs(runs[0], cached, context)
        while problem and _marginal(rows, context) and len(runs) < context.settings.confirm_runs:
            if clock.remaining < 2.5 * first.measurement.wall_seconds:
                break
            again = measure_local(champion_tree(), context, clock.remaining)
            mine = measure_local(worktree, context, clock.remaining)
            if again.measurement is None or mine.measurement is None:
                break
            fresh.append(again.measurement)  # the champion again, in the same period
            runs.append(mine.measurement)
            rows, problem = judge_costs(
                LocalMeasurement.best(runs), LocalMeasurement.best(fresh), context
            )
        best = LocalMeasurement.best(runs)
        details = {
            "runs": len(runs),
            "measurement": best.model_dump(),
            "champion": LocalMeasurement.best(fresh or [cached]).model_dump(),
            "champion_remeasured": len(fresh),
        }
        evidence = Evidence(metrics=rows, details=details)
        if problem is not None:
            return clock.reject(problem[0], problem[1], evidence)
        return clock.passed(
            causes.PASSED,
            f"Fit and recommend for {best.n_users} users in {best.work_cpu_seconds:.2f} CPU s "
            f"({best.latency_ms_per_1k_users:.0f} ms per 1,000 users, champion "
            f"{cached.latency_ms_per_1k_users:.0f} ms), within the cost guardrails.",
            evidence,
        )


def judge_costs(
    candidate: LocalMeasurement, champion: LocalMeasurement, context: CascadeContext
) -> tuple[list[MetricRow], tuple[str, str] | None]:
    """The cost table, and the first (cause, sentence) the candidate's costs break, if any."""
    rows: list[MetricRow] = []
    problem: tuple[str, str] | None = None
    guarded = {g.name: g for g in context.manifest.metrics.guardrails if g.name in COST_METRICS}
    for name in COST_METRICS:
        before, after = champion.metric(name), candidate.metric(name)
        if before is None or after is None:
            continue
        guardrail = guarded.get(name)
        bound = None if guardrail is None else guardrail.worst_allowed(before)
        violated = guardrail is not None and guardrail.violated(before, after)
        rows.append(_row(name, before, after, bound, violated))
        if violated and problem is None:
            problem = (
                causes.COST_GUARDRAIL,
                f"{name} is {after:.1f} against the champion's {before:.1f}, past the "
                f"guardrail's bound of {bound:.1f}.",
            )
    limit = context.settings.max_slowdown
    before, after = champion.work_cpu_seconds, candidate.work_cpu_seconds
    slow = before > 0 and after > limit * before
    rows.append(_row("fit + recommend cpu seconds", before, after, limit * before, slow))
    if slow and problem is None:
        problem = (
            causes.SLOWDOWN,
            f"Fit + recommend took {after:.2f} CPU s against the champion's {before:.2f}, "
            f"{after / before:.0f} times slower (the limit is {limit:g} times).",
        )
    return rows, problem


def _marginal(rows: list[MetricRow], context: CascadeContext) -> bool:
    """Whether every broken bound is broken by less than the confirm margin (noise could)."""
    margin = context.settings.confirm_margin
    broken = [r for r in rows if r.status == "violated" and r.bound]
    return all(r.candidate < margin * (r.bound or 0.0) for r in broken)


def _row(name: str, before: float, after: float, bound: float | None, bad: bool) -> MetricRow:
    return MetricRow(
        metric=name,
        role="cost",
        champion=before,
        candidate=after,
        difference=after - before,
        bound=bound,
        status="violated" if bad else "ok",
    )
