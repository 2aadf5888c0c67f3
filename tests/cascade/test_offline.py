"""The offline decision rules, from the manifest, on hand-made comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.offline import OfflineRun, compare_runs, decide
from recloop.cascade.stage import StageClock
from recloop.cascade.verdict import Cost
from recloop.recsys.compare import PairedComparison
from recloop.workspace.git import run_git

CHAMPION_NDCG = 0.05  # minimum improvement: 2% of it = 0.001


def _cmp(metric: str, base: float, cand: float, low: float, high: float) -> PairedComparison:
    return PairedComparison(
        metric=metric,
        n_users=900,
        baseline=base,
        candidate=cand,
        difference=cand - base,
        relative=(cand - base) / base,
        ci_low=low,
        ci_high=high,
        confidence=0.95,
        p_value=0.5,
    )


def _comparisons(low: float, high: float, coverage: float = 0.056) -> dict[str, PairedComparison]:
    mid = (low + high) / 2
    return {
        "ndcg@10": _cmp("ndcg@10", CHAMPION_NDCG, CHAMPION_NDCG + mid, low, high),
        "coverage@10": _cmp("coverage@10", 0.056, coverage, -0.01, 0.01),
        "popularity@10": _cmp("popularity@10", 300.0, 300.0, -1.0, 1.0),
        "novelty@10": _cmp("novelty@10", 1.7, 1.7, -0.1, 0.1),
    }


@pytest.mark.parametrize(
    ("low", "high", "coverage", "outcome", "cause"),
    [
        (-0.02, -0.005, 0.056, "reject", causes.PRIMARY_WORSE),
        (-0.02, -0.005, 0.01, "reject", causes.PRIMARY_WORSE),  # primary first
        (-0.001, 0.004, 0.040, "reject", causes.GUARDRAIL_VIOLATED),  # coverage -29%
        (-0.001, 0.004, 0.056, "pass", causes.PROMISING),
        (0.0, 0.0, 0.056, "pass", causes.NOT_PROMISING),  # identical lists
        (-0.003, 0.0009, 0.056, "pass", causes.NOT_PROMISING),  # rules out +0.001
        (-0.003, 0.0011, 0.056, "pass", causes.PROMISING),
    ],
)
def test_decision_rules(
    example_context: CascadeContext,
    low: float,
    high: float,
    coverage: float,
    outcome: str,
    cause: str,
) -> None:
    verdict = decide(StageClock("offline"), _comparisons(low, high, coverage), example_context)
    assert (verdict.outcome, verdict.cause) == (outcome, cause)
    rows = {row.metric: row for row in verdict.evidence.metrics}
    assert rows["ndcg@10"].bound == pytest.approx(0.001)
    assert rows["coverage@10"].bound == pytest.approx(0.056 * 0.9)


def test_a_minimised_primary_metric_flips_the_interval(example: Path) -> None:
    manifest = example / "recloop.toml"
    text = manifest.read_text().replace(
        'name = "ndcg@10"\ndirection = "maximize"', 'name = "popularity@10"\ndirection = "minimize"'
    )
    text = text.replace(
        '[[metrics.guardrails]]\nname = "popularity@10"', '[[metrics.guardrails]]\nname = "ndcg@10"'
    )
    manifest.write_text(text)
    run_git(["commit", "--quiet", "-am", "minimise popularity"], example)
    context = CascadeContext(example)
    lower = {"popularity@10": _cmp("popularity@10", 300.0, 280.0, -30.0, -10.0)}
    assert decide(StageClock("offline"), lower, context).cause == causes.PROMISING
    higher = {"popularity@10": _cmp("popularity@10", 300.0, 320.0, 10.0, 30.0)}
    assert decide(StageClock("offline"), higher, context).cause == causes.PRIMARY_WORSE


def _run(users: np.ndarray) -> OfflineRun:
    return OfflineRun(
        user_ids=users,
        per_user={"ndcg": np.linspace(0, 1, len(users))},
        aggregates={"coverage": 0.1},
        recs=np.zeros((len(users), 10), dtype=np.int64),
        summary={},
        cost=Cost(wall_seconds=0.0, cpu_seconds=0.0),
    )


def test_runs_on_different_users_cannot_be_compared(example_context: CascadeContext) -> None:
    with pytest.raises(ValueError, match="different users"):
        compare_runs(_run(np.arange(3)), _run(np.arange(1, 4)), example_context)
