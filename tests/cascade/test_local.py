"""Local execution: cost rules on hand-made measurements, and a real measured run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.local import (
    LocalMeasurement,
    LocalStage,
    _marginal,
    judge_costs,
    measure_local,
)
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission

CHAMPION = LocalMeasurement(
    n_users=500,
    fit_seconds=0.05,
    fit_cpu_seconds=0.05,
    recommend_seconds=0.03,
    recommend_cpu_seconds=0.03,
    peak_memory_mb=100.0,
    wall_seconds=0.4,
    cpu_seconds=0.35,
    reported={"fit_seconds": 0.05, "recommend_seconds": 0.03},
)


def _slower(fit: float = 1.0, recommend: float = 1.0, memory: float = 1.0) -> LocalMeasurement:
    return CHAMPION.model_copy(
        update={
            "fit_seconds": CHAMPION.fit_seconds * fit,
            "fit_cpu_seconds": CHAMPION.fit_cpu_seconds * fit,
            "recommend_seconds": CHAMPION.recommend_seconds * recommend,
            "recommend_cpu_seconds": CHAMPION.recommend_cpu_seconds * recommend,
            "peak_memory_mb": 100.0 * memory,
        }
    )


def test_latency_from_the_fastest_pass() -> None:
    assert CHAMPION.latency_ms_per_1k_users == pytest.approx(60.0)
    assert CHAMPION.work_cpu_seconds == pytest.approx(0.08)
    best = LocalMeasurement.best([_slower(2, 3), _slower(1.5, 4)])
    assert best.fit_seconds == pytest.approx(0.075) and best.recommend_seconds == pytest.approx(
        0.09
    )


@pytest.mark.parametrize(
    ("candidate", "cause"),
    [
        (_slower(), None),
        (_slower(fit=3, recommend=1.5), None),
        (_slower(recommend=2.5), causes.COST_GUARDRAIL),  # latency may at most double
        (_slower(fit=20, recommend=1), causes.SLOWDOWN),  # 20x slower to fit: rejected
        (_slower(fit=20, recommend=20), causes.COST_GUARDRAIL),  # the contract's rule first
    ],
)
def test_cost_rules(
    example_context: CascadeContext, candidate: LocalMeasurement, cause: str | None
) -> None:
    rows, problem = judge_costs(candidate, CHAMPION, example_context)
    assert (problem[0] if problem else None) == cause
    names = [r.metric for r in rows]
    assert "latency_ms_per_1k_users" in names and "fit + recommend cpu seconds" in names


def test_only_marginal_violations_are_measured_again(example_context: CascadeContext) -> None:
    rows, _ = judge_costs(_slower(recommend=2.5), CHAMPION, example_context)
    assert _marginal(rows, example_context)  # 150 ms against a bound of 120: noise could
    rows, _ = judge_costs(_slower(recommend=10), CHAMPION, example_context)
    assert not _marginal(rows, example_context)


def test_the_champion_passes_against_itself(corpus_context: CascadeContext) -> None:
    run = measure_local(corpus_context.champion_checkout(), corpus_context, 60)
    assert run.cause is None and run.measurement is not None
    assert run.measurement.n_users == corpus_context.settings.local_users
    assert run.measurement.peak_memory_mb is not None


def test_a_sound_candidate_passes_with_its_cost_table(
    corpus_context: CascadeContext, popularity_off: str
) -> None:
    candidate = Submission(name="local-ok", patch=popularity_off)
    try:
        assert StructuralStage().run(candidate, corpus_context).passed
        verdict = LocalStage().run(candidate, corpus_context)
    finally:
        corpus_context.candidates.remove("local-ok")
    assert (verdict.outcome, verdict.cause) == ("pass", causes.PASSED), verdict.sentence
    assert {r.status for r in verdict.evidence.metrics} == {"ok"}
    assert LocalStage().run(candidate, corpus_context).cause == causes.NOT_MATERIALIZED


LIAR = """

import time as _time

_honest = _time.monotonic
_time.perf_counter = lambda: 0.0  # the harness's clock stands still: every phase "takes" 0 s
_time.process_time = lambda: 0.0
_build = build_recommender


class _Slow:
    def __init__(self):
        self.inner = _build()

    def fit(self, train):
        self.inner.fit(train)
        return self

    def recommend(self, users, k, exclude_seen=True):
        until = _honest() + 0.3
        while _honest() < until:
            pass
        return self.inner.recommend(users, k, exclude_seen=exclude_seen)


def build_recommender():
    return _Slow()
"""


def test_a_candidate_lying_about_its_timing_is_judged_by_the_parents_clock(
    corpus_context: CascadeContext, tmp_path: Path
) -> None:
    """It stops the child's clock and spends 0.3 s in every recommend pass: the child reports
    0 s, the parent measures the passes and the latency guardrail rejects it."""
    liar = tmp_path / "liar"
    shutil.copytree(corpus_context.champion_checkout(), liar, ignore=shutil.ignore_patterns(".git"))
    with (liar / "movierec" / "pipeline.py").open("a", encoding="utf-8") as module:
        module.write(LIAR)
    run = measure_local(liar, corpus_context, 60)
    assert run.cause is None and run.measurement is not None, run.sentence
    measured = run.measurement
    lie = {"fit_seconds", "recommend_seconds", "fit_cpu_seconds", "recommend_cpu_seconds"}
    assert measured.reported == dict.fromkeys(lie, 0.0)  # the lie
    assert 0.3 <= measured.recommend_seconds < 0.3 + 0.5  # each pass, on the parent's clock
    assert measured.recommend_cpu_seconds >= 0.25  # the busy loop, in the kernel's account
    champion = corpus_context.champion().local
    assert champion.recommend_seconds < 0.15
    _, problem = judge_costs(measured, champion, corpus_context)
    assert problem is not None and problem[0] == causes.COST_GUARDRAIL
    assert "latency_ms_per_1k_users" in problem[1]
    believed = measured.model_copy(update=measured.reported)
    assert judge_costs(believed, champion, corpus_context)[1] is None  # the lie would pass


SPINNER = """

import time as _time

_honest = _time.monotonic
_time.process_time = lambda: 0.0  # the child's CPU clock says fit costs nothing
_build = build_recommender


class _Spinning:
    def __init__(self):
        self.inner = _build()

    def fit(self, train):
        until = _honest() + 1.5
        while _honest() < until:
            pass
        self.inner.fit(train)
        return self

    def recommend(self, users, k, exclude_seen=True):
        return self.inner.recommend(users, k, exclude_seen=exclude_seen)


def build_recommender():
    return _Spinning()
"""


def test_a_candidate_hiding_its_cpu_time_is_judged_by_the_kernels_account(
    corpus_context: CascadeContext, tmp_path: Path
) -> None:
    """It spends 1.5 CPU s in fit with a patched `process_time`: the child reports 0, the
    parent reads the kernel's account and the slowdown bound rejects it."""
    spinner = tmp_path / "spinner"
    shutil.copytree(corpus_context.champion_checkout(), spinner,
                    ignore=shutil.ignore_patterns(".git"))  # fmt: skip
    with (spinner / "movierec" / "pipeline.py").open("a", encoding="utf-8") as module:
        module.write(SPINNER)
    run = measure_local(spinner, corpus_context, 60)
    assert run.measurement is not None, run.sentence
    measured = run.measurement
    assert measured.reported["fit_cpu_seconds"] == 0.0  # the lie
    assert measured.fit_cpu_seconds >= 1.3
    champion = corpus_context.champion().local
    assert champion.work_cpu_seconds < 1.5 / corpus_context.settings.max_slowdown
    _, problem = judge_costs(measured, champion, corpus_context)
    assert problem is not None and problem[0] == causes.SLOWDOWN
    believed = measured.model_copy(update={"fit_cpu_seconds": 0.0, "recommend_cpu_seconds": 0.0})
    assert judge_costs(believed, champion, corpus_context)[1] is None  # the lie would pass


def test_the_parents_figures_agree_with_an_honest_childs(corpus_context: CascadeContext) -> None:
    run = measure_local(corpus_context.champion_checkout(), corpus_context, 60)
    assert run.measurement is not None
    m = run.measurement
    # the parent's pass is a mean of the passes seen from outside: never below the child's
    # fastest, and within polling and scheduling noise of it on an honest child
    assert m.reported["recommend_seconds"] - 0.01 <= m.recommend_seconds
    assert m.recommend_seconds < 3 * m.reported["recommend_seconds"] + 0.05
    assert abs(m.fit_seconds - m.reported["fit_seconds"]) < 0.05
