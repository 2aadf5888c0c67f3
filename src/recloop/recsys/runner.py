"""One evaluation from names to a report: load, binarise, split, fit, score.

The CLI, the demo and the benchmarks all go through here, so a number printed anywhere in recloop
was produced by the same steps, and the report says which data, split and settings gave it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD, Interactions
from recloop.recsys.datasets import load_dataset, load_or_synthetic
from recloop.recsys.evaluate import ProgressCallback, evaluate
from recloop.recsys.models import make_model
from recloop.recsys.splits import Split, make_split


class EvalRequest(BaseModel):
    """What to evaluate; saved in the report so the numbers can be reproduced."""

    model_config = ConfigDict(frozen=True)

    data: str = "ml-100k"
    split: str = "temporal-loo"
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
            "dataset": split.train.describe(),
        }
    )
    return report


def run_evaluation(
    request: EvalRequest, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Evaluate one model on one dataset and split (the dataset must be reachable)."""
    data = load_dataset(request.data, seed=request.seed)
    return evaluate_on_split(prepare_split(data, request), request, progress)


def run_leaderboard(
    data_name: str, models: tuple[str, ...], k: int = 10, seed: int = 0
) -> tuple[list[dict[str, Any]], str]:
    """Evaluate several models on one split, falling back to synthetic data when unreachable."""
    data, loaded, note = load_or_synthetic(data_name, seed=seed)
    base = EvalRequest(data=loaded, k=k, seed=seed)
    split = prepare_split(data, base)
    rows = [evaluate_on_split(split, base.model_copy(update={"model": m})) for m in models]
    return rows, note
