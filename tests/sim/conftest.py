"""Shared small worlds for the simulator tests: built once per session, kept small for speed."""

from __future__ import annotations

import pytest

from recloop.sim.config import SimConfig, TrafficConfig
from recloop.sim.truth import SyntheticTruth, synthetic_truth
from recloop.sim.world import PreparedWorld, prepare_world

SMALL = SimConfig(
    traffic=TrafficConfig(daily_users=1_500),
    days=7,
    pre_days=3,
    oracle_daily_users=0,
)


@pytest.fixture(scope="session")
def truth() -> SyntheticTruth:
    return synthetic_truth()


@pytest.fixture(scope="session")
def world(truth: SyntheticTruth) -> PreparedWorld:
    """pop (control) against ease (treatment) in the synthetic world."""
    return prepare_world(SMALL, truth=truth)
