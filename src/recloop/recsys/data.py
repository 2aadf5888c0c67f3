"""The one in-memory interaction type every part of recloop speaks.

Users and items live in a dense index space (0..n-1) shared by a dataset and every split of it,
so a train matrix and a test matrix line up row for row. The raw ids are kept only as the maps
back, for display and for data that leaves recloop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

DEFAULT_IMPLICIT_THRESHOLD = 4.0


@dataclass(frozen=True)
class ItemInfo:
    """Item side information: a genre indicator matrix and a release year per item."""

    genres: sp.csr_matrix  # items x genres, 1.0 where the item has the genre
    genre_names: tuple[str, ...]
    year: np.ndarray  # float, NaN where unknown

    def __post_init__(self) -> None:
        if self.genres.shape[1] != len(self.genre_names):
            raise ValueError("genre matrix width differs from the number of genre names")
        if self.genres.shape[0] != len(self.year):
            raise ValueError("genre matrix and year array disagree on the number of items")

    def take(self, item_index: np.ndarray) -> ItemInfo:
        """Rows for the given items, in that order (used when re-indexing items)."""
        return ItemInfo(self.genres[item_index].tocsr(), self.genre_names, self.year[item_index])


@dataclass(frozen=True, eq=False)
class Interactions:
    """Interactions as parallel arrays in index space, with CSR views built once on demand."""

    users: np.ndarray  # int32 user index per interaction
    items: np.ndarray  # int32 item index per interaction
    ratings: np.ndarray  # float32; 1.0 for implicit data
    timestamps: np.ndarray  # int64 seconds since the epoch
    user_ids: np.ndarray  # raw id of each user index
    item_ids: np.ndarray  # raw id of each item index
    name: str = "interactions"
    item_info: ItemInfo | None = field(default=None, repr=False)
    has_ratings: bool = True  # False for implicit logs: every interaction is already a positive

    def __post_init__(self) -> None:
        n = len(self.users)
        if not (len(self.items) == len(self.ratings) == len(self.timestamps) == n):
            raise ValueError("users, items, ratings and timestamps must have the same length")
        if n and (self.users.min() < 0 or self.users.max() >= self.n_users):
            raise ValueError("a user index falls outside the user id map")
        if n and (self.items.min() < 0 or self.items.max() >= self.n_items):
            raise ValueError("an item index falls outside the item id map")
        if self.item_info is not None and self.item_info.genres.shape[0] != self.n_items:
            raise ValueError("item_info covers a different number of items than item_ids")

    @classmethod
    def from_raw(
        cls,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        ratings: np.ndarray | None = None,
        timestamps: np.ndarray | None = None,
        name: str = "interactions",
        has_ratings: bool = True,
    ) -> Interactions:
        """Index raw ids (sorted, so the index is stable across runs) and build the type."""
        user_map, users = np.unique(np.asarray(user_ids), return_inverse=True)
        item_map, items = np.unique(np.asarray(item_ids), return_inverse=True)
        n = len(users)
        return cls(
            users=users.astype(np.int32),
            items=items.astype(np.int32),
            ratings=np.ones(n, np.float32) if ratings is None else np.asarray(ratings, np.float32),
            timestamps=np.zeros(n, np.int64)
            if timestamps is None
            else np.asarray(timestamps, np.int64),
            user_ids=user_map,
            item_ids=item_map,
            name=name,
            has_ratings=has_ratings and ratings is not None,
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.users)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_users, self.n_items)

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """users x items with the rating as value (duplicates summed), float32."""
        m = sp.csr_matrix((self.ratings, (self.users, self.items)), shape=self.shape)
        m.sum_duplicates()
        return m.astype(np.float32)

    @cached_property
    def binary(self) -> sp.csr_matrix:
        """users x items, 1.0 where the user interacted with the item at least once."""
        m = self.matrix.copy()
        m.data[:] = 1.0
        return m

    @cached_property
    def user_counts(self) -> np.ndarray:
        """Distinct items per user."""
        return np.diff(self.binary.indptr)

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Distinct users per item."""
        return np.bincount(self.binary.indices, minlength=self.n_items)

    def select(self, mask: np.ndarray, name: str | None = None) -> Interactions:
        """A subset of the interactions in the same index space (the id maps are kept)."""
        return replace(
            self,
            users=self.users[mask],
            items=self.items[mask],
            ratings=self.ratings[mask],
            timestamps=self.timestamps[mask],
            name=name or self.name,
        )

    def with_item_info(self, item_info: ItemInfo) -> Interactions:
        """The same interactions with side information aligned to this item index."""
        return replace(self, item_info=item_info)

    def implicit(self, threshold: float = DEFAULT_IMPLICIT_THRESHOLD) -> Interactions:
        """Keep interactions rated at least `threshold` as positives of value 1.0.

        Users and items are re-indexed to those that keep a positive, so no model or metric
        sees a user with nothing to learn from. An implicit log (no ratings) is all positives.
        """
        if not self.has_ratings:
            return replace(self.reindexed(), name=f"{self.name} (implicit log)")
        keep = self.ratings >= threshold
        if not keep.any():
            raise ValueError(
                f"no interaction of {self.name!r} has a rating >= {threshold}; "
                "lower the implicit threshold"
            )
        kept = self.select(keep)
        out = kept.reindexed()
        return replace(
            out,
            ratings=np.ones(out.n_interactions, np.float32),
            name=f"{self.name} (implicit, rating >= {threshold:g})",
            has_ratings=False,
        )

    def reindexed(self) -> Interactions:
        """Drop users and items with no interaction, keeping index order (and item_info rows)."""
        user_used, users = np.unique(self.users, return_inverse=True)
        item_used, items = np.unique(self.items, return_inverse=True)
        return replace(
            self,
            users=users.astype(np.int32),
            items=items.astype(np.int32),
            user_ids=self.user_ids[user_used],
            item_ids=self.item_ids[item_used],
            item_info=None if self.item_info is None else self.item_info.take(item_used),
        )

    def describe(self) -> dict[str, float | int | str]:
        """A summary a person reads before trusting numbers computed on this data."""
        n = self.n_interactions
        density = n / max(1, self.n_users * self.n_items)
        span_days = float(self.timestamps.max() - self.timestamps.min()) / 86400.0 if n else 0.0
        return {
            "name": self.name,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": n,
            "density": round(density, 6),
            "time_span_days": round(span_days, 1),
        }
