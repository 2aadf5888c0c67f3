"""A data profile for prompts: the few numbers that tell a model what kind of data it is tuning for.

A model proposes differently for a dense, long-tailed log than for a sparse, flat one, so the
prompt states the size, density, how concentrated popularity is (share of interactions on the
top 1% and 10% of items, Gini of item popularity), the median activity per user and per item,
the share of positives at the manifest's threshold and the time span. All vectorised over the
interaction arrays; `ProfileCache` computes it once per champion commit (the data and the
manifest that names it only change with the champion).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.recsys.data import Interactions
from recloop.workspace.manifest import Manifest


class DataProfile(BaseModel):
    """Summary figures of one interaction log (shares in [0, 1])."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    users: int
    items: int
    interactions: int
    density: float
    median_per_user: float
    median_per_item: float
    top_1pct_item_share: float
    top_10pct_item_share: float
    item_gini: float
    positive_share: float | None  # None for an implicit log (every row is a positive)
    time_span_days: float

    def render(self) -> str:
        """The profile as prompt lines."""
        positives = (
            "implicit log (every interaction is a positive)"
            if self.positive_share is None
            else f"{self.positive_share:.1%} of interactions are positives at the threshold"
        )
        return "\n".join(
            [
                f"- data: {self.name}",
                f"- {self.users:,} users, {self.items:,} items, {self.interactions:,} "
                f"interactions (density {self.density:.3%})",
                f"- median interactions per user {self.median_per_user:g}, "
                f"per item {self.median_per_item:g}",
                f"- popularity: top 1% of items hold {self.top_1pct_item_share:.1%} of "
                f"interactions, top 10% hold {self.top_10pct_item_share:.1%}; "
                f"Gini of item popularity {self.item_gini:.3f}",
                f"- {positives}",
                f"- time span {self.time_span_days:,.1f} days",
            ]
        )


def gini(counts: np.ndarray) -> float:
    """The Gini coefficient of non-negative counts (0: all equal; towards 1: one holds all)."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(values), float(values.sum())
    if n == 0 or total == 0.0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.dot(ranks, values) / (n * total) - (n + 1) / n)


def _top_share(descending: np.ndarray, fraction: float) -> float:
    """The share of the total held by the top `fraction` of entries (at least one)."""
    total = float(descending.sum())
    if total == 0.0:
        return 0.0
    top = max(1, math.ceil(fraction * len(descending)))
    return float(descending[:top].sum()) / total


def profile_data(data: Interactions, implicit_threshold: float | None = None) -> DataProfile:
    """The profile of `data`; `positive_share` at `implicit_threshold` when data has ratings."""
    described = data.describe()
    per_item = np.bincount(data.items, minlength=data.n_items)
    per_user = np.bincount(data.users, minlength=data.n_users)
    descending = np.sort(per_item)[::-1]
    positive_share = None
    if data.has_ratings and implicit_threshold is not None and data.n_interactions:
        positive_share = float(np.mean(data.ratings >= implicit_threshold))
    return DataProfile(
        name=str(described["name"]),
        users=data.n_users,
        items=data.n_items,
        interactions=data.n_interactions,
        density=float(described["density"]),
        median_per_user=float(np.median(per_user)) if len(per_user) else 0.0,
        median_per_item=float(np.median(per_item)) if len(per_item) else 0.0,
        top_1pct_item_share=_top_share(descending, 0.01),
        top_10pct_item_share=_top_share(descending, 0.10),
        item_gini=gini(per_item),
        positive_share=positive_share,
        time_span_days=float(described["time_span_days"]),
    )


class ProfileCache:
    """Profiles of a workspace's data by champion commit, the last `size` kept."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._profiles: OrderedDict[tuple[str, str], DataProfile] = OrderedDict()

    def get(self, workspace: Path, manifest: Manifest, commit: str) -> DataProfile:
        """The profile of the manifest's data at `commit` (loaded and computed on a miss)."""
        key = (str(Path(workspace).resolve()), commit)
        if key in self._profiles:
            self._profiles.move_to_end(key)
            return self._profiles[key]
        data = manifest.load_data(Path(workspace))
        profile = profile_data(data, manifest.data.implicit_threshold)
        self._profiles[key] = profile
        while len(self._profiles) > self.size:
            self._profiles.popitem(last=False)
        return profile
