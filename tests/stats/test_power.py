"""Fixed-horizon planning against hand arithmetic, statsmodels' NormalIndPower and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from recloop.stats.power import (
    PlannedMetric,
    guardrail_power,
    plan_sample_size,
    power_at,
    sample_size_per_arm,
)


def test_sample_size_by_hand() -> None:
    # (z_0.975 + z_0.8)² · (σ² + σ²) / δ² = (1.959964 + 0.841621)² · 2 / 0.1² = 1569.78 → 1570
    assert sample_size_per_arm(0.1, 1.0) == 1570
    # one-sided: (1.644854 + 0.841621)² · 2 / 0.01 = 1236.40 → 1237
    assert sample_size_per_arm(0.1, 1.0, alternative="one-sided") == 1237


@pytest.mark.parametrize(
    ("mde", "sd", "alpha", "power", "ratio", "alternative"),
    [
        (0.1, 1.0, 0.05, 0.8, 1.0, "two-sided"),
        (0.02, 0.5, 0.01, 0.9, 1.0, "two-sided"),
        (0.3, 2.0, 0.05, 0.8, 2.0, "two-sided"),
        (0.05, 1.0, 0.05, 0.95, 1.0, "one-sided"),
    ],
)
def test_sample_size_and_power_agree_with_statsmodels(
    mde: float, sd: float, alpha: float, power: float, ratio: float, alternative: str
) -> None:
    sm_alt = "larger" if alternative == "one-sided" else "two-sided"
    theirs = NormalIndPower().solve_power(
        effect_size=mde / sd, alpha=alpha, power=power, ratio=ratio, alternative=sm_alt
    )
    ours = sample_size_per_arm(
        mde, sd, alpha=alpha, power=power, ratio=ratio, alternative=alternative
    )  # type: ignore[arg-type]
    # statsmodels solves numerically including the far tail; the closed form ignores it
    assert ours == pytest.approx(theirs, abs=1.0)
    got = power_at(ours, mde, sd, alpha=alpha, ratio=ratio, alternative=alternative)  # type: ignore[arg-type]
    want = NormalIndPower().power(mde / sd, ours, alpha, ratio=ratio, alternative=sm_alt)
    assert got == pytest.approx(want, rel=1e-10)
    assert got >= power


def test_planned_sample_size_gives_the_planned_power_in_simulation() -> None:
    """2,000 Welch tests at the planned n: rejection rate 80% ± 2.7 points (3 sd)."""
    n = sample_size_per_arm(0.1, 1.0)
    rng = np.random.default_rng(0)
    control = rng.normal(0.0, 1.0, size=(2000, n))
    treatment = rng.normal(0.1, 1.0, size=(2000, n))
    rejected = stats.ttest_ind(treatment, control, axis=1, equal_var=False).pvalue < 0.05
    assert rejected.mean() == pytest.approx(0.8, abs=0.027)


def test_guardrail_power_correction() -> None:
    # Spotify: 1 - (1 - power) / (G + 1); 80% with 3 guardrails → 1 - 0.2/4 = 0.95
    assert guardrail_power(0.8, 3) == pytest.approx(0.95, abs=1e-15)
    assert guardrail_power(0.8, 0) == pytest.approx(0.8, abs=1e-15)


def test_plan_corrects_alpha_over_success_and_power_over_guardrails() -> None:
    plan = plan_sample_size(
        [
            PlannedMetric(name="clicks", sd=1.0, effect=0.05),
            PlannedMetric(name="ctr", sd=0.3, effect=0.01),
        ],
        [PlannedMetric(name="retention", sd=0.45, effect=0.01)],
    )
    assert plan.alpha_success == pytest.approx(0.025)
    assert plan.power_per_test == pytest.approx(0.9)  # 1 - 0.2 / 2
    assert plan.per_metric["clicks"] == sample_size_per_arm(0.05, 1.0, alpha=0.025, power=0.9)
    assert plan.per_metric["retention"] == sample_size_per_arm(
        0.01, 0.45, alpha=0.05, power=0.9, alternative="one-sided"
    )
    assert plan.n_per_arm == max(plan.per_metric.values())
    assert plan.binding_metric == max(plan.per_metric, key=plan.per_metric.__getitem__)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="mde"):
        sample_size_per_arm(0.0, 1.0)
    with pytest.raises(ValueError, match="power"):
        sample_size_per_arm(0.1, 1.0, power=1.0)
    with pytest.raises(ValueError, match="at least one success"):
        plan_sample_size([])
    with pytest.raises(ValueError, match="distinct"):
        plan_sample_size(
            [PlannedMetric(name="a", sd=1, effect=1)], [PlannedMetric(name="a", sd=1, effect=1)]
        )
    with pytest.raises(ValueError, match="n_guardrails"):
        guardrail_power(0.8, -1)
