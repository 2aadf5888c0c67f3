"""`recloop bench attribution`: how reliably the Evaluation agent decides, on tests with truth.

N simulated tests cycle through the designs of `bench_scenarios` (A/A, small/medium/large true
effects of both signs, novelty-only, SRM bugs, seasonal shocks, guardrail harm behind a gain);
the Evaluation agent runs each (daily sequential looks, early stops) and the oracle labels its
truth. `summarize` turns the per-test rows into the rates (a pure function, tested on a tiny
table):

- false-ship rate: ships among tests whose truth is not beneficial (null, harmful, guardrail
  harm, novelty-only, and every SRM test);
- power per design: ships among the beneficial tests of each design;
- SRM detection: SRM tests stopped with the SRM flag; novelty-only and guardrail-harm ship
  rates; CUPED: mean variance removed on the primary metric at the stop look;
- samples: mean units used over the planned horizon's, and, per beneficial design with power p,
  against a fixed-horizon test of equal power p at the true effect (`stats.power`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.agents.bench_scenarios import BaseLists, Design, Kind, Truth, designs, label_truth
from recloop.agents.evaluate import EvaluationAgent
from recloop.agents.online import EvaluationPlan
from recloop.sim.config import SimConfig, TrafficConfig
from recloop.sim.truth import SyntheticTruth, synthetic_truth
from recloop.stats.analysis import parse_guardrail
from recloop.stats.attribution import MetricResult
from recloop.stats.power import PlannedMetric, plan_sample_size
from recloop.workspace.manifest import OnlineSettings

SETTINGS = OnlineSettings(traffic_fraction=0.5, duration_days=14)
DECISIONS = ("ship", "no_ship", "inconclusive")


class BenchCase(BaseModel):
    """One benchmark test: its design, the oracle's truth and the agent's decision."""

    model_config = ConfigDict(frozen=True)

    index: int
    kind: Kind
    truth: Truth
    true_effect: float  # settled relative effect on the primary metric
    true_guardrail: float  # relative effect on the guardrail
    decision: str
    stop_reason: str
    stop_day: int
    samples_used: int
    samples_planned: int
    primary_sd: float  # per-unit sd of the primary (CUPED-adjusted) at the stop look
    control_mean: float
    guardrail_sd: float  # the same for the guardrail
    guardrail_mean: float
    cuped_reduction: float


def bench_config(daily_users: int = 4_000) -> SimConfig:
    return SimConfig(traffic=TrafficConfig(daily_users=daily_users), pre_days=5,
                     oracle_daily_users=3_000)  # fmt: skip


@lru_cache(maxsize=1)
def _world() -> tuple[SyntheticTruth, BaseLists]:
    truth = synthetic_truth()
    return truth, BaseLists.build(truth.train, bench_config().response.candidates)


def run_case(design: Design, daily_users: int = 4_000) -> BenchCase:
    """Simulate one design, let the agent decide, label the truth."""
    truth, lists = _world()
    plan = EvaluationPlan()
    base = bench_config(daily_users).model_copy(update={"faults": design.faults})
    agent = EvaluationAgent(plan, base, truth=truth)
    control, treatment = design.policies(lists)
    settings = SETTINGS.model_copy(update={"seed": design.seed})
    out = agent.evaluate(control, treatment, settings, f"bench {design.kind} #{design.index}",
                         experiment=f"bench-{design.index}")  # fmt: skip
    assert out.truth is not None
    guard = parse_guardrail(plan.guardrails[0])
    label, effect, g_rel = label_truth(out.truth, plan.primary[0], guard.metric, guard.margin)
    a = out.attribution
    m = a.analysis.metrics.get(plan.primary[0])
    g = a.analysis.metrics.get(guard.metric)
    return BenchCase(
        index=design.index, kind=design.kind, truth=label, true_effect=effect,
        true_guardrail=g_rel, decision=out.decision, stop_reason=a.stop.reason,
        stop_day=a.stop.day, samples_used=a.samples.used, samples_planned=a.samples.planned,
        primary_sd=_sd(m), control_mean=0.0 if m is None else m.control,
        guardrail_sd=_sd(g), guardrail_mean=0.0 if g is None else g.control,
        cuped_reduction=0.0 if m is None or not m.cuped.applied else m.cuped.variance_reduction,
    )  # fmt: skip


def _sd(m: MetricResult | None) -> float:
    """Per-unit sd behind a metric's standard error (0 when not measured)."""
    if m is None or min(m.n_control, m.n_treatment) == 0:
        return 0.0
    return m.se / float(np.sqrt(1 / m.n_control + 1 / m.n_treatment))


def _run_one(args: tuple[Design, int]) -> BenchCase:
    return run_case(*args)


def run_bench(
    n: int,
    seed: int = 0,
    workers: int | None = None,
    daily_users: int = 4_000,
    progress: Callable[[int, int], None] | None = None,
) -> list[BenchCase]:
    """Run `n` designs (in `workers` processes; 1 = in this process)."""
    todo = [(d, daily_users) for d in designs(n, seed)]
    workers = workers or min(2, os.cpu_count() or 1)
    cases: list[BenchCase] = []
    if workers == 1:
        for args in todo:
            cases.append(_run_one(args))
            if progress:
                progress(len(cases), n)
        return cases
    with ProcessPoolExecutor(workers) as pool:
        for case in pool.map(_run_one, todo):
            cases.append(case)
            if progress:
                progress(len(cases), n)
    return cases


def _rate(hits: int, total: int) -> float | None:
    return None if total == 0 else hits / total


def fixed_horizon_units(case: BenchCase, power: float, alpha: float, margin: float) -> int:
    """Units a fixed-horizon test needs for the whole rule at `power` (`stats.plan_sample_size`:
    the primary at its true effect, the guardrail's non-inferiority at its true distance from
    the margin)."""
    success = PlannedMetric(name="primary", sd=case.primary_sd,
                            effect=abs(case.true_effect * case.control_mean))  # fmt: skip
    distance = max(margin + case.true_guardrail, 1e-3) * abs(case.guardrail_mean)
    guards = [PlannedMetric(name="guardrail", sd=case.guardrail_sd, effect=distance)] if (
        case.guardrail_sd > 0 and distance > 0) else []  # fmt: skip
    return 2 * plan_sample_size([success], guards, alpha=alpha, power=power).n_per_arm


def _fixed_horizon(
    cases: Sequence[BenchCase], power: float, alpha: float, margin: float
) -> float | None:
    """Mean units a fixed-horizon test of `power` needs at each case's true effects."""
    sizes = [fixed_horizon_units(c, power, alpha, margin) for c in cases
             if c.true_effect and c.primary_sd > 0 and c.control_mean]  # fmt: skip
    return float(np.mean(sizes)) if sizes else None


def summarize(
    cases: Sequence[BenchCase], alpha: float = 0.05, margin: float = 0.03
) -> dict[str, Any]:
    """The benchmark's figures (see the module docstring); rates are None without cases."""

    def ships(rows: Sequence[BenchCase]) -> int:
        return sum(c.decision == "ship" for c in rows)

    not_beneficial = [c for c in cases if c.truth != "beneficial" or c.kind in ("srm", "novelty")]
    srm = [c for c in cases if c.kind == "srm"]
    confusion = {
        truth: {d: sum(c.truth == truth and c.decision == d for c in cases) for d in DECISIONS}
        for truth in ("beneficial", "null", "harmful", "guardrail_harm")
    }
    power: dict[str, Any] = {}
    for kind in sorted({c.kind for c in cases if c.truth == "beneficial"} - {"srm", "novelty"}):
        rows = [c for c in cases if c.kind == kind and c.truth == "beneficial"]
        p = ships(rows) / len(rows)
        used = float(np.mean([c.samples_used for c in rows]))
        fixed = _fixed_horizon(rows, min(p, 0.99), alpha, margin) if p >= 0.5 else None
        power[kind] = {
            "n": len(rows), "power": p,
            "mean_true_effect": float(np.mean([c.true_effect for c in rows])),
            "samples_used": used, "fixed_horizon_samples": fixed,
            "saving_vs_fixed": None if fixed is None else 1 - used / fixed,
        }  # fmt: skip
    savings = [v["saving_vs_fixed"] for v in power.values() if v["saving_vs_fixed"] is not None]
    return {
        "n": len(cases),
        "confusion": confusion,
        "by_kind": {
            k: {d: sum(c.kind == k and c.decision == d for c in cases) for d in DECISIONS}
            for k in sorted({c.kind for c in cases})
        },
        "false_ship_rate": _rate(ships(not_beneficial), len(not_beneficial)),
        "power": power,
        "srm_detection_rate": _rate(sum(c.stop_reason == "srm" for c in srm), len(srm)),
        "novelty_only_ship_rate": _rate(*_kind_ships(cases, "novelty")),
        "guardrail_harm_ship_rate": _rate(
            ships([c for c in cases if c.truth == "guardrail_harm"]),
            sum(c.truth == "guardrail_harm" for c in cases),
        ),
        "samples_used_share": _rate(
            sum(c.samples_used for c in cases), sum(c.samples_planned for c in cases)
        ),
        "mean_saving_vs_fixed_at_equal_power": float(np.mean(savings)) if savings else None,
        "cuped_variance_reduction": float(np.mean([c.cuped_reduction for c in cases]))
        if cases
        else None,
    }


def _kind_ships(cases: Sequence[BenchCase], kind: str) -> tuple[int, int]:
    rows = [c for c in cases if c.kind == kind]
    return sum(c.decision == "ship" for c in rows), len(rows)
