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
import numpy as np

from recloop.sim.metrics import METRICS, TOTAL_FIELDS, UnitTotals, arm_value, independent_effect

UNIT_TOTALS_SQL = """
WITH a AS (
    SELECT unit_id, variant, first_exposure FROM assignments WHERE experiment = $experiment
), x AS (
    SELECT unit_id, count(*) AS sessions, sum(latency_ms) AS latency_ms
    FROM exposures WHERE experiment = $experiment GROUP BY unit_id
), ev AS (
    SELECT e.unit_id,
        count(*) FILTER (WHERE event_type = 'impression') AS impressions,
        count(*) FILTER (WHERE event_type = 'click') AS clicks,
        count(*) FILTER (WHERE event_type = 'consume') AS consumes,
        coalesce(sum(value) FILTER (WHERE event_type = 'consume'), 0) AS consumption,
        count(*) FILTER (WHERE event_type = 'return' AND e.ts > a.first_exposure) AS returns
    FROM events e JOIN a ON e.unit_id = a.unit_id AND e.ts >= a.first_exposure
    GROUP BY e.unit_id
)
SELECT a.variant, a.unit_id,
    coalesce(x.sessions, 0)::DOUBLE AS sessions,
    coalesce(ev.impressions, 0)::DOUBLE AS impressions,
    coalesce(ev.clicks, 0)::DOUBLE AS clicks,
    coalesce(ev.consumes, 0)::DOUBLE AS consumes,
    coalesce(ev.consumption, 0)::DOUBLE AS consumption,
    coalesce(ev.returns, 0)::DOUBLE AS returns,
    coalesce(x.latency_ms, 0)::DOUBLE AS latency_ms
FROM a LEFT JOIN x ON a.unit_id = x.unit_id LEFT JOIN ev ON a.unit_id = ev.unit_id
ORDER BY a.variant, a.unit_id
"""


def unit_totals(con: duckdb.DuckDBPyConnection, experiment: str) -> dict[str, UnitTotals]:
    """Per-unit totals of each variant of an experiment, computed from the tables."""
    cols = con.execute(UNIT_TOTALS_SQL, {"experiment": experiment}).fetchnumpy()
    variants = np.asarray(cols["variant"]).astype(str)
    return {
        str(v): UnitTotals(
            **{f: np.asarray(cols[f], np.float64)[variants == v] for f in TOTAL_FIELDS}
        )
        for v in np.unique(variants)
    }


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
