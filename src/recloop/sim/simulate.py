"""One simulated A/B test from a config: world, logged run, tables, summary and oracle truth.

`simulate` is the one entry point the CLI, the benchmarks and the Evaluation agent share. The
logged run draws the population, assigns it by hash, runs every day (pre-period first) and writes
each day's rows; the summary is then read back from the tables; the oracle runs its own larger
population for the true effects. A seeded config gives identical tables, row for row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recloop.progress import StageProgress
from recloop.recsys.protocol import Recommender
from recloop.sim.assignment import TREATMENT, plan_assignment
from recloop.sim.config import SimConfig
from recloop.sim.engine import Engine
from recloop.sim.hashing import bucket
from recloop.sim.oracle import TrueEffects, estimate_truth
from recloop.sim.summary import summarize
from recloop.sim.tables import TableWriter
from recloop.sim.traffic import Population, build_population
from recloop.sim.truth import GroundTruth
from recloop.sim.world import PreparedWorld, prepare_world


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation produced; `report()` is the JSON the CLI prints."""

    config: SimConfig
    summary: dict[str, Any]
    truth: TrueEffects | None
    serving: dict[str, dict[str, float]]
    sessions: int
    seconds: dict[str, float]  # prepare (world and policies), run (logged run + tables), oracle
    path: Path | None

    def report(self) -> dict[str, Any]:
        """JSON-ready: NaN (e.g. a relative effect on a zero control) becomes None."""
        return _finite(
            {
                "config": json.loads(self.config.model_dump_json()),
                "experiment": self.config.experiment.name,
                "aa": self.config.is_aa,
                "faults": sorted(self.config.faults.enabled),
                "arms": self.summary["arms"],
                "observed": self.summary["observed"],
                "truth": None if self.truth is None else self.truth.as_dict(),
                "serving": self.serving,
                "sessions": self.sessions,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "sessions_per_minute": round(60 * self.sessions / max(self.seconds["run"], 1e-9)),
                "out": None if self.path is None else str(self.path),
            }
        )


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def lost_logging(config: SimConfig, population: Population, variant: np.ndarray) -> np.ndarray:
    """Units whose test rows an `srm-logging` bug drops: light treatment users, hashed."""
    if "srm-logging" not in config.faults:
        return np.zeros(population.size, bool)
    light = population.rate < np.median(population.rate)
    hit = bucket(population.unit_id, f"{config.experiment.name}/srm-bug")
    return (variant == TREATMENT) & light & (hit < 2 * config.faults.srm_share)


def simulate(
    config: SimConfig,
    out: Path | None = None,
    parquet: Path | None = None,
    overwrite: bool = False,
    progress: StageProgress | None = None,
    truth: GroundTruth | None = None,
    policies: Mapping[str, Recommender] | None = None,
    world: PreparedWorld | None = None,
) -> SimulationResult:
    """Run one test; write its tables to `out` (memory when None) and Parquet to `parquet`."""
    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]

    if out is not None and out.exists() and not overwrite:  # before minutes of preparation
        raise FileExistsError(f"{out} exists; choose another file or overwrite it")
    world = world or prepare_world(config, truth, policies)
    seconds = {"prepare": lap()}
    writer = TableWriter(out, config.experiment.name, world.policy_names, overwrite=overwrite)
    try:
        _write_metadata(writer, world)
        sessions = _logged_run(world, writer, progress)
        summary = summarize(writer.con, config.experiment.name)
        if parquet is not None:
            writer.export_parquet(parquet)
    finally:
        writer.close()
    seconds["run"] = lap()
    oracle = estimate_truth(world, progress) if config.oracle_daily_users > 0 else None
    seconds["oracle"] = lap()
    serving = {
        s.policy: {
            "fit_seconds": round(s.fit_seconds, 4),
            "ms_per_1000_users": round(s.ms_per_1000_users, 3),
        }
        for s in world.slates
    }
    return SimulationResult(
        config=config,
        summary=summary,
        truth=oracle,
        serving=serving,
        sessions=sessions,
        seconds=seconds,
        path=out,
    )


def _logged_run(world: PreparedWorld, writer: TableWriter, progress: StageProgress | None) -> int:
    config = world.config
    population = build_population(
        config.traffic,
        config.faults,
        world.pool.items.shape[0],
        config.total_days,
        world.event_day,
        config.response.user_bias_sd,
        config.seed,
    )
    plan = plan_assignment(population.unit_id, config.experiment, config.faults)
    engine = Engine(
        world.scenario,
        population,
        plan,
        route=(0, 1, 0),
        seed=config.seed,
        lost=lost_logging(config, population, plan.variant),
    )
    report = None if progress is None else (lambda d, n: progress("simulating days", d, n))
    engine.run(sink=writer.write_day, progress=report)
    return engine.sessions


def _write_metadata(writer: TableWriter, world: PreparedWorld) -> None:
    config, (control, treatment) = world.config, world.slates
    exp = config.experiment
    writer.write_rows(
        "experiments",
        [
            {
                "experiment": exp.name,
                "start_ts": np.datetime64(world.test_start_second, "s").item(),
                "end_ts": np.datetime64(world.end_second, "s").item(),
                "control_policy": control.policy,
                "treatment_policy": treatment.policy,
                "treatment_share": exp.treatment_share,
                "ramp": json.dumps([list(step) for step in exp.ramp]),
                "holdout": exp.holdout,
            }
        ],
    )
    writer.write_rows(
        "serving",
        [
            {
                "policy": s.policy,
                "users": len(s.items),
                "fit_seconds": s.fit_seconds,
                "serve_seconds": s.serve_seconds,
                "ms_per_1000_users": s.ms_per_1000_users,
            }
            for s in dict.fromkeys(world.slates)
        ],
    )
