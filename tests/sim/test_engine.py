"""Behaviours of the response loop, measured on runs of one small population."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from recloop.sim.assignment import plan_assignment
from recloop.sim.engine import Engine
from recloop.sim.tables import TableWriter
from recloop.sim.traffic import Population, build_population
from recloop.sim.world import PreparedWorld


def _population(world: PreparedWorld) -> Population:
    cfg = world.config
    return build_population(
        cfg.traffic, cfg.faults, world.pool.items.shape[0], cfg.total_days, world.event_day,
        cfg.response.user_bias_sd, cfg.seed,
    )  # fmt: skip


def _engine(world: PreparedWorld, satisfaction_shift: float = 0.0, **response: float) -> Engine:
    scenario = world.scenario
    if satisfaction_shift:
        pool = scenario.pool
        shifted = replace(pool, satisfaction_logit=pool.satisfaction_logit + satisfaction_shift)
        scenario = replace(scenario, pool=shifted)
    if response:
        scenario = replace(scenario, response=scenario.response.model_copy(update=response))
    population = _population(world)
    plan = plan_assignment(population.unit_id, world.config.experiment)
    return Engine(scenario, population, plan, (0, 1, 0), seed=world.config.seed)


@pytest.fixture(scope="module")
def logged(world: PreparedWorld) -> TableWriter:
    writer = TableWriter(None, "exp-1", world.policy_names)
    _engine(world).run(sink=writer.write_day)
    return writer


def test_click_through_falls_with_position(logged: TableWriter) -> None:
    rows = logged.con.execute(
        "SELECT position, count(*) FILTER (WHERE event_type = 'click') / "
        "count(*) FILTER (WHERE event_type = 'impression') FROM events "
        "WHERE position IS NOT NULL GROUP BY position ORDER BY position"
    ).fetchall()
    positions, ctr = np.array(rows).T
    assert list(positions) == list(range(1, 11))
    assert stats.spearmanr(positions, ctr).statistic < -0.9
    assert ctr[0] > 3 * ctr[-1]


def test_repeated_views_of_an_item_lower_its_click_through(world: PreparedWorld) -> None:
    def ratio(engine: Engine) -> float:
        writer = TableWriter(None, "exp-1", world.policy_names)
        engine.run(sink=writer.write_day)
        later, first = writer.con.execute(
            """
            WITH v AS (
                SELECT session_id, item_id, row_number() OVER (
                    PARTITION BY unit_id, item_id ORDER BY ts, session_id) AS view
                FROM events WHERE event_type = 'impression'
            ), c AS (SELECT DISTINCT session_id, item_id FROM events WHERE event_type = 'click')
            SELECT avg((c.item_id IS NOT NULL)::INT) FILTER (WHERE view >= 3),
                   avg((c.item_id IS NOT NULL)::INT) FILTER (WHERE view = 1)
            FROM v LEFT JOIN c USING (session_id, item_id)
            """
        ).fetchone() or (0.0, 1.0)
        return float(later) / float(first)

    assert ratio(_engine(world, fatigue=1.0)) < 0.7 * ratio(_engine(world, fatigue=0.0))


def test_retention_responds_to_satisfaction(world: PreparedWorld) -> None:
    happy = _engine(world, satisfaction_shift=3.0)
    unhappy = _engine(world, satisfaction_shift=-3.0)
    happy.run()
    unhappy.run()
    # the same arrivals and draws: only what users feel after their clicks differs
    assert happy.state.alive.mean() > unhappy.state.alive.mean() + 0.01
    assert happy.sessions > unhappy.sessions
    assigned = happy.state.assigned & unhappy.state.assigned
    returned = [(e.totals.returns[assigned] > 0).mean() for e in (happy, unhappy)]
    assert returned[0] > returned[1]


def test_users_leave_and_join(world: PreparedWorld) -> None:
    engine = _engine(world)
    engine.run()
    pop = engine.population
    assert 0.5 < engine.state.alive.mean() < 0.99
    late = pop.join_day >= world.config.pre_days
    assert late.sum() > 0 and engine.state.assigned[late].any()  # new users in the test
