"""Futility: the one-sided upper bound on the lift in the good direction against the minimum."""

from __future__ import annotations

from typing import Any

import pytest
from scipy import stats

from recloop.stats.attribution import CupedSummary, EffectSummary, MetricResult
from recloop.stats.futility import futile, upper_lift_bound


def _result(effect: float, se: float, control: float = 2.0, **extra: Any) -> MetricResult:
    summary = EffectSummary(
        control_mean=control, treatment_mean=control + effect, effect=effect, se=se,
        ci_low=effect - 2 * se, ci_high=effect + 2 * se, p_value=0.5, relative_effect=None,
        relative_ci_low=None, relative_ci_high=None,
    )  # fmt: skip
    row: dict[str, Any] = {
        "name": "m", "description": "", "kind": "mean", "direction": "higher", "role": "primary",
        "n_control": 100, "n_treatment": 100, "control": control, "treatment": control + effect,
        "estimate": "unadjusted", "effect": effect, "relative_effect": None, "ci_low": 0.0,
        "ci_high": 0.0, "relative_ci_low": None, "relative_ci_high": None, "p_value": 0.5,
        "se": se, "unadjusted": summary, "cuped": CupedSummary(applied=False),
    }  # fmt: skip
    return MetricResult(**(row | extra))


def test_upper_bound_is_the_one_sided_quantile_relative_to_control() -> None:
    z90 = stats.norm.ppf(0.9)
    assert upper_lift_bound(_result(0.02, 0.01)) == pytest.approx((0.02 + z90 * 0.01) / 2.0)
    assert upper_lift_bound(_result(0.02, 0.01), 0.975) == pytest.approx(
        (0.02 + 1.959964 * 0.01) / 2
    )


def test_a_fall_is_the_lift_of_a_lower_is_better_metric() -> None:
    latency = _result(-0.4, 0.1, control=10.0, direction="lower")
    assert upper_lift_bound(latency) == pytest.approx((0.4 + stats.norm.ppf(0.9) * 0.1) / 10.0)
    slower = _result(+0.4, 0.1, control=10.0, direction="lower")
    assert upper_lift_bound(slower) < 0  # worse: no lift is compatible with the data


def test_futile_when_any_estimate_rules_out_the_minimum() -> None:
    flat = _result(0.0, 0.02)  # bound (0 + 1.28 * 0.02) / 2 = 1.3% relative
    lasting_gain = _result(0.4, 0.05)  # bound 23% relative
    assert futile([flat], min_effect=0.05)
    assert not futile([flat], min_effect=0.01)
    assert futile([lasting_gain, flat], min_effect=0.05)  # e.g. the lift fades after the burn-in
    assert not futile([lasting_gain], min_effect=0.05)
    assert not futile([_result(0.1, 0.01, control=0.0)], min_effect=0.05)  # no relative scale
    assert not futile([], min_effect=0.05)


@pytest.mark.parametrize(("level", "min_effect"), [(0.5, 0.05), (1.0, 0.05), (0.9, 0.0)])
def test_bad_settings_are_refused(level: float, min_effect: float) -> None:
    with pytest.raises(ValueError):
        futile([_result(0.0, 0.01)], min_effect, level)
