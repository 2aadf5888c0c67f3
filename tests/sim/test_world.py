from __future__ import annotations

import numpy as np

from recloop.recsys.models import MostPopular
from recloop.sim.config import FaultConfig
from recloop.sim.world import PreparedWorld, prepare_world, treatment_novelty


def test_a_test_serves_both_policies_with_a_novelty_lift_on_the_change(
    world: PreparedWorld,
) -> None:
    small = world.config
    assert world.policy_names == ("pop", "ease")
    lift = world.scenario.novelty_lift
    assert not lift[0].any()  # the control never gets a novelty lift
    assert lift[1].max() <= np.float32(small.response.novelty_lift)
    assert lift[1].mean() > 0.5 * small.response.novelty_lift  # pop -> ease changes most slates
    assert world.scenario.total_days == small.total_days
    assert world.event_day == small.pre_days + small.days // 2
    assert world.end_second - world.start_second == small.total_days * 86_400


def test_an_aa_world_serves_one_policy_without_novelty(world: PreparedWorld) -> None:
    aa = prepare_world(world.config.model_copy(update={"policy_b": "pop"}), truth=world.truth)
    assert aa.slates[0] is aa.slates[1]
    np.testing.assert_array_equal(aa.pool.columns[0], aa.pool.columns[1])
    assert treatment_novelty(aa.config) == 0.0


def test_novelty_only_restyles_the_control(world: PreparedWorld) -> None:
    faults = FaultConfig(enabled=frozenset({"novelty-only"}))
    world = prepare_world(world.config.model_copy(update={"faults": faults}), truth=world.truth)
    assert world.policy_names == ("pop", "pop (restyled)")
    np.testing.assert_array_equal(world.pool.columns[0], world.pool.columns[1])
    assert np.all(world.scenario.novelty_lift[1] == np.float32(faults.novelty_only_lift))


def test_an_unchanged_slate_earns_no_novelty(world: PreparedWorld) -> None:
    """A candidate that serves the same lists as the champion must not look like a win."""
    config = world.config.model_copy(update={"policy_b": "same-as-pop"})
    same = prepare_world(config, truth=world.truth, policies={"same-as-pop": MostPopular()})
    np.testing.assert_array_equal(same.pool.columns[0], same.pool.columns[1])
    assert not same.scenario.novelty_lift.any()


def test_a_given_recommender_object_is_served_under_its_name(world: PreparedWorld) -> None:
    config = world.config.model_copy(update={"policy_b": "candidate"})
    world = prepare_world(config, truth=world.truth, policies={"candidate": MostPopular()})
    assert world.policy_names == ("pop", "candidate")
