"""The metrics contract: names the evaluator produces, directions, guardrail arithmetic."""

from __future__ import annotations

import pytest

from recloop.recsys.evaluate import evaluate
from recloop.recsys.models import make_model
from recloop.recsys.splits import make_split
from recloop.recsys.synthetic import SyntheticConfig, synthetic_interactions
from recloop.workspace.contract import (
    RANKING_METRICS,
    Guardrail,
    PrimaryMetric,
    check_metric_name,
    natural_direction,
)


def test_ranking_metric_names_are_exactly_what_the_evaluator_reports() -> None:
    data = synthetic_interactions(SyntheticConfig.small(seed=0)).implicit(4)
    result = evaluate(make_model("pop"), make_split(data, "temporal-loo"), k=5)
    assert set(result.summary()) == {f"{name}@5" for name in RANKING_METRICS}


@pytest.mark.parametrize("name", ["ndcg@10", "gini@1", "latency_ms_per_1k_users", "fit_seconds"])
def test_known_names_are_accepted(name: str) -> None:
    assert check_metric_name(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ndgc@10", "did you mean 'ndcg@10'"),
        ("ndcg", "needs a list length"),
        ("ndcg@0", "at least 1"),
        ("latency", "did you mean 'latency_ms_per_1k_users'"),
        ("auc@10", "unknown metric 'auc@10'"),
    ],
)
def test_unknown_names_are_refused_with_help(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_metric_name(name)


def test_natural_directions() -> None:
    assert natural_direction("ndcg@10") == "maximize"
    assert natural_direction("popularity@10") == "minimize"
    assert natural_direction("gini@10") == "minimize"
    assert natural_direction("latency_ms_per_1k_users") == "minimize"


def test_a_relative_guardrail_on_a_metric_to_maximise() -> None:
    coverage = Guardrail(name="coverage@10", threshold=0.1)
    assert coverage.worst_allowed(0.2) == pytest.approx(0.18)
    assert not coverage.violated(0.2, 0.181)
    assert coverage.violated(0.2, 0.179)


def test_an_absolute_guardrail_on_a_metric_to_minimise() -> None:
    popularity = Guardrail(name="popularity@10", threshold=5.0, kind="absolute")
    assert popularity.worst_allowed(100.0) == 105.0
    assert popularity.violated(100.0, 105.5) and not popularity.violated(100.0, 90.0)


def test_a_hard_limit_tightens_the_bound() -> None:
    latency = Guardrail(name="latency_ms_per_1k_users", threshold=1.0, limit=150.0)
    assert latency.worst_allowed(100.0) == 150.0  # twice the champion would be 200
    assert latency.worst_allowed(50.0) == 100.0
    assert latency.violated(100.0, 160.0)


def test_an_explicit_direction_overrides_the_natural_one() -> None:
    assert Guardrail(name="popularity@10", threshold=0.1, direction="maximize").worst_allowed(
        10.0
    ) == pytest.approx(9.0)


def test_the_minimum_effect_in_metric_units() -> None:
    assert PrimaryMetric(name="ndcg@10", min_effect=0.02).min_improvement(0.05) == pytest.approx(
        0.001
    )
    absolute = PrimaryMetric(name="ndcg@10", min_effect=0.003, min_effect_kind="absolute")
    assert absolute.min_improvement(0.05) == 0.003
