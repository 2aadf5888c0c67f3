import numpy as np
import pytest
from scipy import stats

from recloop.recsys.compare import paired_comparison


def test_hand_computed_difference_and_t_test() -> None:
    base = np.array([0.0, 0.5, 1.0, 0.25])
    cand = np.array([0.5, 0.5, 1.0, 0.75])
    result = paired_comparison("ndcg@10", base, cand)
    # differences 0.5, 0, 0, 0.5 -> mean 0.25; baseline mean 0.4375
    assert result.difference == pytest.approx(0.25, abs=1e-12)
    assert result.relative == pytest.approx(0.25 / 0.4375, abs=1e-12)
    # paired t: mean 0.25, sd of differences sqrt(1/12), se = sd / 2
    t = 0.25 / (np.sqrt(1 / 12) / 2)
    assert result.p_value == pytest.approx(2 * stats.t.sf(t, df=3), rel=1e-9)
    assert result.ci_low <= result.difference <= result.ci_high


def test_bootstrap_interval_agrees_with_the_normal_interval_on_large_samples() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(5000)
    cand = base + rng.normal(0.02, 0.2, 5000)
    result = paired_comparison("recall@10", base, cand, seed=3)
    diff = cand - base
    half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert result.ci_low == pytest.approx(diff.mean() - half, abs=0.15 * half)
    assert result.ci_high == pytest.approx(diff.mean() + half, abs=0.15 * half)
    assert result.significant


def test_no_real_difference_is_not_significant() -> None:
    rng = np.random.default_rng(2)
    base = rng.random(400)
    cand = base + rng.normal(0.0, 0.1, 400)
    result = paired_comparison("ndcg@10", base, cand)
    assert result.ci_low < 0 < result.ci_high
    assert not result.significant
    assert result.p_value > 0.05


def test_identical_vectors() -> None:
    base = np.array([0.1, 0.2, 0.3])
    result = paired_comparison("mrr@10", base, base)
    assert (result.difference, result.ci_low, result.ci_high, result.p_value) == (0, 0, 0, 1.0)


def test_seed_makes_the_interval_reproducible() -> None:
    rng = np.random.default_rng(4)
    base, cand = rng.random(300), rng.random(300)
    a = paired_comparison("x", base, cand, seed=7)
    b = paired_comparison("x", base, cand, seed=7)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)


def test_mismatched_vectors_are_an_error() -> None:
    with pytest.raises(ValueError, match="equal-length"):
        paired_comparison("ndcg@10", np.zeros(3), np.zeros(4))
