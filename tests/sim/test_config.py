from __future__ import annotations

import pytest
from pydantic import ValidationError

from recloop.sim.config import FAULT_NAMES, FaultConfig, ResponseConfig, SimConfig, TrafficConfig


def test_aa_is_the_same_policy_on_both_arms_without_a_novelty_fault() -> None:
    assert SimConfig(policy_a="pop", policy_b="pop").is_aa
    assert not SimConfig(policy_a="pop", policy_b="ease").is_aa
    novelty = FaultConfig(enabled=frozenset({"novelty-only"}))
    assert not SimConfig(policy_a="pop", policy_b="pop", faults=novelty).is_aa


def test_faults_are_off_by_default_and_named() -> None:
    assert not SimConfig().faults.enabled
    assert set(FAULT_NAMES) == {
        "srm-assignment", "srm-logging", "novelty-only", "seasonal-shock", "traffic-spike", "bots",
    }  # fmt: skip
    with pytest.raises(ValidationError):
        FaultConfig(enabled=frozenset({"gremlins"}))


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (ResponseConfig, {"base_ctr": 0.3, "top_ctr": 0.2}),
        (ResponseConfig, {"slate_size": 20, "candidates": 10}),
        (TrafficConfig, {"weekly": (1, 1, 1, 1, 1, 1, 0)}),
        (TrafficConfig, {"spike_multiplier": (2.0, 1.5)}),
        (SimConfig, {"days": 0}),
        (SimConfig, {"world": "ml-25m"}),
        (SimConfig, {"unknown": 1}),
    ],
)
def test_bad_settings_are_refused(model: type, kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        model(**kwargs)
