"""Guardrails: non-inferiority against gbstats and statsmodels, harm detection, peeking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from statsmodels.stats.weightstats import ttest_ind

from recloop.stats.effect import estimate_effect
from recloop.stats.guardrails import GuardrailSpec, check_guardrail
from recloop.stats.summary import ArmStats, arm_stats

ALPHA = 0.05


@pytest.mark.parametrize("kind", ["absolute", "relative"])
@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_non_inferiority_matches_gbstats_one_sided_ttests(
    gbstats: dict[str, Any], kind: str, direction: str
) -> None:
    c, t = gbstats["arrays"]["control"], gbstats["arrays"]["treatment"]
    golden = gbstats[f"noninferiority_{direction}_{kind}"]
    spec = GuardrailSpec(metric="m", margin=golden["margin"], margin_kind=kind, direction=direction)  # type: ignore[arg-type]
    result = check_guardrail(spec, estimate_effect("m", arm_stats(c["post"]), arm_stats(t["post"])))
    assert result.p_value == pytest.approx(golden["p_value"], rel=1e-9)
    assert result.estimate == pytest.approx(golden["expected"], rel=1e-12)
    if direction == "higher":
        assert result.bound == pytest.approx(golden["ci_low"], rel=1e-9)
    else:
        # gbstats 0.8.0 returns point - width as the upper bound of its "lesser" test (a bug,
        # fixed in later GrowthBook code); the right bound is point + width:
        # the width is (expected - ci_low) of the higher-is-better case on the same data
        width = golden["expected"] - gbstats[f"noninferiority_higher_{kind}"]["ci_low"]
        assert result.bound == pytest.approx(golden["expected"] + width, rel=1e-9)
    assert result.non_inferior == (result.p_value < ALPHA)


def test_absolute_non_inferiority_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    control, treatment = rng.exponential(1.0, 800), rng.exponential(0.97, 900)
    effect = estimate_effect("latency", arm_stats(control), arm_stats(treatment))
    # higher is better, margin 0.1: H0 Δ <= -0.1  ⇔  statsmodels alternative="larger", value=-0.1
    hi = check_guardrail(
        GuardrailSpec(metric="latency", margin=0.1, margin_kind="absolute"), effect
    )
    _, p_hi, _ = ttest_ind(treatment, control, alternative="larger", usevar="unequal", value=-0.1)
    assert hi.p_value == pytest.approx(p_hi, rel=1e-10)
    # lower is better, margin 0.02: H0 Δ >= 0.02  ⇔  alternative="smaller", value=0.02
    spec = GuardrailSpec(metric="latency", margin=0.02, margin_kind="absolute", direction="lower")
    lo = check_guardrail(spec, effect)
    _, p_lo, _ = ttest_ind(treatment, control, alternative="smaller", usevar="unequal", value=0.02)
    assert lo.p_value == pytest.approx(p_lo, rel=1e-10)
    # harm (lower is better): H0 Δ <= 0 ⇔ alternative="larger", value=0
    _, p_harm, _ = ttest_ind(treatment, control, alternative="larger", usevar="unequal")
    assert lo.harm_p_value == pytest.approx(p_harm, rel=1e-10)


def test_a_clear_regression_is_harmful_and_not_non_inferior() -> None:
    control = ArmStats.from_moments(5000, 0.30, 0.21)  # a 30% return rate
    worse = ArmStats.from_moments(5000, 0.27, 0.197)  # 10% relative drop
    spec = GuardrailSpec(metric="return_rate", margin=0.02)
    for inference in ("fixed", "sequential"):
        result = check_guardrail(
            spec, estimate_effect("return_rate", control, worse, inference=inference)
        )
        assert result.harmful and not result.non_inferior
        assert result.harm_p_value < ALPHA < result.p_value
    # lower is better (latency): the same numbers read as an improvement
    latency = GuardrailSpec(metric="latency", margin=0.02, direction="lower")
    good = check_guardrail(latency, estimate_effect("latency", control, worse))
    assert good.non_inferior and not good.harmful
    assert good.bound < 0.02


def test_sequential_guardrail_is_honest_under_daily_peeking() -> None:
    """True relative effect exactly at the margin (-2%): declaring non-inferiority is a false
    positive. Peeking daily at the fixed one-sided test inflates it; the sequential test not."""
    rng = np.random.default_rng(5)
    sims, days, per_day, margin = 300, 20, 200, 0.02
    n = per_day * np.arange(1, days + 1)
    arms = []
    for scale in (1.0, 1.0 - margin):
        y = rng.exponential(1.0, size=(sims, days, per_day)) * scale
        total, squares = np.cumsum(y.sum(axis=2), axis=1), np.cumsum((y**2).sum(axis=2), axis=1)
        arms.append((total / n, (squares - total**2 / n) / (n - 1)))
    spec = GuardrailSpec(metric="m", margin=margin)
    declared = {"fixed": 0, "sequential": 0}
    for i in range(sims):
        for inference in declared:
            for d in range(days):
                c = ArmStats.from_moments(n[d], arms[0][0][i, d], arms[0][1][i, d])
                t = ArmStats.from_moments(n[d], arms[1][0][i, d], arms[1][1][i, d])
                effect = estimate_effect("m", c, t, inference=inference)  # type: ignore[arg-type]
                if check_guardrail(spec, effect).non_inferior:
                    declared[inference] += 1
                    break
    assert declared["sequential"] / sims <= ALPHA  # measured 0 of 300
    assert declared["fixed"] / sims > 2 * ALPHA  # measured 21%


def test_bad_inputs_are_rejected() -> None:
    effect = estimate_effect(
        "m", ArmStats.from_moments(10, 0.0, 1.0), ArmStats.from_moments(10, 1.0, 1.0)
    )
    with pytest.raises(ValueError, match="control mean is 0"):
        check_guardrail(GuardrailSpec(metric="m", margin=0.1), effect)
    with pytest.raises(ValueError, match="given an effect on"):
        check_guardrail(GuardrailSpec(metric="other", margin=0.1), effect)
    with pytest.raises(ValueError):
        GuardrailSpec(metric="m", margin=-0.1)
    with pytest.raises(ValueError):
        GuardrailSpec(metric="m", margin=0.1, direction="up")  # type: ignore[arg-type]
