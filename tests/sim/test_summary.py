"""The SQL over the tables and the simulator's own counters must agree unit for unit."""

from __future__ import annotations

import numpy as np

from recloop.sim.assignment import CONTROL, TREATMENT, plan_assignment
from recloop.sim.engine import Engine
from recloop.sim.metrics import TOTAL_FIELDS
from recloop.sim.summary import summarize, unit_totals
from recloop.sim.tables import TableWriter
from recloop.sim.traffic import build_population
from recloop.sim.world import PreparedWorld


def test_metrics_from_the_tables_equal_the_engines_totals(world: PreparedWorld) -> None:
    cfg = world.config
    population = build_population(
        cfg.traffic, cfg.faults, world.pool.items.shape[0], cfg.total_days, world.event_day,
        cfg.response.user_bias_sd, cfg.seed,
    )  # fmt: skip
    plan = plan_assignment(population.unit_id, cfg.experiment)
    writer = TableWriter(None, cfg.experiment.name, world.policy_names)
    engine = Engine(world.scenario, population, plan, (0, 1, 0), cfg.seed)
    engine.run(sink=writer.write_day)
    from_sql = unit_totals(writer.con, cfg.experiment.name)
    assigned = np.flatnonzero(engine.state.assigned)
    for name, code in (("control", CONTROL), ("treatment", TREATMENT)):
        units = assigned[plan.variant[assigned] == code]  # unit ids ascend with the index
        mine = engine.totals.take(units)
        assert len(from_sql[name]) == len(units) > 100
        for field in TOTAL_FIELDS:
            np.testing.assert_allclose(getattr(from_sql[name], field), getattr(mine, field))
    summary = summarize(writer.con, cfg.experiment.name)
    assert summary["arms"]["control"]["units"] == int((plan.variant[assigned] == CONTROL).sum())
    assert summary["observed"]["ctr"]["treatment"] > summary["observed"]["ctr"]["control"]
