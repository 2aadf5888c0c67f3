"""Metric values and standard errors against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.sim.metrics import METRICS, UnitTotals, independent_effect, paired_effect

BY_NAME = {m.name: m for m in METRICS}


def _totals(clicks: list[float], impressions: list[float], returns: list[float]) -> UnitTotals:
    t = UnitTotals.zeros(len(clicks))
    t.clicks[:] = clicks
    t.impressions[:] = impressions
    t.returns[:] = returns
    t.sessions[:] = 1.0
    return t


def test_mean_metric_and_welch_standard_error() -> None:
    c = _totals([0, 1, 2, 3], [10] * 4, [0, 0, 1, 1])
    t = _totals([2, 3, 4, 5], [10] * 4, [1, 1, 1, 0])
    e = independent_effect(BY_NAME["clicks_per_user"], c, t)
    assert (e.control, e.treatment, e.effect) == (1.5, 3.5, 2.0)
    var = np.var([0, 1, 2, 3], ddof=1) / 4
    assert e.se == pytest.approx(np.sqrt(2 * var))
    assert e.relative_effect == pytest.approx(2.0 / 1.5)
    rate = independent_effect(BY_NAME["return_rate"], c, t)
    assert (rate.control, rate.treatment) == (0.5, 0.75)


def test_ratio_metric_uses_the_delta_method() -> None:
    c = _totals([1, 0, 3], [10, 5, 15], [0, 0, 0])
    e = independent_effect(BY_NAME["ctr"], c, c)
    assert e.control == pytest.approx(4 / 30)
    r = 4 / 30
    influence = (np.array([1, 0, 3]) - r * np.array([10, 5, 15])) / 10.0
    assert e.se == pytest.approx(np.sqrt(2) * influence.std(ddof=1) / np.sqrt(3))


def test_paired_effect_uses_unit_differences() -> None:
    c = _totals([0, 1, 2, 3], [10] * 4, [0] * 4)
    t = _totals([1, 2, 3, 5], [10] * 4, [0] * 4)
    e = paired_effect(BY_NAME["clicks_per_user"], c, t)
    assert e.effect == pytest.approx(1.25)
    assert e.se == pytest.approx(np.std([1, 1, 1, 2], ddof=1) / 2)
    assert paired_effect(BY_NAME["clicks_per_user"], c, c).effect == 0.0
    with pytest.raises(ValueError, match="same units"):
        paired_effect(BY_NAME["ctr"], c, c.take(np.arange(2)))
