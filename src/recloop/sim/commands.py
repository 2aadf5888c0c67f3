"""The `recloop sim` command: run one simulated A/B test, print what it saw and the truth.

Registered on the root app by `register(app)`, so the CLI module only wires commands together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from recloop.console import choice, stage_progress
from recloop.recsys.datadir import DataUnavailableError
from recloop.sim.config import (
    FAULT_NAMES,
    WORLD_NAMES,
    ExperimentConfig,
    FaultConfig,
    SimConfig,
    TrafficConfig,
)
from recloop.sim.metrics import METRIC_NAMES
from recloop.sim.policies import POLICY_NAMES
from recloop.sim.simulate import SimulationResult, simulate


def parse_faults(text: str) -> frozenset[str]:
    """ "a,b" -> {"a", "b"}; unknown names are an error that lists the known ones."""
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - set(FAULT_NAMES))
    if unknown:
        raise typer.BadParameter(
            f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULT_NAMES)}"
        )
    return names


def parse_ramp(text: str) -> tuple[tuple[int, float], ...]:
    """ "0:0.01,2:0.1,4:0.5" -> ((0, 0.01), (2, 0.1), (4, 0.5))."""
    steps = []
    for part in text.split(","):
        day, sep, share = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError(part)
            steps.append((int(day), float(share)))
        except ValueError:
            raise typer.BadParameter(
                f"ramp step {part.strip()!r} is not DAY:SHARE (e.g. 0:0.01,2:0.1,4:0.5)"
            ) from None
    return tuple(steps)


def arms_table(result: SimulationResult) -> Table:
    """What the tables say, per arm, with the naive difference."""
    arms, observed = result.summary["arms"], result.summary["observed"]
    table = Table(title=f"{result.config.experiment.name}: observed in the tables")
    table.add_column("metric", no_wrap=True)
    variants = [v for v in ("control", "treatment", "holdout") if v in arms]
    for variant in variants:
        table.add_column(variant, justify="right")
    table.add_column("diff ± se", justify="right")
    table.add_row("units", *(f"{int(arms[v]['units']):,}" for v in variants), "")
    for name in METRIC_NAMES:
        row = observed[name]
        table.add_row(
            name,
            *(f"{arms[v][name]:.4g}" for v in variants),
            f"{row['effect']:+.3g} ± {row['se']:.2g}",
        )
    return table


def truth_table(result: SimulationResult) -> Table:
    """The oracle's true effects."""
    assert result.truth is not None
    truth = result.report()["truth"]
    table = Table(title=f"True effects (oracle, {truth['units']:,} paired units)")
    table.add_column("metric", no_wrap=True)
    for column in ("control", "treatment", "effect", "± se", "settled"):
        table.add_column(column, justify="right")
    for name, row in truth["metrics"].items():
        table.add_row(
            name,
            f"{row['control']:.4g}",
            f"{row['treatment']:.4g}",
            f"{row['effect']:+.3g}",
            f"{row['se']:.2g}",
            f"{row['effect_without_novelty']:+.3g}",
        )
    table.caption = "settled: the effect without the treatment's novelty lift"
    return table


def register(app: typer.Typer) -> None:
    """Add the `sim` command to a Typer app."""
    err, stdout = Console(stderr=True), Console()

    @app.command("sim")
    def sim_command(
        world: Annotated[str, typer.Option(help=f"World: {', '.join(WORLD_NAMES)}.")] = (
            "synthetic"
        ),
        policy_a: Annotated[
            str, typer.Option(help=f"Control policy: {', '.join(POLICY_NAMES)}.")
        ] = "pop",
        policy_b: Annotated[
            str, typer.Option(help="Treatment policy; the control's name = an A/A test.")
        ] = "ease",
        days: Annotated[int, typer.Option(min=1, max=365, help="Test days.")] = 14,
        pre_days: Annotated[int, typer.Option(min=0, help="Logged days before the test.")] = 7,
        traffic: Annotated[int, typer.Option(min=10, help="Daily active users.")] = 5_000,
        faults: Annotated[
            str, typer.Option(help=f"Comma-separated faults: {', '.join(FAULT_NAMES)}.")
        ] = "",
        ramp: Annotated[
            str,
            typer.Option(help="DAY:SHARE steps of the test's traffic, e.g. 0:0.01,2:0.1,4:0.5."),
        ] = "0:1",
        treatment_share: Annotated[float, typer.Option(help="Treatment share in the test.")] = 0.5,
        holdout: Annotated[float, typer.Option(help="Share of users held out.")] = 0.0,
        experiment: Annotated[str, typer.Option(help="Experiment name (hash salt).")] = "exp-1",
        oracle_traffic: Annotated[
            int, typer.Option(min=0, help="Daily users of the oracle; 0 = no oracle.")
        ] = 20_000,
        out: Annotated[
            Path | None, typer.Option(help="DuckDB file to write the tables to.")
        ] = None,
        parquet: Annotated[Path | None, typer.Option(help="Folder for Parquet copies.")] = None,
        overwrite: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
        seed: Annotated[int, typer.Option(min=0, help="Seed of world, traffic and draws.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Simulate an A/B test of two policies; print per-arm summaries and the true effects.

        Writes the assignments, exposures and events tables (the warehouse contract) to --out.
        """
        try:
            config = SimConfig(
                world=choice(world, WORLD_NAMES, "world"),  # type: ignore[arg-type]
                policy_a=choice(policy_a, POLICY_NAMES, "policy"),
                policy_b=choice(policy_b, POLICY_NAMES, "policy"),
                days=days,
                pre_days=pre_days,
                seed=seed,
                traffic=TrafficConfig(daily_users=traffic),
                experiment=ExperimentConfig(
                    name=experiment,
                    ramp=parse_ramp(ramp),
                    treatment_share=treatment_share,
                    holdout=holdout,
                ),
                faults=FaultConfig(enabled=parse_faults(faults)),  # type: ignore[arg-type]
                oracle_daily_users=oracle_traffic,
            )
        except ValidationError as exc:
            messages = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise typer.BadParameter(messages) from None
        try:
            with stage_progress(err) as progress:
                result = simulate(config, out=out, parquet=parquet, overwrite=overwrite,
                                  progress=progress)  # fmt: skip
        except (DataUnavailableError, FileExistsError, ValueError) as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        if as_json:
            print(json.dumps(result.report(), sort_keys=True, allow_nan=False))
            return
        stdout.print(arms_table(result))
        if result.truth is not None:
            stdout.print(truth_table(result))
        report = result.report()
        serving = ", ".join(
            f"{name} {v['ms_per_1000_users']:.1f} ms" for name, v in report["serving"].items()
        )
        err.print(
            f"{report['sessions']:,} sessions in {report['seconds']['run']:.1f} s "
            f"({report['sessions_per_minute']:,} a minute); serving per 1,000 users: {serving}"
            + (f"; tables in {out}" if out else "")
        )
