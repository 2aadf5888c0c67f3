"""The `recloop analyze` command: an experiment's tables in, the attribution out.

Registered on the root app by `register(app)`. Human output is rich tables on stdout (progress and
errors on stderr); `--json` prints the attribution as one JSON object. A source that cannot be
opened, tables that break the contract, or bad options exit with code 2 and a message naming
what is wrong.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from recloop.stats.analysis import DEFAULT_GUARDRAILS, DEFAULT_PRIMARY, AsOf, analyze
from recloop.stats.attribution import DEFAULT_BURN_IN, Attribution
from recloop.stats.metrics import METRIC_NAMES
from recloop.stats.tables.contract import DEFAULT_PRE_DAYS
from recloop.stats.tables.errors import TableError

COLOURS = {"ship": "green", "no_ship": "red", "inconclusive": "yellow"}


def parse_as_of(text: str | None) -> AsOf:
    """'3' -> test day 3; anything else is an ISO time, left to `analyze` to parse."""
    if text is None:
        return None
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else text.strip()


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:+.1%}"


def metrics_table(a: Attribution) -> Table:
    """Every metric: arm values, relative effect with its interval, p-value, CUPED gain."""
    level = f"{1 - a.settings.alpha:.0%}"
    table = Table(
        title=f"Effects ({a.settings.inference} inference, {level} intervals)",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        caption="bold: primary · CUPED: variance removed by the pre-period covariate",
    )
    table.add_column("metric", no_wrap=True)
    for column in ("control → treatment", "relative", f"{level} CI", "p", "CUPED"):
        table.add_column(column, justify="right", no_wrap=True)
    for m in a.metrics.values():
        relative, ci = f"{m.effect:+.3g}", f"{m.ci_low:+.3g}…{m.ci_high:+.3g}"
        if m.relative_effect is not None:
            relative = f"{m.relative_effect:+.1%}"
            ci = f"{m.relative_ci_low:+.0%}…{m.relative_ci_high:+.0%}"
        table.add_row(
            m.name,
            f"{m.control:.3g} → {m.treatment:.3g}",
            relative,
            ci,
            f"{m.p_value:.2g}",
            f"-{m.cuped.variance_reduction:.0%}" if m.cuped.applied else "",
            style="bold" if m.role == "primary" else None,
        )
    return table


def guardrails_table(a: Attribution) -> Table:
    table = Table(title="Guardrails (non-inferiority)")
    for column in ("metric", "margin", "change", "worst plausible", "non-inferior", "harmful"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for g in a.guardrails:
        rel = g.margin_kind == "relative"
        show = _pct if rel else (lambda x: f"{x:+.3g}")
        margin = f"{'-' if g.direction == 'higher' else '+'}{g.margin:.2%}" if rel else (
            f"{'-' if g.direction == 'higher' else '+'}{g.margin:.3g}")  # fmt: skip
        table.add_row(g.metric, margin, show(g.estimate), show(g.bound),
                      "yes" if g.non_inferior else "no", "YES" if g.harmful else "no")  # fmt: skip
    return table


def diagnostics_table(a: Attribution) -> Table:
    """The primaries after the burn-in, novelty, seasonality and segments, one row each."""
    table = Table(title="Diagnoses")
    for column in ("diagnosis", "metric", "finding"):
        table.add_column(column)
    for n in a.novelty:
        table.add_row("novelty", n.metric, f"{n.trend}: first {n.window} day(s) "
                      f"{n.early_effect.effect:+.3g}, last {n.window} day(s) "
                      f"{n.late_effect.effect:+.3g} (change p {n.change.p_value:.3g})")  # fmt: skip
    for name, m in a.settled.items():
        table.add_row(f"after {a.settings.burn_in_exposures} sessions", name,
                      f"{_pct(m.relative_effect)} ({_pct(m.relative_ci_low)} to "
                      f"{_pct(m.relative_ci_high)}); a ship needs it above zero")  # fmt: skip
    for s in a.seasonality:
        finding = s.verdict.replace("_", " ")
        if s.shock_days:
            finding += (f": test days {', '.join(map(str, s.shock_days))}, control "
                        f"{_pct(s.control_change)}; relative effect {_pct(s.effect_normal)} → "
                        f"{_pct(s.effect_shock)}")  # fmt: skip
        table.add_row("seasonality", s.metric, finding)
    for r in a.segments:
        parts = [f"{s.segment} {s.effect.effect:+.3g} (p adj {s.p_adjusted:.2g})"
                 + (" *" if s.heterogeneous else "") for s in r.segments]  # fmt: skip
        table.add_row(f"segments: {r.dimension}", r.metric, ", ".join(parts) or "too small")
    return table


def print_attribution(console: Console, a: Attribution) -> None:
    colour = COLOURS[a.decision]
    console.print(f"[bold {colour}]{a.decision.upper().replace('_', '-')}[/] "
                  f"{a.experiment} · {a.source}")  # fmt: skip
    if a.metrics:
        console.print(metrics_table(a))
    if a.guardrails:
        console.print(guardrails_table(a))
    if a.settled or a.novelty or a.seasonality or a.segments:
        console.print(diagnostics_table(a))
    console.print(a.explanation, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the `analyze` command to a Typer app."""
    err, stdout = Console(stderr=True), Console()

    @app.command("analyze")
    def analyze_command(
        source: Annotated[
            str,
            typer.Option(
                help="A DuckDB file, a folder of Parquet files (one per table), or a SQLAlchemy "
                "URL (sqlite:///tables.db, postgresql+psycopg://user@host/db). Read-only."
            ),
        ],
        experiment: Annotated[str, typer.Option(help="The experiment's name in assignments.")],
        primary: Annotated[
            list[str] | None,
            typer.Option(
                help=f"Primary (success) metric, repeatable; default {DEFAULT_PRIMARY[0]}. "
                f"Metrics: {', '.join(METRIC_NAMES)}."
            ),
        ] = None,
        guardrail: Annotated[
            list[str] | None,
            typer.Option(
                help="METRIC:MARGIN[:absolute], repeatable: tolerated loss (relative unless "
                f"absolute); default {' '.join(DEFAULT_GUARDRAILS)}; 'none' for no guardrail."
            ),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                help="Analyse data up to the end of this test day (0 = the start day) or before "
                "this ISO time."
            ),
        ] = None,
        sequential: Annotated[
            bool,
            typer.Option(
                "--sequential",
                help="Group-sequential intervals (O'Brien-Fleming spending over daily looks to "
                "--horizon-days): safe to look every day, the Evaluation agent's design.",
            ),
        ] = False,
        always_valid: Annotated[
            bool,
            typer.Option(
                "--always-valid", help="Confidence sequences: safe at any looks, no horizon."
            ),
        ] = False,
        horizon_days: Annotated[
            int | None,
            typer.Option(min=1, help="Planned daily looks (default: the days the tables cover)."),
        ] = None,
        burn_in: Annotated[
            int,
            typer.Option(
                min=0, help="Sessions per unit before its activity must show the gain (novelty)."
            ),
        ] = DEFAULT_BURN_IN,
        alpha: Annotated[float, typer.Option(min=0.0001, max=0.4999)] = 0.05,
        treatment_share: Annotated[
            float | None,
            typer.Option(
                help="Planned treatment share for the SRM check (default: the experiments table, "
                "else 0.5)."
            ),
        ] = None,
        pre_days: Annotated[
            int, typer.Option(min=0, help="Days before the start used as the pre-period.")
        ] = DEFAULT_PRE_DAYS,
        cuped: Annotated[bool, typer.Option(help="CUPED with the pre-period.")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Analyse an A/B test from its tables: decision, effects, SRM, diagnoses, explanation.

        The tables follow the README's contract (assignments, exposures, events, optional
        experiments); they are validated first and never written to.
        """
        guards = list(DEFAULT_GUARDRAILS) if guardrail is None else [
            g for g in guardrail if g.strip().lower() != "none"]  # fmt: skip
        try:
            with err.status(f"analysing {experiment}"):
                attribution = analyze(
                    source, experiment, primary or DEFAULT_PRIMARY, guards,
                    as_of=parse_as_of(as_of),
                    inference="sequential" if always_valid else "group-sequential" if sequential
                    else "fixed", alpha=alpha, horizon_days=horizon_days,
                    burn_in_exposures=burn_in, treatment_share=treatment_share,
                    pre_days=pre_days, cuped=cuped,
                )  # fmt: skip
        except (TableError, ValueError) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from exc
        if as_json:
            print(json.dumps(attribution.report(), sort_keys=True, allow_nan=False))
        else:
            print_attribution(stdout, attribution)
