"""One-sided false alarms of a guardrail looked at daily: measured vs calendar correlation.

One simulated A/A test (EASE against EASE, 4,000 daily users, 14 days, the attribution bench's
world) is written to tables once; its units' values of a mean metric at every daily look are read
back through recloop's SQL. Each permutation of the arm labels is a null test: the harm statistic
(control minus treatment, standardised) is compared at every look with the boundaries of the
calendar design (`group_sequential`, corr = √(t_j/t_k)) and of the measured design
(`estimated_design`, the looks' correlation estimated from the units). A valid design crosses in
about α = 5% of the permutations. Printed, never asserted.

    python benchmarks/bench_guardrail_type1.py [--metric return_rate] [--permutations 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from recloop.agents.bench_attribution import SETTINGS, _world, bench_config
from recloop.agents.bench_scenarios import designs
from recloop.agents.evaluate import EvaluationAgent
from recloop.stats import group_sequential
from recloop.stats.estimated_design import look_covariance, look_values, simulated_boundaries
from recloop.stats.metrics import get_metric
from recloop.stats.tables.contract import validate
from recloop.stats.tables.queries import Window, assigned_units, unit_day_totals
from recloop.stats.tables.warehouse import open_source

ALPHA, LOOKS = 0.05, 14


def a_a_values(metric_name: str) -> np.ndarray:
    """Units × daily looks of the metric in one simulated A/A test (NaN before a unit entered)."""
    truth, lists = _world()
    design = designs(1, 0, ["aa"])[0]
    folder = Path(tempfile.mkdtemp(prefix="recloop-type1-"))
    agent = EvaluationAgent(sim=bench_config(), truth=truth, workdir=folder)
    control, treatment = design.policies(lists)
    settings = SETTINGS.model_copy(update={"seed": design.seed, "min_effect": 0.0})
    out = agent.evaluate(control, treatment, settings, "A/A", experiment="aa")
    assert out.tables is not None
    with open_source(out.tables) as wh:
        info = validate(wh, "aa")
        window = Window("aa", info.start_ms, info.effective_end_ms)
        units = assigned_units(wh, window)
        by_day = unit_day_totals(wh, window, units, "test")
    return look_values(get_metric(metric_name), by_day, units, info.start_ms, LOOKS)


def harm_z(values: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """(control − treatment) / se at every look (−inf where a look has no variance)."""
    z = np.full(values.shape[1], -np.inf)
    for j in range(values.shape[1]):
        present = ~np.isnan(values[:, j])
        a, b = values[present & treated, j], values[present & ~treated, j]
        if min(len(a), len(b)) < 2:
            continue
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        if se > 0:
            z[j] = (b.mean() - a.mean()) / se
    return z


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metric", default="return_rate")
    parser.add_argument("--permutations", type=int, default=2_000)
    args = parser.parse_args()
    values = a_a_values(args.metric)
    fractions = np.arange(1, LOOKS + 1) / LOOKS
    calendar = np.array(group_sequential.boundaries(tuple(fractions), ALPHA, two_sided=False))
    rng = np.random.default_rng(1)
    crossed = {"calendar": 0, "measured": 0}
    started = time.perf_counter()
    for _ in range(args.permutations):
        treated = rng.random(len(values)) < 0.5
        z = harm_z(values, treated)
        measured = simulated_boundaries(look_covariance(values, treated), fractions, ALPHA)
        crossed["calendar"] += bool(np.any(z > calendar))
        crossed["measured"] += bool(np.any(z > measured))
    seconds = time.perf_counter() - started
    print(f"{args.metric}: {len(values):,} units, {args.permutations:,} permuted A/A tests "
          f"of {LOOKS} daily looks ({seconds:.0f} s)")  # fmt: skip
    for name, hits in crossed.items():
        print(f"  {name:9s} design: {hits / args.permutations:.1%} one-sided false alarms "
              f"(nominal {ALPHA:.0%})")  # fmt: skip


if __name__ == "__main__":
    main()
