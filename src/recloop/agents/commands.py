"""The agents' commands: `recloop bench attribution` (added to a given `bench` group).

The figures go to stdout (rich tables, or one JSON object with `--json`); progress to stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from recloop.agents.bench_attribution import DECISIONS, run_bench, summarize
from recloop.agents.bench_scenarios import MIX
from recloop.console import progress_bar
from recloop.stats.futility import DEFAULT_MIN_EFFECT


def register_bench(bench: typer.Typer) -> None:
    """Add the `attribution` command to the `bench` group."""
    bench.command("attribution")(bench_attribution_command)


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def print_summary(console: Console, s: dict[str, Any]) -> None:
    confusion = Table(title=f"Decisions vs truth ({s['n']} simulated tests)")
    confusion.add_column("truth \\ decision")
    for d in DECISIONS:
        confusion.add_column(d, justify="right")
    for truth, row in s["confusion"].items():
        confusion.add_row(truth, *(str(row[d]) for d in DECISIONS))
    console.print(confusion)
    kinds = Table(title="Decisions per design")
    kinds.add_column("design")
    for d in DECISIONS:
        kinds.add_column(d, justify="right")
    for kind, row in s["by_kind"].items():
        kinds.add_row(kind, *(str(row[d]) for d in DECISIONS))
    console.print(kinds)
    stops = Table(title="Why and when tests stopped (tests, mean test day)")
    stops.add_column("design")
    stops.add_column("stops")
    for kind, reasons in s["stops"].items():
        said = [f"{r.replace('_', ' ')} {v['n']:.0f} (day {v['mean_day']:.1f})"
                for r, v in reasons.items()]  # fmt: skip
        stops.add_row(kind, ", ".join(said))
    console.print(stops)
    power = Table(title="Power per true effect (beneficial tests; fixed: measured single looks)")
    for column in ("design", "n", "true effect", "power", "units used", "fixed @ equal power",
                   "saving", "treatment sessions", "fixed @ equal power", "saving"):  # fmt: skip
        power.add_column(column, justify="right")
    for kind, p in s["power"].items():
        more = "" if p["fixed_reaches_power"] else "> "
        cells = []
        for used, fixed, saving in (("samples_used", "fixed_horizon_samples", "saving_vs_fixed"),
                                    ("sessions_used", "fixed_horizon_sessions",
                                     "session_saving_vs_fixed")):  # fmt: skip
            cells += [f"{p[used]:,.0f}",
                      "n/a" if p[fixed] is None else f"{more}{p[fixed]:,.0f}",
                      ("≥ " if more else "") + _pct(p[saving])]  # fmt: skip
        power.add_row(kind, str(p["n"]), f"{p['mean_true_effect']:+.1%}", _pct(p["power"]),
                      *cells)  # fmt: skip
    console.print(power)
    rates = Table(title="Rates (goal)")
    rates.add_column("figure")
    rates.add_column("value", justify="right")
    rates.add_column("goal", justify="right")
    for label, key, goal in (
        ("false-ship rate (not beneficial)", "false_ship_rate", "≤ 5%"),
        ("SRM caught", "srm_detection_rate", "≥ 99%"),
        ("novelty-only shipped", "novelty_only_ship_rate", "≤ 5%"),
        ("guardrail harm shipped", "guardrail_harm_ship_rate", "≤ 5%"),
        ("units used / planned horizon", "samples_used_share", ""),
        ("treatment sessions used / planned horizon", "sessions_used_share", ""),
        (
            "units saved vs fixed horizon at equal power",
            "mean_saving_vs_fixed_at_equal_power",
            "≥ 30%",
        ),
        (
            "treatment sessions saved vs fixed horizon at equal power",
            "mean_session_saving_vs_fixed_at_equal_power",
            "",
        ),
        (
            "test days saved vs fixed horizon at equal power",
            "mean_day_saving_vs_fixed_at_equal_power",
            "",
        ),
        ("CUPED variance reduction (primary)", "cuped_variance_reduction", ""),
    ):
        rates.add_row(label, _pct(s[key]), goal)
    design = s["all_tests_vs_fixed_design"]
    if design is not None:
        at_least = "" if design["reached"] else "≥ "
        label = f"all tests vs one fixed design of equal power ({design['fixed_days']:.1f} days)"
        for unit, key, goal in (("units", "unit_saving", "≥ 30%"),
                                ("treatment sessions", "session_saving", "≥ 30%"),
                                ("test days", "day_saving", "")):  # fmt: skip
            rates.add_row(f"{unit} saved, {label}", at_least + _pct(design[key]), goal)
    console.print(rates)


def bench_attribution_command(
    n: Annotated[int, typer.Option("--n", min=1, help="Simulated tests.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the designs' simulations.")] = 0,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes (default: up to 2).")
    ] = None,
    daily_users: Annotated[int, typer.Option(min=100, help="Daily users per test.")] = 4_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    min_effect: Annotated[
        float,
        typer.Option(min=0.0, help="The plan's minimum relative lift for futility (0: off)."),
    ] = DEFAULT_MIN_EFFECT,
    kinds: Annotated[
        list[str] | None,
        typer.Option("--design", help=f"Only these designs (repeatable): {', '.join(MIX)}."),
    ] = None,
) -> None:
    """Simulate N tests with known truth and measure the Evaluation agent's decisions."""
    unknown = sorted(set(kinds or ()) - set(MIX))
    if unknown:
        raise typer.BadParameter(f"unknown designs {unknown}", param_hint="--design")
    err = Console(stderr=True)
    with progress_bar(err, "simulated tests") as progress:
        cases = run_bench(n, seed, workers, daily_users, progress, kinds, min_effect or None)  # type: ignore[arg-type]
    summary = summarize(cases)
    if as_json:
        summary["cases"] = [c.model_dump() for c in cases]
        print(json.dumps(summary, sort_keys=True, allow_nan=False))
    else:
        print_summary(Console(), summary)
