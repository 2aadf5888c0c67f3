"""The trusted evaluator: recloop fits a recommender, asks it for top-K and scores it itself.

A recommender never computes the numbers that judge it. The evaluator hands it the training split
only, asks for recommendations for every test user in batches, checks the answer against the rules
of the protocol (shape, valid ids, no duplicates, seen items excluded) and only then computes the
metrics, per user, so that two models can be compared user by user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recloop.progress import ProgressCallback
from recloop.recsys import metrics
from recloop.recsys.protocol import DEFAULT_BATCH_USERS, Recommender
from recloop.recsys.splits import Split


class InvalidRecommendationsError(ValueError):
    """The recommender broke a rule of the protocol; `rule` is a stable machine-readable code."""

    def __init__(self, rule: str, message: str, user: int | None = None) -> None:
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.user = user


def validate_recommendations(
    recs: np.ndarray,
    user_ids: np.ndarray,
    k: int,
    n_items: int,
    seen: sp.csr_matrix | None,
) -> np.ndarray:
    """Check a recommender's answer for `user_ids`; return it as int64 or raise precisely.

    `seen` holds the users' training rows when seen items must be excluded (None otherwise).
    """
    recs = np.asarray(recs)
    expected = (len(user_ids), k)
    if recs.shape != expected:
        raise InvalidRecommendationsError(
            "shape", f"expected an array of shape {expected} (users x k), got {recs.shape}"
        )
    if not np.issubdtype(recs.dtype, np.integer):
        raise InvalidRecommendationsError(
            "dtype", f"item ids must be integers, got dtype {recs.dtype}"
        )
    recs = recs.astype(np.int64)
    for rule, bad, what in (
        ("invalid-id", (recs < 0) | (recs >= n_items), f"an item id outside [0, {n_items})"),
        ("duplicate", _duplicates(recs), "the same item twice"),
        (
            "seen-item",
            metrics.row_membership(recs, seen) if seen is not None else np.zeros(recs.shape, bool),
            "an item from the user's training interactions",
        ),
    ):
        if bad.any():
            row, col = np.argwhere(bad)[0]
            user = int(user_ids[row])
            raise InvalidRecommendationsError(
                rule,
                f"user {user} got {what} (item {int(recs[row, col])} at rank {col + 1}); "
                f"{int(bad.any(axis=1).sum())} of {len(recs)} users affected",
                user=user,
            )
    return recs


def _duplicates(recs: np.ndarray) -> np.ndarray:
    """Mark every repeat of an item within a row (the first occurrence is not marked)."""
    order = np.argsort(recs, axis=1, kind="stable")
    sorted_recs = np.take_along_axis(recs, order, axis=1)
    repeat = np.zeros(recs.shape, dtype=bool)
    repeat[:, 1:] = sorted_recs[:, 1:] == sorted_recs[:, :-1]
    marked = np.zeros(recs.shape, dtype=bool)
    np.put_along_axis(marked, order, repeat, axis=1)
    return marked


@dataclass(frozen=True)
class EvaluationResult:
    """Per-user metric vectors (aligned with `user_ids`) and whole-list aggregates."""

    k: int
    user_ids: np.ndarray
    per_user: dict[str, np.ndarray]
    aggregates: dict[str, float]
    fit_seconds: float
    eval_seconds: float

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def summary(self) -> dict[str, float]:
        """Means of the per-user metrics and the aggregates, keyed like "ndcg@10"."""
        out = {f"{name}@{self.k}": float(v.mean()) for name, v in self.per_user.items()}
        out.update({f"{name}@{self.k}": value for name, value in self.aggregates.items()})
        return out


def evaluate(
    model: Recommender,
    split: Split,
    k: int = 10,
    fit: bool = True,
    batch_users: int = DEFAULT_BATCH_USERS,
    progress: ProgressCallback | None = None,
) -> EvaluationResult:
    """Fit `model` on the training split (unless already fitted) and score it on the test split."""
    train = split.train
    if k < 1 or k > train.n_items:
        raise ValueError(f"k must be between 1 and the number of items ({train.n_items}), got {k}")
    started = time.perf_counter()
    if fit:
        model.fit(train)
    fitted = time.perf_counter()
    user_ids = split.test_users
    if len(user_ids) == 0:
        raise ValueError("the test split has no users with a held-out interaction")
    seen = train.binary
    recs = np.empty((len(user_ids), k), dtype=np.int64)
    for start in range(0, len(user_ids), batch_users):
        batch = user_ids[start : start + batch_users]
        answer = model.recommend(batch, k, exclude_seen=True)
        recs[start : start + len(batch)] = validate_recommendations(
            answer, batch, k, train.n_items, seen[batch]
        )
        if progress is not None:
            progress(min(start + batch_users, len(user_ids)), len(user_ids))
    per_user, aggregates = score_recommendations(recs, user_ids, split, k)
    return EvaluationResult(
        k=k,
        user_ids=user_ids,
        per_user=per_user,
        aggregates=aggregates,
        fit_seconds=fitted - started,
        eval_seconds=time.perf_counter() - fitted,
    )


def score_recommendations(
    recs: np.ndarray, user_ids: np.ndarray, split: Split, k: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """All metrics of validated recommendations for `user_ids` (rows of `recs`)."""
    train = split.train
    truth = split.test.binary[user_ids]
    per_user: dict[str, np.ndarray] = dict(metrics.accuracy_metrics(recs, truth, k))
    genres = train.item_info.genres if train.item_info is not None else None
    beyond = metrics.beyond_accuracy(recs, k, train.item_counts, train.n_users, genres)
    aggregates: dict[str, float] = {}
    for name, value in beyond.items():
        if isinstance(value, np.ndarray):
            per_user[name] = value
        else:
            aggregates[name] = float(value)
    return per_user, aggregates
