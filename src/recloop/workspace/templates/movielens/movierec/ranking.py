"""Ranking: score every candidate with a linear blend of per-user features.

Features, each scaled to [0, 1] within a user's row so the weights are comparable:

- popularity: log(1 + distinct users) of the item, over the catalogue's maximum;
- cooccurrence: the candidate stage's co-occurrence score, over the user's best one;
- genre_affinity: cosine between the user's genre profile and the item's genres.

Items that are not candidates score -inf.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.candidates import Candidates
from movierec.data import TrainingData

FEATURES = ("popularity", "cooccurrence", "genre_affinity")


def features(
    data: TrainingData, history: sp.csr_matrix, candidates: Candidates
) -> dict[str, np.ndarray]:
    """The users x items feature matrices of a batch, keyed by FEATURES."""
    n_users = history.shape[0]
    log_pop = np.log1p(data.item_popularity.astype(np.float64))
    popularity = log_pop / max(float(log_pop.max(initial=0.0)), 1e-12)
    return {
        "popularity": np.broadcast_to(popularity, (n_users, data.n_items)),
        "cooccurrence": _scale_rows(candidates.cooccurrence),
        "genre_affinity": genre_affinity(history, data.item_genres, data.n_items),
    }


def blend(
    feature_values: dict[str, np.ndarray], weights: dict[str, float], mask: np.ndarray
) -> np.ndarray:
    """Weighted sum of the features for candidates, -inf elsewhere."""
    unknown = sorted(set(weights) - set(feature_values))
    if unknown:
        raise ValueError(f"no feature named {unknown[0]!r}; features: {', '.join(FEATURES)}")
    scores = np.zeros(mask.shape, dtype=np.float64)
    for name, weight in weights.items():
        if weight:
            scores += weight * feature_values[name]
    return np.where(mask, scores, -np.inf)


def genre_affinity(
    history: sp.csr_matrix, genres: sp.csr_matrix | None, n_items: int
) -> np.ndarray:
    """Cosine similarity of each user's summed genre profile with each item's genre vector."""
    if genres is None:
        return np.zeros((history.shape[0], n_items))
    profile = np.asarray((history @ genres).toarray(), dtype=np.float64)
    item_vectors = np.asarray(genres.toarray(), dtype=np.float64)
    item_norms = np.linalg.norm(item_vectors, axis=1)
    user_norms = np.linalg.norm(profile, axis=1, keepdims=True)
    dot = profile @ item_vectors.T
    denominator = user_norms * item_norms[None, :]
    return np.divide(dot, denominator, out=np.zeros_like(dot), where=denominator > 0)


def _scale_rows(values: np.ndarray) -> np.ndarray:
    """Each row divided by its maximum (rows whose maximum is not positive become 0)."""
    top = values.max(axis=1, keepdims=True, initial=0.0)
    return np.divide(values, top, out=np.zeros_like(values, dtype=np.float64), where=top > 0)
