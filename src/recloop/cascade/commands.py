"""The `recloop bench cascade` command: the planted-fault corpus through the cascade, measured.

`register(app)` adds a `bench` group to the root app (or joins the one another part of recloop
already added) with the `cascade` command. The figures go to stdout (a table, or one JSON object
with `--json`); progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from recloop.cascade.bench import BenchReport, run_bench
from recloop.cascade.settings import CascadeSettings
from recloop.console import progress_bar
from recloop.recsys.datadir import DataUnavailableError

BENCH_GROUP = "bench"


def register(app: typer.Typer) -> None:
    """Add `bench cascade` to the root app (a `bench` group shared with other benchmarks)."""
    group = next(
        (
            info.typer_instance
            for info in app.registered_groups
            if info.name == BENCH_GROUP and info.typer_instance is not None
        ),
        None,
    )
    if group is None:
        group = typer.Typer(help="Benchmarks of recloop's own machinery.", no_args_is_help=True)
        app.add_typer(group, name=BENCH_GROUP)
    group.command("cascade")(bench_cascade_command)


def bench_cascade_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="Only these corpus cases (repeatable).")
    ] = None,
    offline_only: Annotated[
        bool,
        typer.Option(
            "--offline-only/--no-offline-only",
            help="Also judge each rejected candidate by the offline stage alone (the cost "
            "without the cascade).",
        ),
    ] = True,
    workdir: Annotated[
        Path | None,
        typer.Option("--dir", file_okay=False, help="Where to make the corpus workspace."),
    ] = None,
) -> None:
    """Run the planted-fault corpus through the cascade and print what the cascade buys."""
    err = Console(stderr=True)
    try:
        with progress_bar(err, "cascade corpus") as bar:
            report = run_bench(
                workdir,
                case,
                offline_only=offline_only,
                settings=CascadeSettings(),
                progress=lambda _case, done, total: bar(done, total),
            )
    except (ValueError, DataUnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        Console().print(figures_table(report))
        if report.mismatches:
            typer.echo("\n".join(["mismatches:", *report.mismatches]))
    if report.mismatches or report.silent_failure_rate > 0:
        raise typer.Exit(2)


def figures_table(report: BenchReport) -> Table:
    """The headline figures, one per row."""
    table = Table(title=f"Cascade on the planted-fault corpus ({report.n_cases} candidates)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("effective pass rate (good reaching online)", f"{report.effective_pass_rate:.0%}"),
        ("silent failure rate (bad reaching online)", f"{report.silent_failure_rate:.0%}"),
        ("bad rejected before the offline stage", f"{report.rejected_before_offline:.0%}"),
        *(
            (f"rejections at {stage}", str(count))
            for stage, count in report.rejections_per_stage.items()
        ),
        ("cascade s on rejected candidates", f"{report.cascade_seconds_on_rejected:.1f}"),
        ("offline-only s for the same", _fmt(report.offline_only_seconds_on_rejected, ".1f")),
        ("compute saved", _fmt(report.compute_saved, ".0%")),
        ("one offline evaluation, s", f"{report.offline_evaluation_seconds:.2f}"),
        ("median rejection, s", f"{report.median_rejection_seconds:.3f}"),
        ("median rejection / offline evaluation", f"{report.median_rejection_share:.0%}"),
        ("isolation", report.isolation),
        ("total s", f"{report.total_seconds:.0f}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
