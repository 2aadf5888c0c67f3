"""A world made ready for a test: truth, calibrated clicks, served policies and the scenario.

Built once per simulation and shared by the logged run and the oracle's runs, so all of them see
the same slates, the same logits and the same calendar of traffic, shocks and spikes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from recloop.recsys.protocol import Recommender
from recloop.sim.config import SimConfig
from recloop.sim.engine import Scenario
from recloop.sim.policies import Slates, make_policy, serve
from recloop.sim.pool import CandidatePool, build_pool
from recloop.sim.response import ClickModel, calibrate
from recloop.sim.traffic import SECONDS_PER_DAY, day_multipliers
from recloop.sim.truth import GroundTruth, load_truth


@dataclass(frozen=True, eq=False)
class PreparedWorld:
    """Everything about a test that does not depend on which users arrive."""

    config: SimConfig
    truth: GroundTruth
    click_model: ClickModel
    slates: tuple[Slates, Slates]  # control, treatment
    pool: CandidatePool
    scenario: Scenario

    @property
    def policy_names(self) -> tuple[str, str]:
        return self.slates[0].policy, self.slates[1].policy

    @property
    def start_second(self) -> int:
        return self.scenario.start_second

    @property
    def test_start_second(self) -> int:
        return self.start_second + self.config.pre_days * SECONDS_PER_DAY

    @property
    def end_second(self) -> int:
        return self.start_second + self.config.total_days * SECONDS_PER_DAY

    @property
    def event_day(self) -> int:
        """The day (from the first pre-period day) of a mid-test shock or spike."""
        return self.config.pre_days + self.config.days // 2


def prepare_world(
    config: SimConfig,
    truth: GroundTruth | None = None,
    policies: Mapping[str, Recommender] | None = None,
) -> PreparedWorld:
    """Load the truth, calibrate clicks, fit and serve both policies, lay out the calendar.

    `policies` maps names to recommender objects that take precedence over the built-in names
    (e.g. a candidate served from a workspace sandbox).
    """
    truth = truth or load_truth(config.world, config.seed)
    model = calibrate(truth, config.response, config.seed)
    given = dict(policies or {})

    def served(name: str) -> Slates:
        policy = given[name] if name in given else make_policy(name, config.seed)
        return serve(name, policy, truth.train, config.response.candidates)

    control = served(config.policy_a)
    if "novelty-only" in config.faults:
        treatment = replace(control, policy=f"{config.policy_a} (restyled)")
    elif config.policy_b == config.policy_a:
        treatment = control
    else:
        treatment = served(config.policy_b)
    pool = build_pool([control, treatment], truth, model)
    return PreparedWorld(
        config=config,
        truth=truth,
        click_model=model,
        slates=(control, treatment),
        pool=pool,
        scenario=_scenario(config, pool, truth),
    )


def treatment_novelty(config: SimConfig) -> float:
    """The novelty lift of the treatment: none in an A/A test, large when novelty is all."""
    if "novelty-only" in config.faults:
        return config.faults.novelty_only_lift
    return 0.0 if config.is_aa else config.response.novelty_lift


def novelty_by_persona(config: SimConfig, pool: CandidatePool) -> np.ndarray:
    """Novelty lift per (policy, persona): the treatment's lift times the share of its slate that
    is new to the persona (not in the control's slate); the restyled novelty-only slate counts
    as wholly new.

    A change that leaves a user's list as it was shows that user nothing new, so it earns no
    novelty lift: a no-op candidate must not look like a win.
    """
    size = config.response.slate_size
    control, treatment = pool.columns[0, :, :size], pool.columns[1, :, :size]
    seen_before = (treatment[:, :, None] == control[:, None, :]).any(axis=2)
    changed = 1.0 if "novelty-only" in config.faults else 1.0 - seen_before.mean(axis=1)
    lift = np.zeros((2, pool.columns.shape[1]), np.float32)
    lift[1] = treatment_novelty(config) * changed
    return lift


def _scenario(config: SimConfig, pool: CandidatePool, truth: GroundTruth) -> Scenario:
    start = config.start
    start_second = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    shock = np.zeros(config.total_days, np.float32)
    if "seasonal-shock" in config.faults:
        shock[config.pre_days + config.days // 2 :] = config.faults.shock_logit
    return Scenario(
        pool=pool,
        response=config.response,
        day_multipliers=day_multipliers(
            config.traffic, config.total_days, start.weekday(), config.seed
        ),
        shock=shock,
        novelty_lift=novelty_by_persona(config, pool),
        pre_days=config.pre_days,
        start_second=start_second,
        max_sessions_per_day=config.traffic.max_sessions_per_day,
        bot_click=config.faults.bot_click,
        item_ids=np.asarray(truth.train.item_ids, np.int64),
        retention_shift=np.array([0.0, config.faults.treatment_churn_logit], np.float32),
    )
