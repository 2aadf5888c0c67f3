"""One evaluation from names to a report: load, binarise, split, fit, score.

The CLI, the demo and the benchmarks all go through here, so a number printed anywhere in recloop
was produced by the same steps, and the report says which data, split and settings gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from recloop.progress import ProgressCallback
from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD, Interactions
from recloop.recsys.datasets import is_dataset_name, load_dataset, load_or_synthetic
from recloop.recsys.evaluate import evaluate
from recloop.recsys.logsource import DuplicatePolicy, LogSource, read_log
from recloop.recsys.models import make_model
from recloop.recsys.splits import Split, SplitKind, make_split


class EvalRequest(BaseModel):
    """What to evaluate; saved in the report so the numbers can be reproduced.

    `data` is a built-in dataset name or the path of a team's own log, read as `source` says.
    """

    model_config = ConfigDict(frozen=True)

    data: str = "ml-100k"
    columns: dict[str, str] = Field(default_factory=dict)
    items: Path | None = None
    duplicates: DuplicatePolicy = "last"
    split: SplitKind = "temporal-loo"
    model: str = "ease"
    k: int = Field(10, ge=1)
    seed: int = 0
    threshold: float = DEFAULT_IMPLICIT_THRESHOLD


def prepare_split(data: Interactions, request: EvalRequest) -> Split:
    """Binarise at the request's threshold and split with its seed."""
    return make_split(data.implicit(request.threshold), request.split, seed=request.seed)


def evaluate_on_split(
    split: Split, request: EvalRequest, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Fit and score the request's model on a prepared split; the report is JSON-ready."""
    model = make_model(request.model)
    result = evaluate(model, split, k=request.k, progress=progress)
    report: dict[str, Any] = dict(result.summary())
    report.update(
        {
            "model": request.model,
            "data": request.data,
            "split": request.split,
            "k": request.k,
            "seed": request.seed,
            "threshold": request.threshold,
            "n_users": result.n_users,
            "fit_seconds": round(result.fit_seconds, 4),
            "seconds": round(result.eval_seconds, 4),
            "train": split.train.describe(),
        }
    )
    return report


def load_request_data(request: EvalRequest) -> tuple[Interactions, dict[str, Any]]:
    """The request's data and a description of how it was read (for the report)."""
    if is_dataset_name(request.data) or not Path(request.data).exists():
        data = load_dataset(request.data, seed=request.seed)
        return data, data.describe()
    source = LogSource(
        path=Path(request.data),
        columns=request.columns,
        items=request.items,
        duplicates=request.duplicates,
    )
    loaded = read_log(source)
    return loaded.interactions, {
        **loaded.interactions.describe(),
        "columns": loaded.mapping,
        "duplicates_policy": request.duplicates,
        "duplicates_removed": loaded.duplicates_removed,
        "notes": list(loaded.notes),
    }


def run_evaluation(
    request: EvalRequest,
    progress: ProgressCallback | None = None,
    on_loaded: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Evaluate one model on one dataset and split; `on_loaded` sees the dataset description."""
    data, described = load_request_data(request)
    if on_loaded is not None:
        on_loaded(described)
    report = evaluate_on_split(prepare_split(data, request), request, progress)
    report["dataset"] = described
    return report


def run_leaderboard(
    data_name: str, models: tuple[str, ...], k: int = 10, seed: int = 0
) -> tuple[list[dict[str, Any]], str]:
    """Evaluate several models on one split, falling back to synthetic data when unreachable."""
    data, loaded, note = load_or_synthetic(data_name, seed=seed)
    base = EvalRequest(data=loaded, k=k, seed=seed)
    split = prepare_split(data, base)
    rows = [evaluate_on_split(split, base.model_copy(update={"model": m})) for m in models]
    return rows, note
