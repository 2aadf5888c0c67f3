"""Whole-list metrics compared with a paired user bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.cascade.aggregate import exposure_matrix, paired_aggregate_comparison
from recloop.recsys.metrics import beyond_accuracy

N_ITEMS = 50


@pytest.fixture
def lists() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    narrow = np.stack([rng.choice(10, 5, replace=False) for _ in range(200)])
    wide = np.stack([rng.choice(N_ITEMS, 5, replace=False) for _ in range(200)])
    return narrow, wide


def test_point_estimates_are_the_evaluator_s(lists: tuple[np.ndarray, np.ndarray]) -> None:
    narrow, wide = lists
    popularity = np.ones(N_ITEMS)
    for name in ("coverage", "gini"):
        found = paired_aggregate_comparison(name, narrow, wide, N_ITEMS, n_resamples=200)
        expected_a = beyond_accuracy(narrow, 5, popularity, 10, None)[name]
        expected_b = beyond_accuracy(wide, 5, popularity, 10, None)[name]
        assert found.baseline == pytest.approx(expected_a)
        assert found.candidate == pytest.approx(expected_b)


def test_a_clear_difference_is_significant(lists: tuple[np.ndarray, np.ndarray]) -> None:
    narrow, wide = lists
    found = paired_aggregate_comparison("coverage@5", narrow, wide, N_ITEMS, n_resamples=500)
    assert found.difference == pytest.approx(0.8)  # 10 of 50 items -> all 50
    assert found.ci_low <= found.difference <= found.ci_high
    assert found.significant and found.p_value < 0.01
    assert found.metric == "coverage@5" and found.n_users == 200


def test_identical_lists_differ_by_nothing(lists: tuple[np.ndarray, np.ndarray]) -> None:
    narrow, _ = lists
    found = paired_aggregate_comparison("gini", narrow, narrow, N_ITEMS, n_resamples=200)
    assert (found.difference, found.ci_low, found.ci_high) == (0.0, 0.0, 0.0)
    assert not found.significant


def test_seeded_and_checked(lists: tuple[np.ndarray, np.ndarray]) -> None:
    narrow, wide = lists
    a = paired_aggregate_comparison("gini", narrow, wide, N_ITEMS, n_resamples=300, seed=4)
    b = paired_aggregate_comparison("gini", narrow, wide, N_ITEMS, n_resamples=300, seed=4)
    assert a == b
    with pytest.raises(ValueError, match="not an aggregate"):
        paired_aggregate_comparison("ndcg", narrow, wide, N_ITEMS)
    with pytest.raises(ValueError, match="differ in shape"):
        paired_aggregate_comparison("coverage", narrow, wide[:10], N_ITEMS)


def test_exposure_matrix_counts_each_shown_item() -> None:
    matrix = exposure_matrix(np.array([[0, 2], [2, 1]]), 4)
    assert matrix.toarray().tolist() == [[1, 0, 1, 0], [0, 1, 1, 0]]
