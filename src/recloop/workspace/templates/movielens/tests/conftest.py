"""A tiny training log shaped like the one recloop hands to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp


@dataclass(frozen=True)
class ItemInfo:
    genres: sp.csr_matrix  # items x genres


class TrainLog:
    """Parallel arrays in a dense index space, plus the binary matrix and optional genres."""

    def __init__(
        self,
        users: list[int],
        items: list[int],
        n_users: int,
        n_items: int,
        timestamps: list[int] | None = None,
        genres: list[list[int]] | None = None,
    ) -> None:
        self.users = np.asarray(users, dtype=np.int32)
        self.items = np.asarray(items, dtype=np.int32)
        self.ratings = np.ones(len(users), dtype=np.float32)
        self.timestamps = np.asarray(
            timestamps if timestamps is not None else range(len(users)), dtype=np.int64
        )
        self.n_users = n_users
        self.n_items = n_items
        matrix = sp.csr_matrix(
            (np.ones(len(users)), (self.users, self.items)), shape=(n_users, n_items)
        )
        matrix.data[:] = 1.0
        self.binary = matrix
        self.item_info = None if genres is None else ItemInfo(sp.csr_matrix(np.asarray(genres)))


@pytest.fixture
def train() -> TrainLog:
    """6 users, 8 items. Items 0 and 1 are popular; 2 and 3 are watched together; user 5 is new.

    Genres (2): items 0-3 are genre 0, items 4-7 genre 1.
    """
    pairs = [
        (0, 0), (0, 1), (0, 2), (0, 3),
        (1, 0), (1, 1), (1, 2), (1, 3),
        (2, 0), (2, 1), (2, 2),
        (3, 0), (3, 4), (3, 5),
        (4, 1), (4, 6),
    ]  # fmt: skip
    users, items = zip(*pairs, strict=True)
    genres = [[1, 0]] * 4 + [[0, 1]] * 4
    return TrainLog(list(users), list(items), n_users=6, n_items=8, genres=genres)
