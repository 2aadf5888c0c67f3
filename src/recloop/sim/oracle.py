"""The ground-truth oracle: what the test would measure with infinite traffic, with its error bar.

No real A/B test tells its true effect; a simulator can. The oracle draws its own population
(`oracle_daily_users` a day, a separate random stream from the logged run), keeps the units the
experiment would assign (same hash, ramp and calendar; no holdout) and runs them through the whole
test twice: every assigned unit served the control, then every assigned unit served the treatment.
Both runs use common random numbers — the same arrivals, the same uniform per (session, rank) —
so a unit's two outcomes differ only through the policy, and the paired difference has a small
standard error. The estimand is the test's: per-unit metrics from each unit's first exposure to
the end of the test, averaged over assigned units (ratios as ratios of sums).

The treatment also runs a third time without its novelty lift: `effect_without_novelty` is what
the change is worth once users are used to it (0 for a novelty-only change). Logging faults
(`srm-*`) are bugs in measurement, not in behaviour, so the oracle ignores them; confounders
(shock, spike, bots) are part of the traffic and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from recloop.progress import StageProgress
from recloop.sim.assignment import HOLDOUT, NEVER, TREATMENT, AssignmentPlan, plan_assignment
from recloop.sim.engine import Engine
from recloop.sim.metrics import METRICS, Effect, UnitTotals, paired_effect
from recloop.sim.traffic import build_population
from recloop.sim.world import PreparedWorld

ORACLE_STREAM = 1


@dataclass(frozen=True)
class TrueEffects:
    """The oracle's per-metric truth for a pair of policies."""

    units: int
    effects: dict[str, Effect]
    without_novelty: dict[str, Effect]

    def as_dict(self) -> dict[str, Any]:
        metrics = {}
        for name, effect in self.effects.items():
            row = effect.as_dict()
            settled = self.without_novelty[name]
            row["effect_without_novelty"] = settled.effect
            row["se_without_novelty"] = settled.se
            metrics[name] = row
        return {"units": self.units, "metrics": metrics}


def estimate_truth(world: PreparedWorld, progress: StageProgress | None = None) -> TrueEffects:
    """Paired runs of the oracle population under each policy (common random numbers)."""
    config = world.config
    traffic = config.traffic.model_copy(update={"daily_users": config.oracle_daily_users})
    behaviour = config.faults.model_copy(
        update={"enabled": config.faults.enabled - {"srm-assignment", "srm-logging"}}
    )
    population = build_population(
        traffic,
        behaviour,
        world.pool.items.shape[0],
        config.total_days,
        world.event_day,
        config.response.user_bias_sd,
        config.seed,
        stream=ORACLE_STREAM,
    )
    plan = plan_assignment(population.unit_id, config.experiment)
    members = np.flatnonzero((plan.eligible_day < NEVER) & (plan.variant != HOLDOUT))
    population = population.take(members)
    plan = AssignmentPlan(
        eligible_day=plan.eligible_day[members],
        variant=np.full(len(members), TREATMENT, np.int8),
    )

    def run(label: str, policy: int, settled: bool = False) -> tuple[UnitTotals, np.ndarray]:
        scenario = world.scenario
        if settled:
            scenario = replace(scenario, novelty_lift=np.zeros_like(scenario.novelty_lift))
        engine = Engine(scenario, population, plan, (0, policy, 0), config.seed, ORACLE_STREAM)
        report = None if progress is None else (lambda d, n: progress(label, d, n))
        totals = engine.run(progress=report)
        return totals, engine.state.assigned

    control, assigned = run("oracle: control", 0)
    treatment, assigned_b = run("oracle: treatment", 1)
    if not np.array_equal(assigned, assigned_b):
        raise AssertionError("assignment differs between oracle worlds: common numbers broken")
    units = np.flatnonzero(assigned)
    control, treatment = control.take(units), treatment.take(units)
    effects = {m.name: paired_effect(m, control, treatment) for m in METRICS}
    if world.scenario.novelty_lift[1].any():
        settled = run("oracle: treatment, no novelty", 1, settled=True)[0].take(units)
        without = {m.name: paired_effect(m, control, settled) for m in METRICS}
    else:
        without = effects
    return TrueEffects(units=len(units), effects=effects, without_novelty=without)
