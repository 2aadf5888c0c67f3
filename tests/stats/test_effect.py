"""Two-arm effects against scipy, statsmodels, gbstats and a hand-computed delta-method case."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from recloop.stats.effect import estimate_effect
from recloop.stats.summary import ArmData, ArmStats, arm_stats


def _skewed_arms(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.exponential(2.0, 300), rng.exponential(2.3, 420)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_equals_scipy_ttest_ind_unequal_var(seed: int) -> None:
    control, treatment = _skewed_arms(seed)
    effect = estimate_effect("m", arm_stats(control), arm_stats(treatment), alpha=0.05)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert effect.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert effect.dof == pytest.approx(ref.df, rel=1e-12)
    assert effect.ci_low == pytest.approx(ci.low, rel=1e-10)
    assert effect.ci_high == pytest.approx(ci.high, rel=1e-10)
    assert effect.effect == pytest.approx(treatment.mean() - control.mean(), rel=1e-13)


@pytest.mark.parametrize("seed", [3, 4])
def test_welch_equals_statsmodels_compare_means(seed: int) -> None:
    control, treatment = _skewed_arms(seed)
    effect = estimate_effect("m", arm_stats(control), arm_stats(treatment), alpha=0.1)
    compare = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
    low, high = compare.tconfint_diff(alpha=0.1, usevar="unequal")
    _, p_value, dof = compare.ttest_ind(usevar="unequal")
    assert (effect.ci_low, effect.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert effect.p_value == pytest.approx(p_value, rel=1e-10)
    assert effect.dof == pytest.approx(dof, rel=1e-12)


def test_relative_lift_matches_hand_computed_delta_method() -> None:
    # control 1, 2, 3, 4:      μ_C = 2.5, s_C² = 5/3, n_C = 4
    # treatment 2, 3, 4, 5, 6: μ_T = 4,   s_T² = 10/4 = 2.5, n_T = 5
    # lift = (4 - 2.5) / 2.5 = 0.6
    # Var = s_C² μ_T² / (μ_C⁴ n_C) + s_T² / (μ_C² n_T)
    #     = (5/3)·16 / (39.0625·4) + 2.5 / (6.25·5) = 0.170666… + 0.08 = 0.250666…
    # Welch dof = (5/12 + 1/2)² / ((5/12)²/3 + (1/2)²/4) = 0.840277… / 0.120370… = 6.98077…
    # t(0.975, 6.98077) = 2.36595…  →  CI 0.6 ± 2.36595 · 0.500666… = 0.6 ± 1.18455
    effect = estimate_effect(
        "m", arm_stats(np.array([1.0, 2, 3, 4])), arm_stats(np.array([2.0, 3, 4, 5, 6]))
    )
    assert effect.relative_effect == pytest.approx(0.6, abs=1e-15)
    assert effect.relative_se == pytest.approx(np.sqrt(0.2506666666666667), rel=1e-14)
    assert effect.dof == pytest.approx(6.980769230769231, rel=1e-12)
    half = stats.t.ppf(0.975, 6.980769230769231) * np.sqrt(0.2506666666666667)
    assert half == pytest.approx(1.18455, abs=1e-5)
    assert effect.relative_ci_low == pytest.approx(0.6 - half, rel=1e-12)
    assert effect.relative_ci_high == pytest.approx(0.6 + half, rel=1e-12)


@pytest.mark.parametrize("difference", ["absolute", "relative"])
@pytest.mark.parametrize("case", ["welch", "ratio"])
def test_matches_gbstats_two_sided_ttest(
    gbstats: dict[str, Any], case: str, difference: str
) -> None:
    c, t = gbstats["arrays"]["control"], gbstats["arrays"]["treatment"]
    if case == "welch":
        control, treatment = arm_stats(c["post"]), arm_stats(t["post"])
    else:
        control = arm_stats(ArmData(values=c["num"], denominator=c["den"]))
        treatment = arm_stats(ArmData(values=t["num"], denominator=t["den"]))
    effect = estimate_effect("m", control, treatment)
    golden = gbstats[f"{case}_{difference}"]
    if difference == "absolute":
        got = (effect.effect, effect.se, effect.ci_low, effect.ci_high, effect.p_value)
    else:
        got = (
            effect.relative_effect,
            effect.relative_se,
            effect.relative_ci_low,
            effect.relative_ci_high,
            effect.relative_p_value,
        )
    want = tuple(golden[k] for k in ("expected", "stddev", "ci_low", "ci_high", "p_value"))
    assert got == pytest.approx(want, rel=1e-9)


def test_ratio_intervals_cover_the_true_ratio_difference() -> None:
    """Delta-method CIs of a ratio metric cover the truth ≈ 95% over repeated experiments."""
    rng = np.random.default_rng(7)
    reps, n = 2000, 1500
    p_c, p_t = 0.10, 0.11  # true clicks per impression: E[M]/E[D] = p
    covered = covered_rel = 0
    for _ in range(reps):
        arms = []
        for p in (p_c, p_t):
            den = rng.poisson(4.0, n) + 1.0  # impressions per user
            rate = rng.beta(2.0, 2.0 * (1 - p) / p, n)  # heterogeneous users, mean rate p
            arms.append(
                arm_stats(ArmData(values=rng.binomial(den.astype(int), rate), denominator=den))
            )
        effect = estimate_effect("ctr", *arms)
        covered += effect.ci_low <= p_t - p_c <= effect.ci_high
        covered_rel += effect.relative_ci_low <= (p_t - p_c) / p_c <= effect.relative_ci_high  # type: ignore[operator]
    # binomial sd of a 95% coverage over 2000 reps is 0.49%: ±1.5 points is 3 sd
    assert abs(covered / reps - 0.95) < 0.015
    assert abs(covered_rel / reps - 0.95) < 0.015


def test_zero_variance_and_zero_baseline_edge_cases() -> None:
    same = estimate_effect(
        "m", ArmStats.from_moments(5, 1.0, 0.0), ArmStats.from_moments(5, 1.0, 0.0)
    )
    assert (same.effect, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    moved = estimate_effect(
        "m", ArmStats.from_moments(5, 1.0, 0.0), ArmStats.from_moments(5, 2.0, 0.0)
    )
    assert moved.p_value == 0.0 and moved.dof is None
    zero_base = estimate_effect(
        "m", ArmStats.from_moments(5, 0.0, 1.0), ArmStats.from_moments(5, 1.0, 1.0)
    )
    assert zero_base.relative_effect is None and zero_base.relative_p_value is None


def test_inputs_are_validated() -> None:
    plain = ArmStats.from_moments(10, 1.0, 1.0)
    adjusted = ArmStats(n=10, mean=1.0, variance=0.5, unadjusted_mean=1.0, cuped=True)
    with pytest.raises(ValueError, match="summarised differently"):
        estimate_effect("m", plain, adjusted)
    with pytest.raises(ValueError, match="alpha"):
        estimate_effect("m", plain, plain, alpha=0.7)


def test_effect_serialises_to_json() -> None:
    control, treatment = _skewed_arms(5)
    effect = estimate_effect("m", arm_stats(control), arm_stats(treatment))
    again = type(effect).model_validate_json(effect.model_dump_json())
    assert again == effect
    assert effect.significant == (effect.p_value < 0.05)
