"""The online world: a user simulator with known ground truth that writes experiment tables.

`simulate(SimConfig(...))` runs one A/B test of two recommenders against simulated users and
writes the `assignments`, `exposures` and `events` tables a real warehouse would hold (`tables`
documents the schema, the contract real data must meet); `estimate_truth` gives the test's true
effects. Modules, one concern each: `truth` (what users really like), `response` (how they react
to a slate), `traffic` (who arrives when), `assignment` (who is in which arm), `policies`
(recommenders served in timed batches), `engine` (the day/round loop), `tables` (the contract
and its DuckDB writer), `metrics`, `summary`, `oracle`, `simulate`, `commands` (`recloop sim`).
"""

from recloop.sim.assignment import AssignmentPlan, plan_assignment
from recloop.sim.config import (
    FAULT_NAMES,
    WORLD_NAMES,
    ExperimentConfig,
    FaultConfig,
    ResponseConfig,
    SimConfig,
    TrafficConfig,
)
from recloop.sim.hashing import bucket
from recloop.sim.metrics import METRIC_NAMES, METRICS
from recloop.sim.oracle import TrueEffects, estimate_truth
from recloop.sim.policies import POLICY_NAMES, RandomPolicy, make_policy
from recloop.sim.simulate import SimulationResult, simulate
from recloop.sim.tables import REQUIRED_TABLES, SCHEMA
from recloop.sim.truth import (
    GroundTruth,
    MovieLensTruth,
    SyntheticTruth,
    load_truth,
    movielens_truth,
    synthetic_truth,
)
from recloop.sim.world import PreparedWorld, prepare_world

__all__ = [
    "FAULT_NAMES",
    "METRICS",
    "METRIC_NAMES",
    "POLICY_NAMES",
    "REQUIRED_TABLES",
    "SCHEMA",
    "WORLD_NAMES",
    "AssignmentPlan",
    "ExperimentConfig",
    "FaultConfig",
    "GroundTruth",
    "MovieLensTruth",
    "PreparedWorld",
    "RandomPolicy",
    "ResponseConfig",
    "SimConfig",
    "SimulationResult",
    "SyntheticTruth",
    "TrafficConfig",
    "TrueEffects",
    "bucket",
    "estimate_truth",
    "load_truth",
    "make_policy",
    "movielens_truth",
    "plan_assignment",
    "prepare_world",
    "simulate",
    "synthetic_truth",
]
