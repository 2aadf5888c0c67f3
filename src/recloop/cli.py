"""The `recloop` command line (Typer: typed options, generated help, shell completion)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from recloop.console import leaderboard_table, metrics_table, progress_bar
from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD
from recloop.recsys.datadir import DataUnavailableError
from recloop.recsys.datasets import DATASET_NAMES
from recloop.recsys.models import MODEL_NAMES
from recloop.recsys.runner import EvalRequest, run_evaluation, run_leaderboard
from recloop.recsys.splits import SPLIT_KINDS

app = typer.Typer(
    help="recloop: run the improvement loop of a recommender system with agents, safely.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return value


@app.command("eval")
def eval_command(
    data: Annotated[str, typer.Option(help=f"Dataset: {', '.join(DATASET_NAMES)}.")] = "ml-100k",
    split: Annotated[str, typer.Option(help=f"Split: {', '.join(SPLIT_KINDS)}.")] = "temporal-loo",
    model: Annotated[str, typer.Option(help=f"Model: {', '.join(MODEL_NAMES)}.")] = "ease",
    k: Annotated[int, typer.Option(min=1, help="List length K of the top-K metrics.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the split and the synthetic world.")] = 0,
    threshold: Annotated[
        float,
        typer.Option(
            help="Implicit-feedback threshold: ratings >= this are positives, the rest dropped."
        ),
    ] = DEFAULT_IMPLICIT_THRESHOLD,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate a reference recommender with recloop's trusted evaluator (full ranking).

    Ratings >= the threshold (default 4) are positives; the split holds out each user's last
    positive by default (temporal leave-last-1-out); items seen in training are excluded.
    """
    request = EvalRequest(
        data=_choice(data, DATASET_NAMES, "dataset"),
        split=_choice(split, SPLIT_KINDS, "split"),
        model=_choice(model, MODEL_NAMES, "model"),
        k=k,
        seed=seed,
        threshold=threshold,
    )
    try:
        with progress_bar(err, f"scoring {request.model}") as progress:
            report = run_evaluation(request, progress=progress)
    except (DataUnavailableError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(report, sort_keys=True))
    else:
        out.print(metrics_table(report))


@app.command("demo")
def demo_command(
    data: Annotated[str, typer.Option(help="Dataset (synthetic when unreachable).")] = "ml-100k",
    k: Annotated[int, typer.Option(min=1)] = 10,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """The main job: until the agent loop lands, the leaderboard of the reference models."""
    with err.status("evaluating the reference recommenders"):
        rows, note = run_leaderboard(_choice(data, DATASET_NAMES, "dataset"), MODEL_NAMES, k, seed)
    err.print(note)
    out.print(leaderboard_table(rows, k))


if __name__ == "__main__":  # pragma: no cover
    app()
