"""Always-valid inference: gbstats golden numbers, hand arithmetic, and peeking simulations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from recloop.stats import sequential
from recloop.stats.effect import estimate_effect
from recloop.stats.summary import ArmData, ArmStats, arm_stats

ALPHA = 0.05


@pytest.mark.parametrize("difference", ["absolute", "relative"])
@pytest.mark.parametrize("case", ["sequential", "sequential_ratio"])
def test_matches_gbstats_sequential_two_sided(
    gbstats: dict[str, Any], case: str, difference: str
) -> None:
    c, t = gbstats["arrays"]["control"], gbstats["arrays"]["treatment"]
    if case == "sequential":
        control, treatment = arm_stats(c["post"]), arm_stats(t["post"])
    else:
        control = arm_stats(ArmData(values=c["num"], denominator=c["den"]))
        treatment = arm_stats(ArmData(values=t["num"], denominator=t["den"]))
    effect = estimate_effect("m", control, treatment, inference="sequential", tuning=5000)
    golden = gbstats[f"{case}_{difference}"]
    if difference == "absolute":
        got = (effect.ci_low, effect.ci_high, effect.p_value)
    else:
        got = (effect.relative_ci_low, effect.relative_ci_high, effect.relative_p_value)
    assert got == pytest.approx((golden["ci_low"], golden["ci_high"], golden["p_value"]), rel=1e-9)
    assert effect.method == "confidence-sequence" and effect.tuning == 5000


def test_halfwidths_match_hand_arithmetic() -> None:
    # se = 0.1 at N = 1,000 units in total, α = 0.05, N* = 5,000; s² = se² N = 10.
    # One-sided (ρ tuned at 2α = 0.1): ρ² = (4.605170 + ln 5.605170) / 5000 = 0.00126577
    #   Nρ² + 1 = 2.265772;  2(Nρ² + 1)/(N²ρ²) = 4.531544 / 1265.772 = 0.00358006
    #   ln(1 + sqrt(2.265772)/(2·0.05)) = ln(16.052481) = 2.775863
    #   half-width = sqrt(10 · 0.00358006 · 2.775863) = sqrt(0.0993777) = 0.315242
    # Two-sided: ρ² = (5.991465 + ln 6.991465)/5000 = 0.00158723, Nρ² + 1 = 2.587231
    #   2(Nρ² + 1)/(N²ρ²) = 0.00326006;  ln(sqrt(2.587231)/0.05) = 3.471026
    #   half-width = sqrt(10 · 0.00326006 · 3.471026) = 0.336389
    one = sequential.halfwidth(0.1, 1000, ALPHA, 5000, two_sided=False)
    two = sequential.halfwidth(0.1, 1000, ALPHA, 5000)
    assert float(one) == pytest.approx(0.315242, abs=1e-6)
    assert float(two) == pytest.approx(0.336389, abs=1e-6)


@pytest.mark.parametrize("two_sided", [True, False])
def test_p_value_below_alpha_exactly_when_the_sequence_excludes_the_null(two_sided: bool) -> None:
    rng = np.random.default_rng(3)
    se = rng.uniform(0.01, 0.2, 4000)
    n = rng.integers(50, 50_000, 4000)
    estimate = rng.normal(0, 4, 4000) * se
    width = sequential.halfwidth(se, n, ALPHA, two_sided=two_sided)
    if two_sided:
        p = sequential.p_value(estimate, se, n, ALPHA)
        excluded = np.abs(estimate) > width
    else:
        p = sequential.p_value_one_sided(estimate, se, n, ALPHA)
        excluded = estimate > width
    assert np.array_equal(p < ALPHA, excluded)
    assert np.all((p >= 0) & (p <= 1))


def test_sequence_is_wider_than_the_fixed_interval_and_validates_inputs() -> None:
    assert float(sequential.halfwidth(1.0, 10_000, ALPHA)) > 1.96
    assert float(sequential.p_value(0.0, 0.0, 100, ALPHA)) == 1.0
    assert float(sequential.p_value(1.0, 0.0, 100, ALPHA)) == 0.0
    with pytest.raises(ValueError, match="alpha"):
        sequential.rho(0.6)
    with pytest.raises(ValueError, match="tuning"):
        sequential.rho(0.05, 0)


# --- peeking simulations --------------------------------------------------------------------

SIMS, DAYS, PER_DAY = 500, 28, 150  # 150 new units per arm per day: 8,400 units at day 28


def _daily_looks(
    rng: np.random.Generator, sims: int, lift: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Cumulative (n, mean, variance) per arm at each daily look; skewed Gamma(0.5, 2) units
    (mean 1, sd √2); the treatment adds `lift`."""
    arms = []
    for shift in (0.0, lift):  # an additive lift keeps the variance, as the MDE assumes
        y = rng.gamma(0.5, 2.0, size=(sims, DAYS, PER_DAY)) + shift
        n = PER_DAY * np.arange(1, DAYS + 1)
        total = np.cumsum(y.sum(axis=2), axis=1)
        squares = np.cumsum((y**2).sum(axis=2), axis=1)
        mean = total / n
        arms.append((n, mean, (squares - n * mean**2) / (n - 1)))
    return arms


def _first_rejection(sims: int, lift: float, seed: int) -> dict[str, np.ndarray]:
    """Day (1-based) each simulated experiment first rejects at α, 0 if never; per procedure."""
    (n, mean_c, var_c), (_, mean_t, var_t) = _daily_looks(np.random.default_rng(seed), sims, lift)
    keys = ("naive", "horizon", "sequential", "sequential_rel")
    first = {k: np.zeros(sims, dtype=int) for k in keys}
    for i in range(sims):
        for d in range(DAYS):
            c = ArmStats.from_moments(n[d], mean_c[i, d], var_c[i, d])
            t = ArmStats.from_moments(n[d], mean_t[i, d], var_t[i, d])
            fixed = estimate_effect("m", c, t, alpha=ALPHA)
            seq = estimate_effect("m", c, t, alpha=ALPHA, inference="sequential")
            at_horizon = fixed.p_value if d == DAYS - 1 else 1.0  # the one pre-planned look
            p_values = (fixed.p_value, at_horizon, seq.p_value, seq.relative_p_value)
            for key, p in zip(keys, p_values, strict=True):
                if first[key][i] == 0 and p is not None and p < ALPHA:
                    first[key][i] = d + 1
    return first


def test_daily_peeking_keeps_false_positives_below_alpha_only_when_sequential() -> None:
    """A/A: 500 experiments, 28 daily looks. Welch at the one planned look is right (≈ α);
    peeking at it daily inflates false positives several-fold; the confidence sequence, peeked
    at daily, stays ≤ α. Measured with this seed: horizon 5.2%, naive 28%, sequential 1.0%
    (relative lift 1.2%); over three other seeds naive 26-29%, sequential 1.0-1.4%."""
    first = _first_rejection(SIMS, 0.0, seed=0)
    rate = {k: float(np.mean(v > 0)) for k, v in first.items()}
    # binomial sd at 5% over 500 sims ≈ 1 point
    assert abs(rate["horizon"] - ALPHA) < 0.03
    assert rate["sequential"] <= ALPHA
    assert rate["sequential_rel"] <= ALPHA
    assert rate["naive"] > 3 * ALPHA


def test_sequential_power_on_a_real_effect() -> None:
    """At the fixed-horizon MDE (80% power at day 28) and at 1.5× it.

    Always-valid intervals pay for peeking with width: at the MDE the sequence rejects in about
    half the experiments by day 28 (80% needs a longer run); at 1.5× the MDE
    it rejects in ~90% and stops, on average, about half-way to the horizon.
    """
    sd, n_final = np.sqrt(2.0), PER_DAY * DAYS  # Gamma(0.5, 2): sd sqrt(2), mean 1
    mde = (1.959964 + 0.841621) * sd * np.sqrt(2 / n_final)  # 80% power, two-sided 5%
    at_mde = _first_rejection(300, mde, seed=1)
    assert np.mean(at_mde["horizon"] > 0) == pytest.approx(0.8, abs=0.07)  # measured 0.78
    assert 0.35 <= np.mean(at_mde["sequential"] > 0) <= 0.8  # measured 0.46
    bigger = _first_rejection(300, 1.5 * mde, seed=2)["sequential"]
    assert np.mean(bigger > 0) >= 0.8  # measured 0.93
    stop_day = np.where(bigger > 0, bigger, DAYS)
    assert stop_day.mean() < 0.7 * DAYS  # measured 14.6 of 28 days
