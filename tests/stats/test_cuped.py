"""CUPED: gbstats golden numbers, OLS θ, variance reduction and unbiasedness by simulation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm

from recloop.stats.cuped import cuped_stats
from recloop.stats.effect import estimate_effect
from recloop.stats.summary import ArmData, arm_stats


def _correlated(
    rng: np.random.Generator, n: int, rho: float, lift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(post, pre) with corr(post, pre) = rho, unit variance, mean 10 (+ lift for post)."""
    pre = rng.normal(size=n)
    post = rho * pre + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return 10 + lift + post, 10 + pre


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_matches_gbstats_regression_adjustment(gbstats: dict[str, Any], difference: str) -> None:
    c, t = gbstats["arrays"]["control"], gbstats["arrays"]["treatment"]
    result = cuped_stats(ArmData(c["post"], pre=c["pre"]), ArmData(t["post"], pre=t["pre"]))
    effect = estimate_effect("m", result.control, result.treatment)
    golden = gbstats[f"cuped_{difference}"]
    assert result.theta == pytest.approx((golden["theta"],), rel=1e-10)
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
    assert effect.cuped and result.applied


def test_variance_reduction_is_about_rho_squared() -> None:
    rng = np.random.default_rng(0)
    y_c, x_c = _correlated(rng, 20_000, 0.7)
    y_t, x_t = _correlated(rng, 20_000, 0.7, lift=0.05)
    result = cuped_stats(ArmData(y_c, pre=x_c), ArmData(y_t, pre=x_t))
    # the share of variance X explains is ρ² = 0.49; at n = 40,000 the estimate is within ±0.01
    assert result.variance_reduction == pytest.approx(0.49, abs=0.01)
    assert result.theta[0] == pytest.approx(0.7, abs=0.02)
    assert result.control.unadjusted_mean == pytest.approx(y_c.mean(), rel=1e-14)


def test_cuped_is_unbiased_and_shrinks_the_spread_of_estimates() -> None:
    """Over 1,000 experiments with a true lift of 0.1, the CUPED difference averages the truth
    and its spread across experiments is ≈ sqrt(1 - ρ²) of the plain one."""
    rng = np.random.default_rng(1)
    plain, adjusted = [], []
    for _ in range(1000):
        y_c, x_c = _correlated(rng, 400, 0.8)
        y_t, x_t = _correlated(rng, 400, 0.8, lift=0.1)
        result = cuped_stats(ArmData(y_c, pre=x_c), ArmData(y_t, pre=x_t))
        adjusted.append(estimate_effect("m", result.control, result.treatment).effect)
        plain.append(y_t.mean() - y_c.mean())
    adjusted_arr, plain_arr = np.array(adjusted), np.array(plain)
    # sd of one plain estimate is sqrt(2/400) = 0.0707; CUPED: 0.0707 · 0.6 = 0.0424;
    # the mean of 1,000 of them is within ±0.004 (3 standard errors) of 0.1
    assert adjusted_arr.mean() == pytest.approx(0.1, abs=0.004)
    assert adjusted_arr.std() / plain_arr.std() == pytest.approx(0.6, abs=0.04)


def test_units_without_pre_period_get_an_indicator_and_theta_is_pooled_ols() -> None:
    rng = np.random.default_rng(2)
    arms = []
    for lift in (0.0, 0.2):
        y, x = _correlated(rng, 3000, 0.6, lift)
        new = rng.random(3000) < 0.3  # new users: no pre-period, and a lower baseline
        arms.append(ArmData(np.where(new, y - 2.0, y), pre=np.where(new, np.nan, x)))
    result = cuped_stats(*arms)
    assert result.applied and result.covariates == ("pre", "no_pre")
    assert result.n_missing_pre == sum(int(np.isnan(a.pre).sum()) for a in arms)  # type: ignore[arg-type]
    # θ is the least-squares slope vector on both arms pooled: y ~ 1 + x_filled + missing
    y = np.concatenate([a.values for a in arms])
    pre = np.concatenate([a.pre for a in arms])  # type: ignore[misc]
    design = sm.add_constant(np.column_stack([np.nan_to_num(pre), np.isnan(pre)]).astype(float))
    ols = sm.OLS(y, design).fit()
    assert result.theta == pytest.approx(tuple(ols.params[1:]), rel=1e-9)
    # the indicator soaks up the new users' baseline: more variance removed than X alone
    x_only = cuped_stats(*(ArmData(a.values, pre=np.nan_to_num(a.pre, nan=10.0)) for a in arms))
    assert result.variance_reduction > x_only.variance_reduction + 0.1


@pytest.mark.parametrize(
    ("pre", "reason"),
    [
        (None, "no_pre_period"),
        (np.full(50, np.nan), "no_pre_period"),
        (np.ones(50), "constant_covariate"),
    ],
)
def test_cuped_is_skipped_with_a_stated_reason(pre: np.ndarray | None, reason: str) -> None:
    rng = np.random.default_rng(3)
    control = ArmData(rng.normal(size=50), pre=pre)
    treatment = ArmData(rng.normal(size=50), pre=pre)
    result = cuped_stats(control, treatment)
    assert not result.applied and result.skip_reason == reason and result.message
    assert result.control == arm_stats(control) and not result.control.cuped


def test_ratio_cuped_reduces_variance_and_keeps_the_ratio_difference() -> None:
    """Ratio metric (clicks per impression) with the pre-period ratio of the same users."""
    rng = np.random.default_rng(4)

    def arm(n: int, lift: float) -> ArmData:
        taste = rng.beta(0.5, 4.5, n)  # a user's click propensity (mean 0.1), stable over time
        pre_den = rng.poisson(20, n) + 1.0
        den = rng.poisson(20, n) + 1.0
        pre_num = rng.binomial(pre_den.astype(int), taste).astype(float)
        num = rng.binomial(den.astype(int), np.minimum(1, taste * (1 + lift))).astype(float)
        return ArmData(num, denominator=den, pre=pre_num, pre_denominator=pre_den)

    differences, plain_differences, reductions = [], [], []
    for _ in range(300):
        control, treatment = arm(1000, 0.0), arm(1000, 0.1)
        result = cuped_stats(control, treatment)
        differences.append(estimate_effect("ctr", result.control, result.treatment).effect)
        plain = estimate_effect("ctr", arm_stats(control), arm_stats(treatment))
        plain_differences.append(plain.effect)
        reductions.append(result.variance_reduction)
        assert result.control.unadjusted_mean == pytest.approx(
            control.values.sum() / control.denominator.sum()
        )  # type: ignore[union-attr]
    # true difference: E[taste] · 0.1 = 0.01; CUPED estimates have sd ≈ 0.004 (plain 0.006),
    # so the mean of 300 is within ±0.0007 (3 standard errors)
    assert np.mean(differences) == pytest.approx(0.01, abs=0.0007)
    # the reported reduction is the real one: spread across experiments shrinks by sqrt(1 - r)
    reduction = float(np.mean(reductions))
    assert reduction > 0.3  # measured 0.61
    spread = np.std(differences) / np.std(plain_differences)
    assert spread == pytest.approx(np.sqrt(1 - reduction), abs=0.06)


def test_a_constant_pre_period_among_returning_users_is_skipped_not_singular() -> None:
    rng = np.random.default_rng(5)
    pre = np.where(rng.random(100) < 0.5, np.nan, 3.0)  # present units all have 3.0
    result = cuped_stats(
        ArmData(rng.normal(size=100), pre=pre), ArmData(rng.normal(size=100), pre=pre)
    )
    assert not result.applied and result.skip_reason == "constant_covariate"
    assert result.n_missing_pre == 2 * int(np.isnan(pre).sum())
