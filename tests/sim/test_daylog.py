from __future__ import annotations

import numpy as np
import pytest

from recloop.sim.assignment import plan_assignment
from recloop.sim.daylog import (
    CLICK,
    CONSUME,
    EVENT_COLUMNS,
    EXPOSURE_COLUMNS,
    IMPRESSION,
    RETURN,
    DayLog,
)
from recloop.sim.engine import Engine
from recloop.sim.traffic import build_population
from recloop.sim.world import PreparedWorld


@pytest.fixture(scope="module")
def logs(world: PreparedWorld) -> list[DayLog]:
    cfg = world.config
    population = build_population(
        cfg.traffic, cfg.faults, world.pool.items.shape[0], cfg.total_days, world.event_day,
        cfg.response.user_bias_sd, cfg.seed,
    )  # fmt: skip
    plan = plan_assignment(population.unit_id, cfg.experiment)
    days: list[DayLog] = []
    Engine(world.scenario, population, plan, (0, 1, 0), cfg.seed).run(sink=days.append)
    return days


def test_a_day_log_has_the_table_columns(logs: list[DayLog]) -> None:
    assert len(logs) == 10
    for log in logs:
        assert tuple(log.events) == EVENT_COLUMNS
        assert not log.exposures or tuple(log.exposures) == EXPOSURE_COLUMNS
    pre = logs[2]  # the pre-period has events but no exposures or assignments
    assert len(pre) > 0 and len(pre.exposures["unit_id"]) == 0
    assert len(pre.assignments["unit_id"]) == 0
    assert len(logs[3].assignments["unit_id"]) > 0


def test_clicks_follow_impressions_and_consumes_follow_clicks(logs: list[DayLog]) -> None:
    e = logs[5].events
    key = e["session_id"] * 10_000 + e["item_id"]
    for later, earlier in ((CLICK, IMPRESSION), (CONSUME, CLICK)):
        a, b = e["event_type"] == later, e["event_type"] == earlier
        assert np.isin(key[a], key[b]).all()
        first = dict(zip(key[b], e["ts"][b], strict=True))
        assert all(t > first[k] for k, t in zip(key[a], e["ts"][a], strict=True))
    consumed = e["value"][e["event_type"] == CONSUME]
    assert ((consumed > 0) & (consumed < 1)).all()


def test_returns_carry_the_days_since_the_previous_session(logs: list[DayLog]) -> None:
    e = logs[6].events
    back = e["event_type"] == RETURN
    assert back.any() and (e["value"][back] > 0).all()
    assert (e["item_id"][back] == -1).all() and (e["position"][back] == 0).all()
    shown = e["event_type"] == IMPRESSION
    assert e["position"][shown].min() == 1 and e["position"][shown].max() == 10
