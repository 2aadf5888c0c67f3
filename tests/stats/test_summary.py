"""Per-arm summaries: plain means, ratio pseudo-values, input validation."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.stats.summary import ArmData, ArmStats, arm_stats, ratio_pseudo_values


def test_mean_metric_summary_is_mean_and_sample_variance() -> None:
    stats = arm_stats(np.array([1.0, 2.0, 3.0, 4.0]))
    # mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3
    assert stats.n == 4
    assert stats.mean == pytest.approx(2.5, abs=1e-15)
    assert stats.variance == pytest.approx(5 / 3, abs=1e-15)
    assert stats.unadjusted_mean == stats.mean
    assert (stats.kind, stats.cuped) == ("mean", False)


def test_ratio_pseudo_values_carry_the_delta_method_variance() -> None:
    rng = np.random.default_rng(1)
    den = rng.poisson(5, 500) + 1.0
    num = rng.binomial(den.astype(int), 0.2).astype(float)
    stats = arm_stats(ArmData(values=num, denominator=den))
    ratio = num.sum() / den.sum()
    # gbstats RatioStatistic.variance, written out independently:
    # Var(M)/D̄² - 2 Cov(M, D) M̄/D̄³ + M̄² Var(D)/D̄⁴, all with ddof = 1
    m_bar, d_bar = num.mean(), den.mean()
    cov = np.cov(num, den, ddof=1)
    expected = (
        cov[0, 0] / d_bar**2 - 2 * cov[0, 1] * m_bar / d_bar**3 + m_bar**2 * cov[1, 1] / d_bar**4
    )
    assert stats.kind == "ratio"
    assert stats.mean == pytest.approx(ratio, rel=1e-13)
    assert stats.variance == pytest.approx(expected, rel=1e-12)


def test_ratio_pseudo_values_of_a_constant_ratio_have_no_variance() -> None:
    den = np.array([1.0, 2.0, 3.0, 4.0])
    values = ratio_pseudo_values(0.3 * den, den)
    np.testing.assert_allclose(values, 0.3, rtol=1e-14)


def test_from_moments_matches_summarising_the_units() -> None:
    x = np.array([0.0, 1.0, 1.0, 5.0, 2.0])
    assert ArmStats.from_moments(len(x), x.mean(), x.var(ddof=1)) == arm_stats(x)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": np.ones((2, 2))}, "1-d"),
        ({"values": np.ones(3), "denominator": np.ones(4)}, "denominator has 4 units"),
        ({"values": np.array([1.0, np.nan])}, "NaN"),
        ({"values": np.ones(3), "pre": np.ones(3), "pre_denominator": np.ones(3)}, "without"),
        ({"values": np.ones(3), "denominator": np.ones(3), "pre": np.ones(3)}, "pre_denominator"),
    ],
)
def test_arm_data_rejects_malformed_input(kwargs: dict[str, np.ndarray], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ArmData(**kwargs)


def test_pre_period_may_be_missing_per_unit() -> None:
    data = ArmData(values=np.ones(3), pre=np.array([1.0, np.nan, 2.0]))
    assert np.isnan(data.pre[1])  # type: ignore[index]


def test_arm_summaries_need_two_units_and_a_nonzero_denominator() -> None:
    with pytest.raises(ValueError, match="at least 2 units"):
        arm_stats(np.array([1.0]))
    with pytest.raises(ValueError, match="sums to zero"):
        arm_stats(ArmData(values=np.zeros(3), denominator=np.zeros(3)))
    with pytest.raises(ValueError, match="invalid arm summary"):
        ArmStats.from_moments(3, 1.0, -1.0)


def test_subset_keeps_all_columns_aligned() -> None:
    data = ArmData(
        values=np.arange(4.0),
        denominator=np.arange(1.0, 5.0),
        pre=np.arange(4.0) * 2,
        pre_denominator=np.ones(4),
    )
    part = data.subset(np.array([True, False, True, False]))
    np.testing.assert_array_equal(part.values, [0.0, 2.0])
    np.testing.assert_array_equal(part.denominator, [1.0, 3.0])  # type: ignore[arg-type]
    np.testing.assert_array_equal(part.pre, [0.0, 4.0])  # type: ignore[arg-type]
    assert part.n == 2
