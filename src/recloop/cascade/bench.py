"""`recloop bench cascade`: run the planted-fault corpus and measure what the cascade buys.

Every case of the corpus goes through the full cascade on a fresh corpus workspace (the example
with the corpus's budgets). Then, for each bad candidate the cascade rejected, the cost of the
world without the cascade is measured for real: the patch applied as is (plain `git apply`, no
checks) to a fresh worktree and judged by the offline stage alone. The figures:

- effective pass rate: good candidates that reached the online slot / good candidates;
- silent failure rate: bad candidates that reached the online slot / bad candidates (goal 0);
- rejections per stage, and the share of bad candidates rejected before the offline stage;
- rejected cost ratio: cascade seconds spent on rejected candidates / the seconds the same
  candidates cost with offline evaluation only; compute saved is 1 minus it;
- median rejection cost as a share of one offline evaluation (the median wall time of the
  offline stage over the candidates it fully evaluated in this run).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from recloop.cascade.context import CascadeContext
from recloop.cascade.corpus import Corpus, CorpusCase, corpus_workspace, load_corpus
from recloop.cascade.offline import OfflineStage
from recloop.cascade.runner import run_cascade
from recloop.cascade.settings import CascadeSettings
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import CascadeResult
from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git
from recloop.workspace.isolation import namespace_prefix
from recloop.workspace.manifest import STAGES

BenchProgress = Callable[[str, int, int], None]  # (case name, cases done, cases total)
FULL_OFFLINE = ("promising", "not-promising", "primary-worse", "guardrail-violated")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseResult(_Model):
    """One corpus case: what was expected, what the cascade said, what it cost."""

    name: str
    kind: str
    expected_stage: str
    expected_cause: str
    stage: str
    cause: str
    outcome: str
    matched: bool
    sentence: str
    cascade_seconds: float
    cascade_cpu_seconds: float
    offline_stage_seconds: float | None = None  # the offline stage, when the cascade reached it
    offline_only_seconds: float | None = None  # the same candidate judged by offline alone


class BenchReport(_Model):
    """The corpus's figures (see the module docstring) and every case's result."""

    n_cases: int
    n_good: int
    n_bad: int
    effective_pass_rate: float
    silent_failure_rate: float
    rejections_per_stage: dict[str, int]
    rejected_before_offline: float  # share of the bad candidates
    cascade_seconds_on_rejected: float
    offline_only_seconds_on_rejected: float | None
    rejected_cost_ratio: float | None
    compute_saved: float | None
    offline_evaluation_seconds: float
    median_rejection_seconds: float
    median_rejection_share: float  # of one offline evaluation
    champion_seconds: float
    total_seconds: float
    mismatches: list[str]
    isolation: str
    settings: CascadeSettings
    cases: list[CaseResult]


def run_bench(
    workdir: Path | None = None,
    names: list[str] | None = None,
    *,
    offline_only: bool = True,
    settings: CascadeSettings | None = None,
    progress: BenchProgress | None = None,
) -> BenchReport:
    """Run the corpus (all cases, or `names`) in a fresh workspace under `workdir`."""
    corpus = load_corpus()
    cases = corpus.select(names)
    with tempfile.TemporaryDirectory(prefix="recloop-bench-", dir=workdir) as tmp:
        return _run(Path(tmp), corpus, cases, offline_only, settings, progress)


def _run(
    tmp: Path,
    corpus: Corpus,
    cases: list[CorpusCase],
    offline_only: bool,
    settings: CascadeSettings | None,
    progress: BenchProgress | None,
) -> BenchReport:
    started = time.perf_counter()
    context = CascadeContext(corpus_workspace(tmp / "workspace", corpus), settings)
    try:
        clock = StageClock("offline")
        context.champion()
        champion_seconds = clock.elapsed
        results = []
        for done, case in enumerate(cases):
            if progress is not None:
                progress(case.name, done, len(cases))
            result = run_cascade(case.submission(), context)
            cost = None
            if offline_only and case.kind == "bad" and result.outcome == "rejected":
                cost = offline_only_seconds(case, context)
            results.append(_case_result(case, result, cost))
            _remove(context, case.name)
        if progress is not None:
            progress("", len(cases), len(cases))
    finally:
        context.close()
    return summarize(results, context.settings, champion_seconds, started)


def offline_only_seconds(case: CorpusCase, context: CascadeContext) -> float:
    """What `case` costs judged by the offline stage alone: raw `git apply`, commit, offline."""
    name = f"oo-{case.name}"[:63]
    clock = StageClock("offline")
    try:
        made = context.candidates.create(name)
        try:
            run_git(["apply", "-"], made.path, input=case.read_patch().encode())
            context.candidates.commit(name, f"offline only: {case.name}")
        except GitError:  # git itself cannot apply it: the attempt is all it costs
            return clock.elapsed
        OfflineStage().run(Submission(name=name, patch=case.read_patch()), context)
        return clock.elapsed
    finally:
        _remove(context, name)


def _remove(context: CascadeContext, name: str) -> None:
    with contextlib.suppress(GitError):  # the cascade rejected it before it had a worktree
        context.candidates.remove(name)


def _case_result(case: CorpusCase, result: CascadeResult, offline_only: float | None) -> CaseResult:
    last = result.last
    offline = next((v for v in result.verdicts if v.stage == "offline"), None)
    full = offline is not None and offline.cause in FULL_OFFLINE
    return CaseResult(
        name=case.name,
        kind=case.kind,
        expected_stage=case.stage,
        expected_cause=case.cause,
        stage=last.stage,
        cause=last.cause,
        outcome=result.outcome,
        matched=(last.stage, last.cause) == (case.stage, case.cause),
        sentence=last.sentence,
        cascade_seconds=result.cost.wall_seconds,
        cascade_cpu_seconds=result.cost.cpu_seconds,
        offline_stage_seconds=offline.cost.wall_seconds if offline and full else None,
        offline_only_seconds=offline_only,
    )


def summarize(
    results: list[CaseResult], settings: CascadeSettings, champion_seconds: float, started: float
) -> BenchReport:
    """The figures of the module docstring from the cases' results."""
    good = [r for r in results if r.kind == "good"]
    bad = [r for r in results if r.kind == "bad"]
    rejected = [r for r in bad if r.outcome == "rejected"]
    per_stage = {stage: sum(r.stage == stage for r in rejected) for stage in STAGES[:4]}
    early = sum(r.stage in ("structural", "semantic", "local") for r in rejected)
    measured = [r for r in rejected if r.offline_only_seconds is not None]
    spent = sum(r.cascade_seconds for r in rejected)
    alone = sum(r.offline_only_seconds or 0.0 for r in measured) if measured else None
    ratio = sum(r.cascade_seconds for r in measured) / alone if alone else None
    offline_runs = [r.offline_stage_seconds for r in results if r.offline_stage_seconds]
    one_offline = statistics.median(offline_runs) if offline_runs else float("nan")
    median_rejection = statistics.median(r.cascade_seconds for r in rejected) if rejected else 0.0
    prefix, why = namespace_prefix()
    return BenchReport(
        n_cases=len(results),
        n_good=len(good),
        n_bad=len(bad),
        effective_pass_rate=_share(sum(r.outcome == "pending-online" for r in good), len(good)),
        silent_failure_rate=_share(sum(r.outcome == "pending-online" for r in bad), len(bad)),
        rejections_per_stage=per_stage,
        rejected_before_offline=_share(early, len(bad)),
        cascade_seconds_on_rejected=spent,
        offline_only_seconds_on_rejected=alone,
        rejected_cost_ratio=ratio,
        compute_saved=None if ratio is None else 1.0 - ratio,
        offline_evaluation_seconds=one_offline,
        median_rejection_seconds=median_rejection,
        median_rejection_share=median_rejection / one_offline if offline_runs else float("nan"),
        champion_seconds=champion_seconds,
        total_seconds=time.perf_counter() - started,
        mismatches=[
            f"{r.name}: expected {r.expected_stage}/{r.expected_cause}, got {r.stage}/{r.cause}"
            for r in results
            if not r.matched
        ],
        isolation="namespaces" if prefix is not None else f"none ({why})",
        settings=settings,
        cases=results,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
