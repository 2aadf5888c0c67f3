"""The Evaluation agent's simulator side: two policies in, the test's tables (and truth) out.

A policy is a reference model's name (`recloop.sim.POLICY_NAMES`) or any object with the
`Recommender` protocol (a workspace candidate through `SandboxedRecommender`, say); objects are
handed to `sim.simulate(policies=...)` under a name. The same object (or name) on both sides is
an A/A test. The test runs the whole horizon once; the agent then looks at its day prefixes.

Ramp: the treatment gets `OnlineSettings.traffic_fraction` of all users, with balanced arms, so
the test's final share of users is twice that (capped at 1); the plan's earlier steps (1% on
day 0, 10% on day 1 by default) come first, each capped below the final share.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recloop.agents.online import EvaluationPlan
from recloop.recsys.protocol import Recommender
from recloop.sim.config import ExperimentConfig, SimConfig, TrafficConfig
from recloop.sim.simulate import simulate
from recloop.sim.truth import GroundTruth
from recloop.workspace.manifest import OnlineSettings

Policy = str | Recommender


def ramp_schedule(
    steps: tuple[tuple[int, float], ...], final: float
) -> tuple[tuple[int, float], ...]:
    """The plan's steps below `final`, then `final` the day after the last of them."""
    kept = tuple((day, share) for day, share in steps if share < final)
    if not kept:
        return ((0, final),)
    return (*kept, (kept[-1][0] + 1, final))


def policy_names(control: Policy, treatment: Policy) -> tuple[str, str, dict[str, Recommender]]:
    """Names for the simulator and the objects behind them (the same object: an A/A test)."""
    objects: dict[str, Recommender] = {}

    def name(policy: Policy, role: str) -> str:
        if isinstance(policy, str):
            return policy
        label = f"{role}:{type(policy).__name__}"
        objects[label] = policy
        return label

    a = name(control, "control")
    b = a if treatment is control else name(treatment, "treatment")
    return a, b, objects


@dataclass(frozen=True)
class SimulatedTest:
    """How one online test is simulated: the base config with the settings' calendar and ramp."""

    base: SimConfig
    plan: EvaluationPlan
    settings: OnlineSettings
    experiment: str

    @staticmethod
    def default_config() -> SimConfig:
        """10,000 daily users of the synthetic world, a week of pre-period, a small oracle."""
        return SimConfig(
            traffic=TrafficConfig(daily_users=10_000), pre_days=7, oracle_daily_users=2_000
        )

    def config(self, policy_a: str, policy_b: str) -> SimConfig:
        final = min(1.0, 2 * self.settings.traffic_fraction)
        experiment = ExperimentConfig(
            name=self.experiment, treatment_share=0.5, ramp=ramp_schedule(self.plan.ramp, final)
        )
        return self.base.model_copy(
            update={
                "policy_a": policy_a, "policy_b": policy_b, "experiment": experiment,
                "days": self.settings.duration_days, "seed": self.settings.seed,
            }
        )  # fmt: skip


@dataclass(frozen=True)
class SimulationRun:
    """Where the simulated tables are, and the oracle's truth."""

    warehouse_path: Path
    kept: Path | None  # the tables' path when they outlive the evaluation
    truth: dict[str, Any] | None
    scratch: Path | None  # a temporary directory to remove

    def cleanup(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def run_simulation(
    test: SimulatedTest,
    control: Policy,
    treatment: Policy,
    truth: GroundTruth | None = None,
    workdir: Path | None = None,
) -> SimulationRun:
    """Simulate the whole horizon and write the tables (to `workdir`, else a scratch dir)."""
    a, b, objects = policy_names(control, treatment)
    config = test.config(a, b)
    scratch = None
    if workdir is None:
        scratch = Path(tempfile.mkdtemp(prefix="recloop-online-"))
    folder = workdir or scratch
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{test.experiment}.duckdb"
    result = simulate(config, out=path, overwrite=True, truth=truth, policies=objects or None)
    return SimulationRun(
        warehouse_path=path,
        kept=None if workdir is None else path,
        truth=None if result.truth is None else result.truth.as_dict(),
        scratch=scratch,
    )
