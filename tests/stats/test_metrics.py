"""The declarative metric definitions shared by the analysis and the simulator."""

from __future__ import annotations

import numpy as np
import pytest

import recloop.sim.metrics as sim_metrics
from recloop.stats.metrics import (
    METRIC_NAMES,
    METRICS,
    TOTAL_FIELDS,
    TOTALS,
    UnitTotals,
    get_metric,
    has_pre_period,
)


def test_one_definition_serves_the_simulator_too() -> None:
    assert sim_metrics.METRICS is METRICS and sim_metrics.UnitTotals is UnitTotals
    assert sim_metrics.TOTAL_FIELDS == TOTAL_FIELDS


def test_every_metric_reads_defined_totals_with_a_direction() -> None:
    assert tuple(f for f in UnitTotals.__dataclass_fields__) == TOTAL_FIELDS
    for metric in METRICS:
        assert set(metric.totals) <= set(TOTAL_FIELDS)
        assert (metric.kind == "ratio") == (metric.denominator is not None)
    assert {m.name for m in METRICS if m.direction == "lower"} == {"latency_ms"}
    assert len(set(METRIC_NAMES)) == len(METRICS)


def test_the_pre_period_has_no_serving_latency() -> None:
    assert [t.name for t in TOTALS if t.pre_sql is None] == ["latency_ms"]
    assert not has_pre_period(get_metric("latency_ms"))
    assert all(has_pre_period(m) for m in METRICS if m.name != "latency_ms")


def test_unit_values_of_mean_indicator_and_ratio_metrics() -> None:
    totals = UnitTotals.zeros(3)
    totals.returns[:] = [0, 2, 1]
    totals.clicks[:] = [1, 0, 3]
    totals.impressions[:] = [10, 10, 20]
    num, den = get_metric("return_rate").unit_values(totals)
    np.testing.assert_array_equal(num, [0, 1, 1])
    np.testing.assert_array_equal(den, [1, 1, 1])
    num, den = get_metric("ctr").unit_values(totals)
    np.testing.assert_array_equal(num, [1, 0, 3])
    np.testing.assert_array_equal(den, [10, 10, 20])


def test_an_unknown_metric_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ValueError, match="unknown metric 'retrun_rate' \\(did you mean 'return_rate'"
    ):
        get_metric("retrun_rate")
