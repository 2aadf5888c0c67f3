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
- samples, in two units — distinct units (returning users arrive in a test's first days) and
  sessions served the treatment (the exposed traffic an early stop saves): the mean used over
  the planned horizon's, and, per beneficial design with power p, against a fixed-horizon test
  of equal power. The fixed-horizon comparator is measured, not
  modelled: every test of a `+` design is also analysed once per day D as a single fixed-horizon
  look (Welch, the same α, the same rule with its burn-in and guardrails, the same simulated
  tests, so the same true effects); its power at D is the ship rate over the design's tests
  (made monotone in D), and the fixed horizon of equal power is the first D whose power reaches
  p (units and sessions interpolated between days). When even the last day's fixed look has
  less power than the sequential test, the saving is at least that against the whole horizon
  (a lower bound, used as such in the mean). The same comparison in test days (stop day + 1
  against the fixed look's day + 1) is reported beside it: units arrive front-loaded
  (returning users), so units, sessions and duration tell different stories;
- every test against one fixed-horizon design of equal power: its horizon is the longest any
  beneficial design needs for the fixed look to match the sequential power, and every test
  (wins, nulls, harms, SRM bugs) would run that long. This is where futility and veto stops
  count: a sequential design saves most on the tests that will not ship.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.agents.bench_scenarios import BaseLists, Design, Kind, Truth, designs, label_truth
from recloop.agents.evaluate import EvaluationAgent, available_days, exposed_until
from recloop.agents.online import EvaluationPlan
from recloop.sim.config import SimConfig, TrafficConfig
from recloop.sim.truth import SyntheticTruth, synthetic_truth
from recloop.stats.analysis import analyze_look, parse_guardrail, resolve_look
from recloop.stats.futility import DEFAULT_MIN_EFFECT
from recloop.stats.tables.contract import validate
from recloop.stats.tables.warehouse import open_source
from recloop.workspace.manifest import OnlineSettings

SETTINGS = OnlineSettings(traffic_fraction=0.5, duration_days=14)
DECISIONS = ("ship", "no_ship", "inconclusive")
FIXED_CURVE_KINDS = frozenset({"small+", "medium+", "large+"})  # beneficial by design


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
    sessions_used: int  # sessions served the treatment up to the stop
    sessions_planned: int
    cuped_reduction: float
    fixed_ships: tuple[bool, ...] = ()  # one fixed-horizon look at day D ships (+ designs)
    units_by_day: tuple[int, ...] = ()  # units exposed by the end of day D
    sessions_by_day: tuple[int, ...] = ()  # sessions served the treatment by then


def bench_config(daily_users: int = 4_000) -> SimConfig:
    return SimConfig(traffic=TrafficConfig(daily_users=daily_users), pre_days=5,
                     oracle_daily_users=3_000)  # fmt: skip


@lru_cache(maxsize=1)
def _world() -> tuple[SyntheticTruth, BaseLists]:
    truth = synthetic_truth()
    return truth, BaseLists.build(truth.train, bench_config().response.candidates)


def run_case(
    design: Design, daily_users: int = 4_000, min_effect: float | None = DEFAULT_MIN_EFFECT
) -> BenchCase:
    """Simulate one design, let the agent decide, label the truth."""
    truth, lists = _world()
    plan = EvaluationPlan()
    base = bench_config(daily_users).model_copy(update={"faults": design.faults})
    keep = Path(tempfile.mkdtemp(prefix="recloop-bench-"))
    agent = EvaluationAgent(plan, base, truth=truth, workdir=keep)
    control, treatment = design.policies(lists)
    settings = SETTINGS.model_copy(update={"seed": design.seed, "min_effect": min_effect or 0.0})
    experiment = f"bench-{design.index}"
    try:
        out = agent.evaluate(control, treatment, settings, f"bench {design.kind} #{design.index}",
                             experiment=experiment)  # fmt: skip
        assert out.truth is not None and out.tables is not None
        units, sessions = exposure_by_day(out.tables, experiment, plan)
        ships = (fixed_horizon_ships(out.tables, experiment, plan)
                 if design.kind in FIXED_CURVE_KINDS else ())  # fmt: skip
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    guard = parse_guardrail(plan.guardrails[0])
    label, effect, g_rel = label_truth(out.truth, plan.primary[0], guard.metric, guard.margin)
    a = out.attribution
    m = a.analysis.metrics.get(plan.primary[0])
    return BenchCase(
        index=design.index, kind=design.kind, truth=label, true_effect=effect,
        true_guardrail=g_rel, decision=out.decision, stop_reason=a.stop.reason,
        stop_day=a.stop.day, samples_used=a.samples.used, samples_planned=a.samples.planned,
        sessions_used=a.samples.sessions_used, sessions_planned=a.samples.sessions_planned,
        cuped_reduction=0.0 if m is None or not m.cuped.applied else m.cuped.variance_reduction,
        fixed_ships=ships, units_by_day=units, sessions_by_day=sessions,
    )  # fmt: skip


def exposure_by_day(
    source: str, experiment: str, plan: EvaluationPlan
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per test day D: the units exposed and the sessions served the treatment by its end."""
    with open_source(source) as wh:
        info = validate(wh, experiment, pre_days=plan.pre_days)
        exposed = [exposed_until(wh, info, d) for d in range(available_days(info))]
    return tuple(e[0] for e in exposed), tuple(e[1] for e in exposed)


def fixed_horizon_ships(source: str, experiment: str, plan: EvaluationPlan) -> tuple[bool, ...]:
    """Per test day D: would one fixed-horizon look at D ship? A fixed test must also run a
    full `min_ship_day` cycle, so it cannot ship on an earlier day."""
    with open_source(source) as wh:
        info = validate(wh, experiment, pre_days=plan.pre_days)
        settings = plan.settings().model_copy(update={"inference": "fixed"})
        looks = [analyze_look(wh, info, settings, resolve_look(info, d), diagnose=False)
                 for d in range(available_days(info))]  # fmt: skip
    return tuple(a.decision == "ship" and d >= plan.min_ship_day for d, a in enumerate(looks))


def _run_one(args: tuple[Design, int, float | None]) -> BenchCase:
    return run_case(*args)


def run_bench(
    n: int,
    seed: int = 0,
    workers: int | None = None,
    daily_users: int = 4_000,
    progress: Callable[[int, int], None] | None = None,
    kinds: Sequence[Kind] | None = None,
    min_effect: float | None = DEFAULT_MIN_EFFECT,
) -> list[BenchCase]:
    """Run `n` designs (in `workers` processes; 1 = in this process), only of `kinds` if given;
    `min_effect` is the plan's futility threshold (None: no futility stops)."""
    todo = [(d, daily_users, min_effect) for d in designs(n, seed, kinds)]
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


class FixedHorizon(BaseModel):
    """What a fixed-horizon look of a given power needs (interpolated between days)."""

    model_config = ConfigDict(frozen=True)

    units: float
    sessions: float
    days: float
    reached: bool  # False: even the whole horizon has less power (its figures: a lower bound)


def fixed_horizon_samples(cases: Sequence[BenchCase], power: float) -> FixedHorizon:
    """Units, treatment sessions and test days a fixed-horizon look needs to ship with `power`
    over these tests (if the horizon never reaches it: the whole horizon's, a lower bound)."""
    rows = [c for c in cases if c.fixed_ships]
    days = min(len(c.fixed_ships) for c in rows)
    curve = np.maximum.accumulate(np.mean([c.fixed_ships[:days] for c in rows], axis=0))
    units = np.mean([c.units_by_day[:days] for c in rows], axis=0)
    sessions = np.mean([c.sessions_by_day[:days] for c in rows], axis=0)
    reached = np.flatnonzero(curve >= power - 1e-12)
    if not len(reached):
        return FixedHorizon(units=units[-1], sessions=sessions[-1], days=days, reached=False)
    d = int(reached[0])
    share = 1.0 if d == 0 or curve[d] == curve[d - 1] else (
        (power - curve[d - 1]) / (curve[d] - curve[d - 1]))  # fmt: skip
    lo = d - 1 if d else d
    units_at, sessions_at = (float(x[lo] + share * (x[d] - x[lo])) for x in (units, sessions))
    return FixedHorizon(units=units_at, sessions=sessions_at, days=d + share, reached=True)


def summarize(cases: Sequence[BenchCase]) -> dict[str, Any]:
    """The benchmark's figures (see the module docstring); rates are None without cases."""

    def ships(rows: Sequence[BenchCase]) -> int:
        return sum(c.decision == "ship" for c in rows)

    not_beneficial = [c for c in cases if c.truth != "beneficial" or c.kind in ("srm", "novelty")]
    srm = [c for c in cases if c.kind == "srm"]
    confusion = {
        truth: {d: sum(c.truth == truth and c.decision == d for c in cases) for d in DECISIONS}
        for truth in ("beneficial", "null", "harmful", "guardrail_harm")
    }
    power = {kind: _power([c for c in cases if c.kind == kind and c.truth == "beneficial"])
             for kind in sorted({c.kind for c in cases if c.truth == "beneficial"}
                                - {"srm", "novelty"})}  # fmt: skip

    def mean_of(key: str) -> float | None:
        values = [v[key] for v in power.values() if v[key] is not None]
        return float(np.mean(values)) if values else None

    return {
        "n": len(cases),
        "confusion": confusion,
        "by_kind": {
            k: {d: sum(c.kind == k and c.decision == d for c in cases) for d in DECISIONS}
            for k in sorted({c.kind for c in cases})
        },
        "stops": stops_by_kind(cases),
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
        "sessions_used_share": _rate(
            sum(c.sessions_used for c in cases), sum(c.sessions_planned for c in cases)
        ),
        "mean_saving_vs_fixed_at_equal_power": mean_of("saving_vs_fixed"),
        "mean_session_saving_vs_fixed_at_equal_power": mean_of("session_saving_vs_fixed"),
        "mean_day_saving_vs_fixed_at_equal_power": mean_of("day_saving_vs_fixed"),
        "all_tests_vs_fixed_design": fixed_design_saving(cases, power),
        "cuped_variance_reduction": float(np.mean([c.cuped_reduction for c in cases]))
        if cases
        else None,
    }


def stops_by_kind(cases: Sequence[BenchCase]) -> dict[str, dict[str, dict[str, float]]]:
    """Per design and stop reason: how many tests stopped so, on which test day on average."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for kind in sorted({c.kind for c in cases}):
        rows = [c for c in cases if c.kind == kind]
        out[kind] = {
            reason: {"n": len(days), "mean_day": float(np.mean(days))}
            for reason in sorted({c.stop_reason for c in rows})
            for days in [[c.stop_day for c in rows if c.stop_reason == reason]]
        }
    return out


def fixed_design_saving(
    cases: Sequence[BenchCase], power: dict[Kind, dict[str, Any]]
) -> dict[str, Any] | None:
    """Every test against one fixed-horizon design of equal power: the fixed horizon is the
    longest any beneficial design needs for its fixed look to reach the sequential power (so
    the fixed design has at least that power on each), and every test — wins, nulls, harms,
    SRM bugs — runs that long; the sequential test uses what it used up to its stop. None
    without a beneficial design with a measured fixed-look curve and some power."""
    rows = {k: [c for c in cases if c.kind == k and c.truth == "beneficial"] for k in power}
    needs = [fixed_horizon_samples(rows[k], p["power"]) for k, p in power.items()
             if p["power"] > 0 and any(c.fixed_ships for c in rows[k])]  # fmt: skip
    measured = [c for c in cases if c.units_by_day]
    if not needs or not measured:
        return None
    days = max(f.days for f in needs)

    def at(by_day: tuple[int, ...]) -> float:
        return float(np.interp(days - 1, np.arange(len(by_day)), by_day))

    fixed_units = sum(at(c.units_by_day) for c in measured)
    fixed_sessions = sum(at(c.sessions_by_day) for c in measured)
    return {
        "n": len(measured), "fixed_days": days, "reached": all(f.reached for f in needs),
        "unit_saving": 1 - sum(c.samples_used for c in measured) / fixed_units,
        "session_saving": 1 - sum(c.sessions_used for c in measured) / fixed_sessions,
        "day_saving": 1 - sum(c.stop_day + 1 for c in measured) / (days * len(measured)),
    }  # fmt: skip


def _power(rows: Sequence[BenchCase]) -> dict[str, Any]:
    """One beneficial design's power and its use of units, sessions and days against a
    fixed-horizon look of equal power (measured when any test has the fixed-look curve)."""
    p = sum(c.decision == "ship" for c in rows) / len(rows)
    used = {"samples": float(np.mean([c.samples_used for c in rows])),
            "sessions": float(np.mean([c.sessions_used for c in rows])),
            "days": float(np.mean([c.stop_day + 1 for c in rows]))}  # fmt: skip
    fixed = (fixed_horizon_samples(rows, p) if p > 0 and any(c.fixed_ships for c in rows)
             else None)  # fmt: skip
    at = {} if fixed is None else {"samples": fixed.units, "sessions": fixed.sessions,
                                    "days": fixed.days}  # fmt: skip
    saving = {k: None if fixed is None else 1 - used[k] / at[k] for k in used}
    return {
        "n": len(rows), "power": p,
        "mean_true_effect": float(np.mean([c.true_effect for c in rows])),
        "samples_used": used["samples"], "fixed_horizon_samples": at.get("samples"),
        "fixed_reaches_power": fixed is not None and fixed.reached,
        "saving_vs_fixed": saving["samples"],
        "sessions_used": used["sessions"], "fixed_horizon_sessions": at.get("sessions"),
        "session_saving_vs_fixed": saving["sessions"],
        "days_used": used["days"], "fixed_horizon_days": at.get("days"),
        "day_saving_vs_fixed": saving["days"],
    }  # fmt: skip


def _kind_ships(cases: Sequence[BenchCase], kind: str) -> tuple[int, int]:
    rows = [c for c in cases if c.kind == kind]
    return sum(c.decision == "ship" for c in rows), len(rows)
