"""Simulated sessions per minute on this machine, with a cheap policy and with EASE.

Each case prepares a world once (truth, calibration, policies fitted and served: "setup"), then
times the logged run — every simulated day's sessions plus the bulk insert of its rows into a
DuckDB file — and, separately, the engine alone without tables. Sessions include the pre-period.
The goal the simulator is held to: at least 1,000,000 sessions a minute with a precomputed
policy. Printed, never asserted.

    python benchmarks/bench_sim.py [--traffic 50000] [--days 14] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from recloop.sim.assignment import plan_assignment
from recloop.sim.config import SimConfig, TrafficConfig
from recloop.sim.engine import Engine
from recloop.sim.simulate import simulate
from recloop.sim.traffic import build_population
from recloop.sim.truth import synthetic_truth
from recloop.sim.world import PreparedWorld, prepare_world

GOAL = 1_000_000
CASES = (("pop vs random (precomputed)", "pop", "random"), ("pop vs ease", "pop", "ease"))


def engine_only(world: PreparedWorld) -> tuple[int, float]:
    """Sessions and seconds of the engine without writing tables."""
    cfg = world.config
    population = build_population(
        cfg.traffic,
        cfg.faults,
        world.pool.items.shape[0],
        cfg.total_days,
        world.event_day,
        cfg.response.user_bias_sd,
        cfg.seed,
    )
    plan = plan_assignment(population.unit_id, cfg.experiment)
    started = time.perf_counter()
    engine = Engine(world.scenario, population, plan, (0, 1, 0), cfg.seed)
    engine.run()
    return engine.sessions, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traffic", type=int, default=50_000, help="daily active users")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    args = parser.parse_args()
    truth = synthetic_truth()
    print(f"world: {truth.name}, {truth.train.n_users} personas x {truth.train.n_items} items")
    print(f"{'case':30} {'setup s':>8} {'sessions':>10} {'engine/min':>12} {'+tables/min':>12}")
    for label, a, b in CASES:
        config = SimConfig(
            policy_a=a,
            policy_b=b,
            days=args.days,
            traffic=TrafficConfig(daily_users=args.traffic),
            oracle_daily_users=0,
        )
        tic = time.perf_counter()
        world = prepare_world(config, truth=truth)
        setup = time.perf_counter() - tic
        engine_best = logged_best = float("inf")
        sessions = 0
        for _ in range(args.repeats):
            sessions, seconds = engine_only(world)
            engine_best = min(engine_best, seconds)
            with tempfile.TemporaryDirectory() as tmp:
                result = simulate(config, out=Path(tmp) / "bench.duckdb", world=world)
                logged_best = min(logged_best, result.seconds["run"])
        per_minute = 60 * sessions / engine_best
        logged = 60 * result.sessions / logged_best
        print(f"{label:30} {setup:8.2f} {sessions:10,} {per_minute:12,.0f} {logged:12,.0f}")
    print(f"goal: {GOAL:,} sessions a minute with a precomputed policy")


if __name__ == "__main__":
    main()
