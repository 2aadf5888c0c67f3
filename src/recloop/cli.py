"""The `recloop` command line (Typer: typed options, generated help, shell completion)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console

from recloop.agents.commands import register_bench as register_bench_attribution
from recloop.agents.evaluate_commands import register as register_evaluate
from recloop.agents.llm.commands import register as register_llm
from recloop.cascade.commands import register as register_bench_cascade
from recloop.console import choice, leaderboard_table, metrics_table, progress_bar
from recloop.knowledge.commands import register as register_forbidden
from recloop.loop.commands import register as register_loop
from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD
from recloop.recsys.datadir import DataUnavailableError
from recloop.recsys.datasets import DATASET_NAMES
from recloop.recsys.logsource import DUPLICATE_POLICIES, DuplicatePolicy
from recloop.recsys.models import MODEL_NAMES
from recloop.recsys.runner import EvalRequest, run_evaluation, run_leaderboard
from recloop.recsys.splits import SPLIT_KINDS, SplitKind
from recloop.sim.commands import register as register_sim
from recloop.stats.commands import register as register_analyze
from recloop.workspace.commands import register as register_workspace
from recloop.workspace.errors import WorkspaceError
from recloop.workspace.evaluation import evaluate_workspace
from recloop.workspace.problems import ManifestError

app = typer.Typer(
    help="recloop: run the improvement loop of a recommender system with agents, safely.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()


def parse_columns(text: str) -> dict[str, str]:
    """`user=userId,item=movieId` -> {"user": "userId", "item": "movieId"}."""
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    if not all("=" in p for p in pairs):
        raise typer.BadParameter(f"expected ROLE=COLUMN pairs separated by commas, got {text!r}")
    return {role.strip(): column.strip() for role, column in (p.split("=", 1) for p in pairs)}


def _describe_loaded(described: dict[str, Any]) -> None:
    if "columns" in described:
        mapping = ", ".join(f"{role}={col}" for role, col in described["columns"].items())
        err.print(f"columns: {mapping}")
        err.print(
            f"duplicates ({described['duplicates_policy']} kept): "
            f"{described['duplicates_removed']} removed"
        )
        for note in described["notes"]:
            err.print(f"note: {note}")
    err.print(
        f"{described['name']}: {described['users']:,} users, {described['items']:,} items, "
        f"{described['interactions']:,} interactions, density {described['density']:.4%}, "
        f"{described['time_span_days']} days"
    )


@app.command("eval")
def eval_command(
    data: Annotated[
        str,
        typer.Option(
            help=f"Dataset: {', '.join(DATASET_NAMES)}, or the path of your own log "
            "(CSV, TSV, Parquet file or folder of Parquet parts)."
        ),
    ] = "ml-100k",
    columns: Annotated[
        str,
        typer.Option(
            help="Column mapping of your log, e.g. user=userId,item=movieId,rating=rating,"
            "time=timestamp (common headers are recognised without it)."
        ),
    ] = "",
    items: Annotated[
        Path | None,
        typer.Option(help="Item file with an item column and a genres column (| or , separated)."),
    ] = None,
    duplicates: Annotated[
        str, typer.Option(help="Repeated (user, item) pairs in your log: last, first or all.")
    ] = "last",
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
    workspace: Annotated[
        Path | None,
        typer.Option(
            help="Evaluate this workspace's code in the sandbox instead of a reference model "
            "(data, split and k come from its recloop.toml)."
        ),
    ] = None,
    candidate: Annotated[
        str | None, typer.Option(help="With --workspace: a candidate's name (default: champion).")
    ] = None,
) -> None:
    """Evaluate a recommender with recloop's trusted evaluator (full ranking).

    Ratings >= the threshold (default 4) are positives; the split holds out each user's last
    positive by default (temporal leave-last-1-out); items seen in training are excluded.
    """
    if workspace is not None:
        _eval_workspace(workspace, candidate, as_json)
        return
    request = EvalRequest(
        data=data,
        columns=parse_columns(columns),
        items=items,
        duplicates=cast(DuplicatePolicy, choice(duplicates, DUPLICATE_POLICIES, "policy")),
        split=cast(SplitKind, choice(split, SPLIT_KINDS, "split")),
        model=choice(model, MODEL_NAMES, "model"),
        k=k,
        seed=seed,
        threshold=threshold,
    )
    try:
        with progress_bar(err, f"scoring {request.model}") as progress:
            report = run_evaluation(request, progress=progress, on_loaded=_describe_loaded)
    except (DataUnavailableError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(report, sort_keys=True))
    else:
        out.print(metrics_table(report))


def _eval_workspace(workspace: Path, candidate: str | None, as_json: bool) -> None:
    try:
        with progress_bar(err, f"scoring {candidate or 'champion'} in the sandbox") as progress:
            report = evaluate_workspace(workspace, candidate, progress=progress)
    except (WorkspaceError, ManifestError, DataUnavailableError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(report, sort_keys=True))
        return
    report.setdefault("model", report["candidate"])
    report.setdefault("data", Path(report["workspace"]).name)
    report.setdefault("split", "manifest split")
    report.setdefault("fit_seconds", report["sandbox_wall_seconds"])
    out.print(metrics_table(report))


@app.command("leaderboard")
def leaderboard_command(
    data: Annotated[str, typer.Option(help="Dataset (synthetic when unreachable).")] = "ml-100k",
    k: Annotated[int, typer.Option(min=1)] = 10,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """The reference recommenders side by side on one split (synthetic data if unreachable)."""
    with err.status("evaluating the reference recommenders"):
        rows, note = run_leaderboard(choice(data, DATASET_NAMES, "dataset"), MODEL_NAMES, k, seed)
    err.print(note)
    out.print(leaderboard_table(rows, k))


register_workspace(app)
register_sim(app)
register_forbidden(app)
register_analyze(app)
register_evaluate(app)
bench = typer.Typer(help="Benchmarks of recloop's own machinery.", no_args_is_help=True)
app.add_typer(bench, name="bench")
register_bench_cascade(app)  # joins the `bench` group above
register_bench_attribution(bench)
register_loop(app)
register_llm(app)

if __name__ == "__main__":  # pragma: no cover
    app()
