"""The bench's figures from case results, and the offline-only cost of a rejected candidate."""

from __future__ import annotations

import time

import pytest

from recloop.cascade.bench import CaseResult, offline_only_seconds, summarize
from recloop.cascade.context import CascadeContext
from recloop.cascade.corpus import Corpus
from recloop.cascade.settings import CascadeSettings


def _case(
    name: str,
    kind: str,
    stage: str,
    cause: str,
    outcome: str,
    expected: tuple[str, str] | None = None,
    **costs: float,
) -> CaseResult:
    if expected is None:
        expected = ("online", "pending-online") if kind == "good" else (stage, cause)
    return CaseResult(
        name=name,
        kind=kind,
        expected_stage=expected[0],
        expected_cause=expected[1],
        stage=stage,
        cause=cause,
        outcome=outcome,
        matched=(stage, cause) == expected,
        sentence="",
        cascade_seconds=costs.get("cascade", 1.0),
        cascade_cpu_seconds=costs.get("cascade", 1.0),
        offline_stage_seconds=costs.get("offline"),
        offline_only_seconds=costs.get("alone"),
    )


RESULTS = [
    _case("a", "bad", "structural", "syntax-error", "rejected", cascade=0.05, alone=0.5),
    _case("b", "bad", "structural", "symlink", "rejected", cascade=0.01, alone=0.5),
    _case("c", "bad", "semantic", "seen-items", "rejected", cascade=1.0, alone=0.5),
    _case("d", "bad", "offline", "primary-worse", "rejected", cascade=3.0, alone=0.5, offline=0.6),
    _case(
        "e", "bad", "online", "pending-online", "pending-online", ("local", "slowdown"), cascade=3
    ),  # a silent failure
    _case("f", "good", "online", "pending-online", "pending-online", cascade=3.0, offline=0.4),
    _case("g", "good", "local", "slowdown", "rejected", cascade=2.0),
]


def test_figures() -> None:
    report = summarize(
        RESULTS, CascadeSettings(), champion_seconds=2.0, started=time.perf_counter()
    )
    assert (report.n_good, report.n_bad) == (2, 5)
    assert report.effective_pass_rate == 0.5
    assert report.silent_failure_rate == pytest.approx(0.2)
    assert report.rejections_per_stage == {"structural": 2, "semantic": 1, "local": 0, "offline": 1}
    assert report.rejected_before_offline == pytest.approx(3 / 5)
    assert report.cascade_seconds_on_rejected == pytest.approx(4.06)
    assert report.offline_only_seconds_on_rejected == pytest.approx(2.0)
    assert report.rejected_cost_ratio == pytest.approx(2.03)
    assert report.compute_saved == pytest.approx(-1.03)
    assert report.offline_evaluation_seconds == pytest.approx(0.5)  # median of 0.6 and 0.4
    assert report.median_rejection_seconds == pytest.approx(0.525)
    assert report.median_rejection_share == pytest.approx(1.05)
    assert report.mismatches == [
        "e: expected local/slowdown, got online/pending-online",
        "g: expected online/pending-online, got local/slowdown",
    ]


def test_offline_only_cost_is_measured_on_the_raw_patch(
    corpus_context: CascadeContext, corpus: Corpus
) -> None:
    case = corpus.select(["edits-manifest"])[0]  # refused by the cascade, evaluable without it
    seconds = offline_only_seconds(case, corpus_context)
    assert seconds > 0.1
    assert corpus_context.worktree("oo-edits-manifest") is None  # cleaned up
    stale = corpus.select(["stale-patch"])[0]  # git cannot apply it: only the attempt
    assert offline_only_seconds(stale, corpus_context) < seconds
