"""The recommender protocol recloop judges, and the batched top-K machinery behind it.

Any object with `fit(train)` and `recommend(user_ids, k, exclude_seen)` is a recommender. The
trusted evaluator only ever talks to that surface, so a team's code, a candidate change and the
reference models are judged alike. Indices are recloop's dense user/item indices (see `data`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from recloop.recsys.data import Interactions

DEFAULT_BATCH_USERS = 1024  # users per recommend() call from the evaluator
SCORING_CHUNK_USERS = 256  # users scored at once inside a model (dense chunk x n_items)
SCORING_THREADS = min(4, os.cpu_count() or 1)


@runtime_checkable
class Recommender(Protocol):
    """What the evaluator needs from a model: learn from train, then rank items for users."""

    def fit(self, train: Interactions) -> object: ...

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        """Return an int array (len(user_ids) x k) of item indices, best first."""
        ...


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores of each row, best first (argpartition, then a small sort).

    Ties are broken by the lower item index so rankings are deterministic.
    """
    n_items = scores.shape[1]
    k = min(k, n_items)
    if k < n_items:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n_items), scores.shape).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1)


def mask_seen(scores: np.ndarray, seen: sp.csr_matrix) -> None:
    """Set the scores of items in `seen` (one CSR row per score row) to -inf, in place."""
    rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
    scores[rows, seen.indices] = -np.inf


class ScoringRecommender(ABC):
    """A recommender that scores every item for a batch of users; top-K is done here once.

    Subclasses implement `_fit` and `_score`; batching, seen-item exclusion and the top-K
    selection are shared so each model is only its own mathematics.
    """

    batch_users: int = SCORING_CHUNK_USERS
    n_threads: int = SCORING_THREADS

    def fit(self, train: Interactions) -> ScoringRecommender:
        self._seen = train.binary
        self._fit(train)
        return self

    @abstractmethod
    def _fit(self, train: Interactions) -> None: ...

    @abstractmethod
    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        """Dense float scores (len(user_ids) x n_items) for the given user indices."""

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        """Top-k per user; chunks of users are scored on `n_threads` threads.

        Sparse products, argpartition and sorting release the GIL, so threads use every core
        without copying the model into processes.
        """
        user_ids = np.asarray(user_ids, dtype=np.int64)
        out = np.empty((len(user_ids), min(k, self._seen.shape[1])), dtype=np.int64)

        def rank_chunk(start: int) -> None:
            batch = user_ids[start : start + self.batch_users]
            scores = np.array(self._score(batch), dtype=np.float32, copy=True)
            if exclude_seen:
                mask_seen(scores, self._seen[batch])
            out[start : start + len(batch)] = top_k(scores, k)

        starts = range(0, len(user_ids), self.batch_users)
        if self.n_threads <= 1 or len(starts) <= 1:
            for start in starts:
                rank_chunk(start)
        else:
            with ThreadPoolExecutor(self.n_threads) as pool:
                list(pool.map(rank_chunk, starts))  # list() re-raises a chunk's exception
        return out
