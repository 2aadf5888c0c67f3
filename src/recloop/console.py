"""Rich output for people: progress bars on stderr and result tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from recloop.progress import ProgressCallback, StageProgress

HEADLINE_METRICS = (
    "ndcg",
    "recall",
    "precision",
    "hitrate",
    "mrr",
    "map",
    "coverage",
    "novelty",
    "popularity",
    "diversity",
    "gini",
)


def command_error(message: object, code: int = 1) -> typer.Exit:
    """Say `error: message` on stderr; the exit to raise (commands fail with one voice)."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def choice(value: str, choices: Sequence[str], what: str) -> str:
    """A CLI value checked against its choices, refused with the list of valid ones."""
    if value not in choices:
        raise typer.BadParameter(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return value


@contextmanager
def stage_progress(console: Console) -> Iterator[StageProgress]:
    """Progress bars on `console` (stderr), one per named stage, driven by callbacks."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


@contextmanager
def progress_bar(console: Console, description: str) -> Iterator[ProgressCallback]:
    """One progress bar driven by (done, total) callbacks."""
    with stage_progress(console) as update:
        yield lambda done, total: update(description, done, total)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def metrics_table(report: dict[str, Any]) -> Table:
    """One evaluation report as a two-column table."""
    k = report["k"]
    table = Table(title=f"{report['model']} on {report['data']} ({report['split']}, k={k})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in HEADLINE_METRICS:
        key = f"{name}@{k}"
        if key in report:
            table.add_row(key, _fmt(report[key]))
    for key in ("n_users", "fit_seconds", "seconds"):
        table.add_row(key, _fmt(report[key]))
    return table


LEADERBOARD_METRICS = ("ndcg", "recall", "coverage", "novelty", "diversity")


def leaderboard_table(rows: list[dict[str, Any]], k: int) -> Table:
    """Models as rows sorted by NDCG@k; the headline metrics fit an 80-column terminal."""
    columns = [m for m in LEADERBOARD_METRICS if f"{m}@{k}" in rows[0]]
    table = Table(
        title=f"Reference recommenders, {rows[0]['data']}, {rows[0]['split']}, "
        f"{rows[0]['n_users']} test users, @{k}"
    )
    table.add_column("model")
    for col in columns:
        table.add_column(col, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("eval s", justify="right")
    for row in sorted(rows, key=lambda r: -r[f"ndcg@{k}"]):
        cells = [f"{row[f'{c}@{k}']:.4f}" for c in columns]
        table.add_row(row["model"], *cells, f"{row['fit_seconds']:.2f}", f"{row['seconds']:.2f}")
    return table
