"""Per-unit inputs of the diagnoses: CUPED covariates, segment labels."""

from __future__ import annotations

import numpy as np

from recloop.stats.diagnostics import arm_data, segment_labels
from recloop.stats.metrics import UnitTotals, get_metric


def _totals(**columns: list[float]) -> UnitTotals:
    totals = UnitTotals.zeros(len(next(iter(columns.values()))))
    for name, values in columns.items():
        getattr(totals, name)[:] = values
    return totals


def test_units_without_pre_period_sessions_have_no_covariate() -> None:
    test = _totals(clicks=[1, 2, 3], impressions=[10, 10, 10], sessions=[1, 1, 1])
    pre = _totals(clicks=[1, 0, 5], impressions=[10, 0, 20], sessions=[1, 0, 2])
    rows = np.arange(3)
    mean = arm_data(get_metric("clicks_per_user"), test, pre, rows)
    np.testing.assert_array_equal(mean.pre, [1, np.nan, 5])
    ratio = arm_data(get_metric("ctr"), test, pre, rows)
    np.testing.assert_array_equal(ratio.pre_denominator, [10, 0, 20])
    latency = arm_data(get_metric("latency_ms"), test, pre, rows)
    assert latency.pre is None  # not measurable before the test
    assert arm_data(get_metric("clicks_per_user"), test, None, rows).pre is None


def test_segments_split_new_from_returning_and_returning_at_the_median() -> None:
    labels = segment_labels(_totals(sessions=[0, 1, 2, 3, 4, 0]))
    assert labels["tenure"].tolist() == ["new", "returning", "returning", "returning",
                                         "returning", "new"]  # fmt: skip
    assert labels["activity"].tolist() == ["", "light", "light", "heavy", "heavy", ""]
