"""The `recloop evaluate` command: the Evaluation agent on a real experiment's tables.

`recloop analyze` answers "what do the tables say at this look?"; `recloop evaluate` replays
what the agent does with a running test — one group-sequential look per test day until its
stopping rule fires (SRM, harm, a decisive ship, futility) or the tables end — and prints the
course of the looks, the stop and the attribution at the stop look. The tables are read-only
and checked against the contract first; bad tables or options exit with code 2.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from recloop.agents.evaluate import evaluate_source
from recloop.agents.online import EvaluationPlan, OnlineAttribution
from recloop.console import progress_bar
from recloop.stats.commands import COLOURS, print_attribution
from recloop.stats.futility import DEFAULT_MIN_EFFECT
from recloop.stats.tables.errors import TableError


def looks_table(a: OnlineAttribution) -> Table:
    """One row per daily look: units, the primary's lift with its interval, the decision."""
    table = Table(title=f"Daily looks ({a.plan.primary[0]}, group-sequential intervals)")
    for column in ("day", "ramp", "units", "lift", "interval", "decision"):
        table.add_column(column, justify="right")
    for look in a.looks:
        lift = "" if look.primary_effect is None else f"{look.primary_effect:+.1%}"
        ci = (
            ""
            if look.primary_ci is None
            else f"{look.primary_ci[0]:+.0%}…{look.primary_ci[1]:+.0%}"
        )
        ramp = "" if look.ramp_share is None else f"{look.ramp_share:.0%}"
        colour = COLOURS[look.decision]
        table.add_row(str(look.day), ramp, f"{look.units:,}", lift, ci,
                      f"[{colour}]{look.decision}[/]")  # fmt: skip
    return table


def register(app: typer.Typer) -> None:
    """Add the `evaluate` command to a Typer app."""
    err, stdout = Console(stderr=True), Console()

    @app.command("evaluate")
    def evaluate_command(
        source: Annotated[
            str,
            typer.Option(help="A DuckDB file, a folder of Parquet files or a SQLAlchemy URL."),
        ],
        experiment: Annotated[str, typer.Option(help="The experiment's name in assignments.")],
        horizon_days: Annotated[
            int | None,
            typer.Option(min=1, help="The planned test days (default: the days the tables cover)."),
        ] = None,
        alpha: Annotated[float, typer.Option(min=0.0001, max=0.4999)] = 0.05,
        min_effect: Annotated[
            float,
            typer.Option(
                min=0.0, help="Smallest relative lift worth shipping, for futility stops (0: off)."
            ),
        ] = DEFAULT_MIN_EFFECT,
        change: Annotated[str, typer.Option(help="What the treatment changed (recorded).")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Run the Evaluation agent on a real experiment's tables: daily looks, stop, decision."""
        plan = EvaluationPlan(min_effect=min_effect or None)
        try:
            with progress_bar(err, "daily looks") as progress:
                outcome = evaluate_source(source, experiment, plan, horizon_days=horizon_days,
                                          change_summary=change, alpha=alpha,
                                          progress=progress)  # fmt: skip
        except (TableError, ValueError) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from exc
        if as_json:
            print(json.dumps(outcome.report(), sort_keys=True, allow_nan=False))
            return
        stdout.print(looks_table(outcome))
        print_attribution(stdout, outcome.analysis)
        stdout.print(outcome.explanation.splitlines()[0], highlight=False, markup=False)
