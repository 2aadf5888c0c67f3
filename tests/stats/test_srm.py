"""Sample-ratio mismatch: hand arithmetic, gbstats golden p-values, the flagging thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from recloop.stats.srm import SRM_THRESHOLD, srm_check


def test_a_half_percent_imbalance_is_flagged_at_a_million_units_not_at_a_thousand() -> None:
    # n = 1e6, 50.5/49.5: expected 500,000 each, χ² = 2 · 5,000² / 500,000 = 100, p ≈ 1.5e-23
    big = srm_check([505_000, 495_000])
    assert big.statistic == pytest.approx(100.0, rel=1e-12)
    assert big.p_value < 1e-20 and big.flag
    # n = 1e3, 505/495: χ² = 2 · 5² / 500 = 0.1, p = P(χ²₁ > 0.1) = 0.751830
    small = srm_check([505, 495])
    assert small.statistic == pytest.approx(0.1, rel=1e-12)
    assert small.p_value == pytest.approx(0.751830, abs=1e-6)
    assert not small.flag and small.tested
    assert SRM_THRESHOLD == 0.001


def test_p_values_match_gbstats_check_srm(gbstats: dict[str, Any]) -> None:
    for case in gbstats["srm"]:
        result = srm_check(case["counts"], case["weights"])
        assert result.p_value == pytest.approx(case["p_value"], rel=1e-9)


def test_any_number_of_arms_against_an_unequal_allocation() -> None:
    # planned 20/40/40 of 5,000: expected 1,000, 2,000, 2,000
    # χ² = 10²/1000 + 50²/2000 + 60²/2000 = 0.1 + 1.25 + 1.8 = 3.15 with 2 dof
    result = srm_check([1010, 2050, 1940], [0.2, 0.4, 0.4])
    assert result.statistic == pytest.approx(3.15, rel=1e-12)
    assert result.expected_share == pytest.approx((0.2, 0.4, 0.4))
    assert result.max_deviation == pytest.approx(0.012, rel=1e-9)  # 1940/5000 = 0.388
    assert not result.flag
    # weights need not sum to one; a 1:2:2 plan is the same plan
    assert srm_check([1010, 2050, 1940], [1, 2, 2]).p_value == pytest.approx(result.p_value)


def test_small_arms_are_not_tested_and_statsig_deviation_rule_is_optional() -> None:
    tiny = srm_check([7, 30])
    assert not tiny.tested and not tiny.flag and tiny.p_value < 0.001
    # 0.2% share deviation at 20M units: significant, but below a 0.5% deviation rule
    counts = [10_040_000, 9_960_000]
    assert srm_check(counts).flag
    assert not srm_check(counts, min_deviation=0.005).flag


@pytest.mark.parametrize(
    ("counts", "allocation", "message"),
    [([10], None, "at least 2 arms"), ([5, -1], None, "non-negative"), ([0, 0], None, "no units"),
     ([5, 5], [1.0], "positive weight"), ([5, 5], [1.0, 0.0], "positive weight")],
)  # fmt: skip
def test_bad_inputs_are_rejected(
    counts: list[int], allocation: list[float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        srm_check(counts, allocation)


def test_min_expected_floors_the_check_at_a_small_ramp_step() -> None:
    # 44 units of a 1% step, 34/10 at 50/50: χ² = 2 · 12² / 22 = 13.1, p ≈ 3e-4 flags on a few
    # dozen units, which a check repeated every day should not trust (22 expected per arm)
    few = srm_check([34, 10])
    assert few.statistic == pytest.approx(288 / 22) and few.tested and few.flag
    floored = srm_check([34, 10], min_expected=100)
    assert not floored.tested and not floored.flag and floored.p_value == few.p_value
    assert srm_check([505_000, 495_000], min_expected=100).flag
