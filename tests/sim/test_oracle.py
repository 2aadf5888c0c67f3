from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recloop.sim.assignment import TREATMENT, AssignmentPlan, plan_assignment
from recloop.sim.config import FaultConfig
from recloop.sim.engine import Engine
from recloop.sim.metrics import METRIC_NAMES, METRICS, independent_effect, paired_effect
from recloop.sim.oracle import estimate_truth
from recloop.sim.traffic import build_population
from recloop.sim.world import PreparedWorld


@pytest.fixture(scope="module")
def oracle_world(world: PreparedWorld) -> PreparedWorld:
    return replace(world, config=world.config.model_copy(update={"oracle_daily_users": 2_000}))


def test_truth_is_reproducible_and_covers_every_metric(oracle_world: PreparedWorld) -> None:
    first, second = estimate_truth(oracle_world), estimate_truth(oracle_world)
    assert first == second
    assert set(first.effects) == set(METRIC_NAMES) and first.units > 1_000
    report = first.as_dict()["metrics"]["ctr"]
    assert report["effect"] > 0 and report["effect_without_novelty"] < report["effect"]


def test_common_random_numbers_shrink_the_error_bar(world: PreparedWorld) -> None:
    cfg = world.config
    population = build_population(
        cfg.traffic, cfg.faults, world.pool.items.shape[0], cfg.total_days, world.event_day,
        cfg.response.user_bias_sd, cfg.seed,
    )  # fmt: skip
    plan = plan_assignment(population.unit_id, cfg.experiment)
    plan = AssignmentPlan(plan.eligible_day, np.full(population.size, TREATMENT, np.int8))
    runs = [Engine(world.scenario, population, plan, (0, p, 0), cfg.seed) for p in (0, 1)]
    control, treatment = (engine.run() for engine in runs)
    units = np.flatnonzero(runs[0].state.assigned)
    control, treatment = control.take(units), treatment.take(units)
    for name in ("sessions_per_user", "clicks_per_user"):
        metric = next(m for m in METRICS if m.name == name)
        paired = paired_effect(metric, control, treatment)
        unpaired = independent_effect(metric, control, treatment)
        assert paired.effect == pytest.approx(unpaired.effect)
        assert paired.se < 0.8 * unpaired.se, name


def test_logging_faults_do_not_change_the_truth(oracle_world: PreparedWorld) -> None:
    faults = FaultConfig(enabled=frozenset({"srm-logging", "srm-assignment"}))
    buggy = replace(oracle_world, config=oracle_world.config.model_copy(update={"faults": faults}))
    assert estimate_truth(buggy).effects == estimate_truth(oracle_world).effects
