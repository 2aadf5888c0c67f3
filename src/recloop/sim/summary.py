"""What a run's tables say: per-arm metrics computed in SQL from the written tables.

The simulator reports what an analyst reading the warehouse would see — read back from the
tables, not from the simulator's memory — so a logging fault shows up here as it would in real
data, and the tables are proven sufficient for the metrics. Per unit: its exposures (sessions,
summed latency) and its events from its first exposure on; then `metrics` turns the units of each
arm into values and naive differences (display only; inference is `recloop.stats`' job).
"""

from __future__ import annotations

from typing import Any

import duckdb

from recloop.sim.metrics import METRICS, UnitTotals, arm_value, independent_effect
from recloop.stats.tables.queries import unit_totals_by_variant
from recloop.stats.tables.warehouse import DuckDBWarehouse


def unit_totals(con: duckdb.DuckDBPyConnection, experiment: str) -> dict[str, UnitTotals]:
    """Per-unit totals of each variant of an experiment, computed from the tables.

    The SQL is the analysis's own (`recloop.stats.tables.queries`), so the simulator's report
    and `recloop analyze` read the same numbers from the same tables.
    """
    return unit_totals_by_variant(DuckDBWarehouse.wrap(con), experiment)


def summarize(con: duckdb.DuckDBPyConnection, experiment: str) -> dict[str, Any]:
    """Units and metric values per arm, and treatment - control with naive standard errors."""
    totals = unit_totals(con, experiment)
    empty = UnitTotals.zeros(0)
    arms: dict[str, dict[str, float]] = {}
    for variant, t in totals.items():
        arms[variant] = {"units": float(len(t))}
        for metric in METRICS:
            arms[variant][metric.name] = arm_value(metric, t)[0]
    control, treatment = totals.get("control", empty), totals.get("treatment", empty)
    observed = {m.name: independent_effect(m, control, treatment).as_dict() for m in METRICS}
    return {"arms": arms, "observed": observed}
