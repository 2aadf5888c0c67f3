"""Ground truth: what a simulated user really thinks of an item, behind one narrow interface.

A `GroundTruth` is a world's users ("personas") and items, the interaction log the policies
learn from (`train`), and three hidden quantities the simulator turns into behaviour:

- `relevance(users, items)`: how much a persona likes an item, on a standard-normal scale over
  random (persona, item) pairs, so one calibration (see `response.ClickModel`) fits every world;
- `item_quality`: how satisfying an item is once consumed, whoever consumes it (z-scores);
- `item_bait`: how strongly an item draws clicks regardless of fit — popular, hyped items
  (z-scores of log popularity). Bait raises clicks and lowers satisfaction, so a policy can win
  clicks and lose retention.

Two implementations, in one index space each (the dense indices of `train`):

`SyntheticTruth` is the latent truth of `recloop.recsys.synthetic`: relevance is the world's own
`affinity` at the end of its span (already sd 1 over random pairs), bait is the z-score of the
log of its base item popularity and quality a hidden normal draw per item (seeded). Policies learn
from the world's sampled log, binarised at rating >= 4 like every evaluation in recloop.

`MovieLensTruth` is semi-synthetic: all of MovieLens-100K (ratings >= 4) is the log, and the
truth is what two strong models fitted on *all* of it agree on — EASE (λ = 500) and PureSVD
(rank 64) — each mapped to normal scores by rank over every (user, item) pair, averaged and
mapped by rank again. An ensemble, so that no reference policy is the truth's own ranking. Bait
is the z-score of the log of each movie's number of ratings, quality the z-score of its mean
rating shrunk towards the global mean by 10 pseudo-ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from scipy.special import ndtri

from recloop.recsys.data import Interactions
from recloop.recsys.models.ease import ease_weights
from recloop.recsys.movielens import load_ml100k
from recloop.recsys.synthetic import SyntheticConfig, SyntheticWorld, generate_world

EASE_L2 = 500.0
SVD_RANK = 64
QUALITY_PRIOR_RATINGS = 10.0
_QUALITY_STREAM = 7


@runtime_checkable
class GroundTruth(Protocol):
    """The hidden preferences of a world; indices are those of `train`."""

    @property
    def name(self) -> str: ...

    @property
    def train(self) -> Interactions: ...

    @property
    def item_quality(self) -> np.ndarray: ...

    @property
    def item_bait(self) -> np.ndarray: ...

    def relevance(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Relevance of (user, item) pairs, broadcast together; sd 1 over random pairs."""
        ...


def zscore(x: np.ndarray) -> np.ndarray:
    """(x - mean) / sd as float32; all zeros when x is constant."""
    x = np.asarray(x, np.float64)
    sd = x.std()
    return ((x - x.mean()) / sd if sd > 0 else np.zeros_like(x)).astype(np.float32)


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Rank-based normal scores of every element (ties broken by position), float32."""
    flat = np.asarray(x).ravel()
    ranks = np.empty(flat.size, np.float64)
    ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    return ndtri((ranks + 0.5) / flat.size).astype(np.float32).reshape(np.shape(x))


@dataclass(frozen=True, eq=False)
class SyntheticTruth:
    """The synthetic world's own truth, indexed like its binarised log."""

    world: SyntheticWorld
    train: Interactions
    item_quality: np.ndarray
    item_bait: np.ndarray

    @property
    def name(self) -> str:
        return f"synthetic (seed {self.world.config.seed})"

    def relevance(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        world_users = self.train.user_ids[np.asarray(users)]
        world_items = self.train.item_ids[np.asarray(items)]
        return self.world.affinity(world_users, world_items).astype(np.float32)


def synthetic_truth(config: SyntheticConfig | None = None) -> SyntheticTruth:
    """The truth of a synthetic world (default: the MovieLens-100K-scale preset, seed 0)."""
    world = generate_world(config or SyntheticConfig.small())
    train = world.sample_interactions().implicit()
    items = train.item_ids  # world item index of each train item
    rng = np.random.default_rng([world.config.seed, _QUALITY_STREAM])
    quality = rng.standard_normal(world.config.n_items)[items]
    return SyntheticTruth(
        world=world,
        train=train,
        item_quality=zscore(quality),
        item_bait=zscore(np.log(world.item_popularity[items])),
    )


@dataclass(frozen=True, eq=False)
class MovieLensTruth:
    """A dense (users x items) relevance matrix fitted on all of a MovieLens release."""

    train: Interactions
    scores: np.ndarray  # float32 (n_users, n_items), normal scores
    item_quality: np.ndarray
    item_bait: np.ndarray
    name: str = "ml-100k (semi-synthetic)"

    def relevance(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.scores[np.asarray(users), np.asarray(items)]


def movielens_truth(ratings: Interactions, threshold: float = 4.0) -> MovieLensTruth:
    """Semi-synthetic truth from a rating log: the EASE + PureSVD ensemble fitted on all of it."""
    train = ratings.implicit(threshold)
    x = train.binary
    ease = np.asarray(x @ ease_weights((x.T @ x).toarray(), EASE_L2))
    relevance = normal_scores(normal_scores(ease) + _pure_svd_scores(x, SVD_RANK))
    kept_items = ratings.item_ids.searchsorted(train.item_ids)  # raw index of each train item
    counts = np.bincount(ratings.items, minlength=ratings.n_items)[kept_items]
    sums = np.bincount(ratings.items, weights=ratings.ratings, minlength=ratings.n_items)
    prior = float(ratings.ratings.mean())
    shrunk = (sums[kept_items] + QUALITY_PRIOR_RATINGS * prior) / (counts + QUALITY_PRIOR_RATINGS)
    return MovieLensTruth(
        train=train,
        scores=relevance,
        item_quality=zscore(shrunk),
        item_bait=zscore(np.log1p(counts)),
        name=f"{ratings.name} (semi-synthetic)",
    )


def load_truth(world: str, seed: int = 0) -> GroundTruth:
    """The truth of a named world: "synthetic" (seeded) or "ml-100k" (from the data directory)."""
    if world == "synthetic":
        return synthetic_truth(SyntheticConfig.small(seed=seed))
    if world == "ml-100k":
        return movielens_truth(load_ml100k())
    raise ValueError(f"unknown world {world!r}; choose one of: synthetic, ml-100k")


def _pure_svd_scores(x: sp.csr_matrix, rank: int) -> np.ndarray:
    """Normal scores of the rank-`rank` reconstruction of x (Cremonesi et al., RecSys 2010)."""
    rank = min(rank, min(x.shape) - 1)
    v0 = np.ones(min(x.shape))  # fixed start vector: ARPACK is otherwise randomly seeded
    u, s, vt = svds(x.astype(np.float64), k=rank, v0=v0)
    return normal_scores((u * s) @ vt)
