"""Stage 4, offline effectiveness: the trusted evaluator on the full held-out split, paired.

The candidate runs in the sandbox on the whole training split (the manifest's offline budget);
recloop's evaluator validates and scores its lists for every test user (`workspace` sandboxed
recommender + `recsys.evaluate`). Each ranking metric of the contract is compared with the
champion's on the same users: per-user metrics with `recsys.compare.paired_comparison`, whole-list
metrics (coverage, Gini) with a paired bootstrap (`aggregate`); the interval's level is
1 - the manifest's alpha. Cost metrics belong to the local stage. The decision, from the manifest:

- `primary-worse`: the primary metric's interval lies entirely on the worse side of zero;
- `guardrail-violated`: a guardrail's candidate value is past `Guardrail.worst_allowed` of the
  champion's value (the contract's point rule; the interval is reported beside it);
- otherwise a pass: `promising` when the interval's better end reaches the primary metric's
  minimum improvement (`PrimaryMetric.min_improvement`), else `not-promising` — no worse, but
  the data rule out the smallest effect worth shipping, so it does not go online.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recloop.cascade import causes
from recloop.cascade.aggregate import AGGREGATES, paired_aggregate_comparison
from recloop.cascade.context import CascadeContext, ChampionFailedError
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import Cost, Evidence, MetricRow, Verdict
from recloop.recsys.compare import PairedComparison, paired_comparison
from recloop.recsys.evaluate import evaluate
from recloop.workspace.contract import COST_METRICS, Guardrail
from recloop.workspace.errors import SandboxFailedError
from recloop.workspace.manifest import Stage as StageName
from recloop.workspace.sandbox import SandboxResult
from recloop.workspace.sandboxed_recommender import SandboxedRecommender

FAILURE_CAUSES = {
    "timeout": causes.OFFLINE_TIMEOUT,
    "oom": causes.OFFLINE_MEMORY,
    "crash": causes.OFFLINE_CRASH,
    "bad-output": causes.OFFLINE_BAD_OUTPUT,
}


@dataclass(frozen=True, eq=False)
class OfflineRun:
    """One model's lists and metrics on the test users (in the split's user order)."""

    user_ids: np.ndarray
    per_user: dict[str, np.ndarray]
    aggregates: dict[str, float]
    recs: np.ndarray  # test users x k
    summary: dict[str, float]
    cost: Cost


def measure_offline(
    worktree: Path, context: CascadeContext, wall_seconds: float
) -> OfflineRun | SandboxResult:
    """Evaluate the code in `worktree` on the full split; its `SandboxResult` when it failed."""
    clock = StageClock("offline")
    rec = context.manifest.recommender
    k = context.manifest.k
    model = SandboxedRecommender(
        worktree,
        rec.entry_point,
        max_k=k,
        limits=context.limits("offline", wall_seconds),
        source_dir=rec.source_dir,
        hidden_paths=context.hidden_paths,
        isolate=context.settings.isolate,
    )
    try:
        result = evaluate(model, context.split, k=k)
    except SandboxFailedError as exc:
        return exc.result
    assert model.result is not None and model.result.recommendations is not None
    return OfflineRun(
        user_ids=result.user_ids,
        per_user=result.per_user,
        aggregates=result.aggregates,
        recs=model.result.recommendations[result.user_ids, :k],
        summary=result.summary(),
        cost=clock.cost(),
    )


class OfflineStage:
    """Stage 4 (see the module docstring)."""

    name: StageName = "offline"

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        clock = StageClock(self.name, context.manifest.budgets.offline.wall_seconds)
        worktree = context.worktree(candidate.name)
        if worktree is None:
            return clock.error(causes.NOT_MATERIALIZED, f"No worktree for {candidate.name!r}.")
        try:
            champion = context.champion().offline
        except ChampionFailedError as exc:
            return clock.error(causes.CHAMPION_FAILED, str(exc))
        clock = StageClock(self.name, context.manifest.budgets.offline.wall_seconds)
        run = measure_offline(worktree, context, clock.remaining)
        if isinstance(run, SandboxResult):
            tail = run.traceback_tail or run.stderr_tail
            return clock.reject(
                FAILURE_CAUSES[run.status],
                f"Fit and recommend on the full training split failed: {run.detail}.",
                Evidence(log_tail=tail[-3000:], details={"sandbox": run.status}),
            )
        try:
            comparisons = compare_runs(champion, run, context)
        except ValueError as exc:
            return clock.error(causes.HARNESS_ERROR, f"recloop could not compare: {exc}")
        return decide(clock, comparisons, context)


def compare_runs(
    champion: OfflineRun, candidate: OfflineRun, context: CascadeContext
) -> dict[str, PairedComparison]:
    """A paired comparison per ranking metric of the contract (primary first)."""
    if not np.array_equal(champion.user_ids, candidate.user_ids):
        raise ValueError("the champion and the candidate were scored on different users")
    confidence = 1.0 - context.manifest.online.alpha
    settings = context.settings
    out: dict[str, PairedComparison] = {}
    for name in context.manifest.metrics.names:
        if name in COST_METRICS:
            continue
        base = name.split("@")[0]
        seed = settings.bootstrap_seed
        if base in champion.per_user and base in candidate.per_user:
            out[name] = paired_comparison(
                name,
                champion.per_user[base],
                candidate.per_user[base],
                confidence,
                settings.n_resamples,
                seed,
            )
        elif base in AGGREGATES:
            n_items = context.split.train.n_items
            out[name] = paired_aggregate_comparison(
                name, champion.recs, candidate.recs, n_items, confidence, settings.n_resamples, seed
            )
        else:
            raise ValueError(f"the evaluator did not compute {name} (no genres for diversity?)")
    return out


def decide(
    clock: StageClock, comparisons: dict[str, PairedComparison], context: CascadeContext
) -> Verdict:
    """Apply the manifest's rules to the comparisons (see the module docstring)."""
    contract = context.manifest.metrics
    primary = contract.primary
    first = comparisons[primary.name]
    sign = 1.0 if primary.direction == "maximize" else -1.0
    high = max(sign * first.ci_low, sign * first.ci_high)  # the interval's better end
    minimum = primary.min_improvement(first.baseline)
    worse, promising = high < 0, high >= minimum
    status = "worse" if worse else ("promising" if promising else "not-promising")
    rows = [_row(first, "primary", minimum, status)]
    broken: list[tuple[Guardrail, PairedComparison]] = []
    for guardrail in contract.guardrails:
        if guardrail.name not in comparisons:
            continue
        found = comparisons[guardrail.name]
        violated = guardrail.violated(found.baseline, found.candidate)
        bound = guardrail.worst_allowed(found.baseline)
        rows.append(_row(found, "guardrail", bound, "violated" if violated else "ok"))
        if violated:
            broken.append((guardrail, found))
    level = f"{first.confidence:.0%}"
    interval = f"[{first.ci_low:+.4f}, {first.ci_high:+.4f}]"
    headline = (
        f"{primary.name} {first.candidate:.4f} against the champion's {first.baseline:.4f} "
        f"({first.difference:+.4f}, {level} interval {interval}, {first.n_users} users)"
    )
    evidence = Evidence(metrics=rows, details={"confidence": first.confidence})
    if worse:
        return clock.reject(causes.PRIMARY_WORSE, f"Significantly worse: {headline}.", evidence)
    if broken:
        guardrail, found = broken[0]
        bound = guardrail.worst_allowed(found.baseline)
        return clock.reject(
            causes.GUARDRAIL_VIOLATED,
            f"Guardrail {guardrail.name} violated: {found.candidate:.4f} against the champion's "
            f"{found.baseline:.4f}, past the bound {bound:.4f} ({headline}).",
            evidence,
        )
    if promising:
        return clock.passed(
            causes.PROMISING,
            f"Promising: {headline} allows the minimum effect of {minimum:+.4f}; every "
            "guardrail holds.",
            evidence,
        )
    return clock.passed(
        causes.NOT_PROMISING,
        f"Not promising: {headline} rules out the minimum effect of {minimum:+.4f} worth "
        "shipping; it is not taken online.",
        evidence,
    )


def _row(found: PairedComparison, role: str, bound: float, status: str) -> MetricRow:
    return MetricRow.model_validate(
        {
            "metric": found.metric,
            "role": role,
            "champion": found.baseline,
            "candidate": found.candidate,
            "difference": found.difference,
            "ci_low": found.ci_low,
            "ci_high": found.ci_high,
            "bound": bound,
            "status": status,
        }
    )
