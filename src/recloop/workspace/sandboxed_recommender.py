"""recloop's `Recommender` protocol over one sandboxed run of a workspace's code.

With it the trusted evaluator judges a team's code exactly as it judges the reference models:
the evaluator validates and scores; the sandbox only runs the untrusted part.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from recloop.recsys.data import Interactions
from recloop.workspace.errors import SandboxFailedError
from recloop.workspace.sandbox import SandboxLimits, SandboxResult, longest_list, run_sandbox


class SandboxedRecommender:
    """recloop's `Recommender` protocol over one sandboxed run of a workspace's code.

    `fit(train)` runs the sandbox once (fit, then the top `max_k` for every user, or fewer
    when a user has seen all but fewer items, see `longest_list`); `recommend(user_ids, k)`
    slices those lists. Raises `SandboxFailedError` when the run
    is not ok; the last run's `SandboxResult` is kept as `result`.
    """

    def __init__(
        self,
        worktree: str | Path,
        entry_point: str,
        max_k: int = 100,
        limits: SandboxLimits | None = None,
        *,
        source_dir: str = ".",
        hidden_paths: Iterable[str | Path] = (),
        isolate: bool = True,
    ) -> None:
        if max_k < 1:
            raise ValueError("max_k must be at least 1")
        self.worktree = Path(worktree)
        self.entry_point = entry_point
        self.max_k = max_k
        self.limits = limits or SandboxLimits()
        self.source_dir = source_dir
        self.hidden_paths = tuple(hidden_paths)
        self.isolate = isolate
        self.result: SandboxResult | None = None

    def fit(self, train: Interactions) -> SandboxedRecommender:
        self.result = run_sandbox(
            self.worktree,
            self.entry_point,
            train,
            min(self.max_k, longest_list(train)),
            self.limits,
            source_dir=self.source_dir,
            hidden_paths=self.hidden_paths,
            isolate=self.isolate,
        )
        if not self.result.ok:
            raise SandboxFailedError(self.result)
        return self

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        if self.result is None or self.result.recommendations is None:
            raise RuntimeError("call fit() before recommend()")
        if not exclude_seen:
            raise ValueError("sandboxed recommendations always exclude seen items")
        recs = self.result.recommendations
        if not 1 <= k <= recs.shape[1]:
            raise ValueError(
                f"k must be between 1 and {recs.shape[1]} (the lists' length), got {k}"
            )
        return recs[np.asarray(user_ids, dtype=np.int64), :k]
