"""Data preparation: the training log turned into the matrices every stage reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from movierec.config import DataConfig

SECONDS_PER_DAY = 86_400.0


class TrainingLog(Protocol):
    """What the pipeline is trained on, as the evaluation harness hands it over.

    Parallel arrays, one entry per interaction, in a dense index space (users 0..n_users-1,
    items 0..n_items-1), and the binary users x items matrix. When the catalogue has genres the
    log also carries `item_info.genres` (items x genres CSR); read it with `getattr`, it may be
    absent or None.
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    n_users: int
    n_items: int
    binary: sp.csr_matrix


@dataclass(frozen=True)
class TrainingData:
    """What the stages learn from: weighted interactions, seen items, popularity, genres."""

    interactions: sp.csr_matrix  # users x items, one weight per user-item pair (at most 1)
    seen: sp.csr_matrix  # users x items, 1 where the user interacted with the item
    item_popularity: np.ndarray  # distinct users per item
    item_genres: sp.csr_matrix | None  # items x genres indicator, None when unknown

    @property
    def n_users(self) -> int:
        return int(self.seen.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.seen.shape[1])


def prepare(train: TrainingLog, config: DataConfig) -> TrainingData:
    """Build the training matrices from a training log (see the module docstring)."""
    shape = (int(train.n_users), int(train.n_items))
    users = np.asarray(train.users, dtype=np.int64)
    items = np.asarray(train.items, dtype=np.int64)
    weights = recency_weights(np.asarray(train.timestamps), config.recency_half_life_days)
    interactions = sp.csr_matrix((weights, (users, items)), shape=shape, dtype=np.float64)
    interactions.sum_duplicates()
    np.minimum(interactions.data, 1.0, out=interactions.data)  # repeats count once
    seen = sp.csr_matrix(train.binary, dtype=np.float64)
    item_info = getattr(train, "item_info", None)
    genres = None if item_info is None else sp.csr_matrix(item_info.genres, dtype=np.float64)
    return TrainingData(
        interactions=interactions,
        seen=seen,
        item_popularity=np.bincount(seen.indices, minlength=shape[1]).astype(np.int64),
        item_genres=genres,
    )


def recency_weights(timestamps: np.ndarray, half_life_days: float) -> np.ndarray:
    """Weight 1 for the newest interaction, halving every `half_life_days` before it (0: all 1)."""
    if half_life_days <= 0 or len(timestamps) == 0:
        return np.ones(len(timestamps), dtype=np.float64)
    age_days = (timestamps.max() - timestamps).astype(np.float64) / SECONDS_PER_DAY
    return np.power(0.5, age_days / half_life_days)


def main_genres(genres: sp.csr_matrix | None, n_items: int) -> np.ndarray:
    """The first listed genre of every item, -1 for items without one (or without genre data)."""
    out = np.full(n_items, -1, dtype=np.int64)
    if genres is None:
        return out
    g = sp.csr_matrix(genres)
    g.sort_indices()
    has_genre = np.diff(g.indptr) > 0
    out[has_genre] = g.indices[g.indptr[:-1][has_genre]]
    return out
