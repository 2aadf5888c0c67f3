"""Who is in the test, in which arm, from which day: a pure function of (unit id, salt, ramp).

Three independent buckets per unit (see `hashing`): `<salt>/holdout` below the holdout share keeps
a unit out of the test for good (it is served the control and logged as variant "holdout");
`<salt>/allocation` below the ramp's share on a test day brings the unit in from that day on;
`<salt>/variant` below the treatment share puts it in the treatment. Because the allocation and
variant buckets are independent, ramping up never moves a unit between arms, and the arms stay
balanced at every step of the ramp. A unit is assigned (its `assignments` row is written) at its
first session on or after the day it becomes eligible: that session is its first exposure.

The `srm-assignment` fault is a biased assignment bug: a share of the units hashed to the
treatment are served and logged as control, so the control arm is too big.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.sim.config import ExperimentConfig, FaultConfig
from recloop.sim.hashing import bucket

CONTROL, TREATMENT, HOLDOUT = 0, 1, 2
VARIANT_NAMES = ("control", "treatment", "holdout")
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class AssignmentPlan:
    """Per unit: the first test day it is in the test (NEVER if not) and its variant."""

    eligible_day: np.ndarray  # int64
    variant: np.ndarray  # int8: CONTROL, TREATMENT or HOLDOUT

    def in_test(self, test_day: int) -> np.ndarray:
        """Units in the test (or the holdout) on a test day."""
        return self.eligible_day <= test_day


def allocation_on(experiment: ExperimentConfig, test_day: int) -> float:
    """The ramp's share of eligible units in the test on a test day (0 before day 0)."""
    share = 0.0
    for day, value in experiment.ramp:
        if day <= test_day:
            share = value
    return share


def plan_assignment(
    unit_ids: np.ndarray, experiment: ExperimentConfig, faults: FaultConfig | None = None
) -> AssignmentPlan:
    """The assignment of every unit, vectorised; identical for identical ids and settings."""
    salt = experiment.name
    held_out = bucket(unit_ids, f"{salt}/holdout") < experiment.holdout
    days = np.array([d for d, _ in experiment.ramp], np.int64)
    shares = np.array([s for _, s in experiment.ramp])
    step = np.searchsorted(shares, bucket(unit_ids, f"{salt}/allocation"), side="right")
    eligible = np.where(step < len(days), days[np.minimum(step, len(days) - 1)], NEVER)
    variant = np.where(
        bucket(unit_ids, f"{salt}/variant") < experiment.treatment_share, TREATMENT, CONTROL
    ).astype(np.int8)
    if faults is not None and "srm-assignment" in faults:
        bugged = bucket(unit_ids, f"{salt}/srm-bug") < faults.srm_share
        variant[bugged & (variant == TREATMENT)] = CONTROL
    variant[held_out] = HOLDOUT
    eligible[held_out] = 0
    return AssignmentPlan(eligible_day=eligible.astype(np.int64), variant=variant)
