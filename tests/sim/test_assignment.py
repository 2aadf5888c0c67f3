from __future__ import annotations

import numpy as np
import pytest

from recloop.sim.assignment import (
    CONTROL,
    HOLDOUT,
    NEVER,
    TREATMENT,
    allocation_on,
    plan_assignment,
)
from recloop.sim.config import ExperimentConfig, FaultConfig

UNITS = np.arange(1, 100_001)
RAMP = ExperimentConfig(name="ramped", ramp=((0, 0.01), (2, 0.1), (4, 0.5)))


def _within_binomial(count: int, n: int, p: float, z: float = 4.0) -> bool:
    return abs(count - n * p) <= z * np.sqrt(n * p * (1 - p))


def test_assignment_is_deterministic() -> None:
    a, b = plan_assignment(UNITS, RAMP), plan_assignment(UNITS.copy(), RAMP)
    np.testing.assert_array_equal(a.variant, b.variant)
    np.testing.assert_array_equal(a.eligible_day, b.eligible_day)


def test_treatment_share_matches_the_allocation() -> None:
    plan = plan_assignment(UNITS, ExperimentConfig(treatment_share=0.3))
    assert _within_binomial(int((plan.variant == TREATMENT).sum()), len(UNITS), 0.3)
    assert (plan.eligible_day == 0).all()


def test_ramp_schedule_is_respected_and_units_never_leave() -> None:
    plan = plan_assignment(UNITS, RAMP)
    previous = np.zeros(len(UNITS), bool)
    for day in range(7):
        inside = plan.in_test(day)
        share = allocation_on(RAMP, day)
        assert _within_binomial(int(inside.sum()), len(UNITS), share)
        assert (inside | ~previous).all()  # whoever was in stays in
        previous = inside
    assert allocation_on(RAMP, 3) == 0.1
    assert (plan.eligible_day[~plan.in_test(6)] == NEVER).all()


def test_arms_stay_balanced_at_every_ramp_step() -> None:
    plan = plan_assignment(UNITS, RAMP)
    for day in (0, 2, 4):
        inside = plan.in_test(day)
        treated = int((plan.variant[inside] == TREATMENT).sum())
        assert _within_binomial(treated, int(inside.sum()), 0.5)


def test_holdout_is_kept_out_from_the_start() -> None:
    plan = plan_assignment(UNITS, ExperimentConfig(holdout=0.05))
    held = plan.variant == HOLDOUT
    assert _within_binomial(int(held.sum()), len(UNITS), 0.05)
    assert (plan.eligible_day[held] == 0).all()
    assert _within_binomial(int((plan.variant == TREATMENT).sum()), int((~held).sum()), 0.5)


def test_srm_assignment_fault_shrinks_the_treatment() -> None:
    faults = FaultConfig(enabled=frozenset({"srm-assignment"}), srm_share=0.2)
    plan = plan_assignment(UNITS, ExperimentConfig(), faults)
    expected = 0.5 * (1 - 0.2)
    assert _within_binomial(int((plan.variant == TREATMENT).sum()), len(UNITS), expected)
    assert (plan.variant != HOLDOUT).all()
    assert int((plan.variant == CONTROL).sum()) > 0.55 * len(UNITS)


@pytest.mark.parametrize(
    "ramp",
    [((1, 0.5),), ((0, 0.5), (2, 0.1)), ((0, 0.1), (0, 0.5)), ((0, 0.0),), ((0, 1.5),)],
)
def test_bad_ramps_are_refused(ramp: tuple[tuple[int, float], ...]) -> None:
    with pytest.raises(ValueError, match="ramp"):
        ExperimentConfig(ramp=ramp)
