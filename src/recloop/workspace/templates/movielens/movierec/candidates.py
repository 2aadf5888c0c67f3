"""Candidate generation: a short list of plausible items per user, from two sources.

- popular: the most popular items the user has not seen (the same for everyone);
- co-occurrence: items most often consumed together with the user's history, from an item-item
  count matrix X'X pruned to each item's strongest neighbours.

The union goes to ranking, together with each source's raw scores (ranking features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from movierec.config import CandidateConfig

ROWS_PER_BLOCK = 512


@dataclass(frozen=True)
class Candidates:
    """For a batch of users: which items are candidates, and every item's co-occurrence score."""

    mask: np.ndarray  # users x items, True for candidates
    cooccurrence: np.ndarray  # users x items, the user's co-occurrence score of each item


class CooccurrenceIndex:
    """Item-item co-occurrence counts, each item keeping its `neighbours` strongest partners."""

    def __init__(self, neighbours_matrix: sp.csr_matrix) -> None:
        self.matrix = neighbours_matrix  # items x items; row i: item i's strongest partners

    @classmethod
    def build(cls, interactions: sp.csr_matrix, neighbours: int) -> CooccurrenceIndex:
        binary = sp.csr_matrix(interactions, copy=True)
        binary.data[:] = 1.0
        counts = sp.csr_matrix(binary.T @ binary)
        counts = sp.csr_matrix(
            counts - sp.diags(counts.diagonal())
        )  # no item co-occurs with itself
        counts.eliminate_zeros()
        return cls(_keep_top_per_row(counts, neighbours))

    def scores(self, history: sp.csr_matrix) -> np.ndarray:
        """Dense users x items scores: the sum over a user's history of co-occurrence counts."""
        return np.asarray((history @ self.matrix).toarray(), dtype=np.float64)


def generate(
    history: sp.csr_matrix,
    blocked: np.ndarray,
    item_popularity: np.ndarray,
    index: CooccurrenceIndex,
    config: CandidateConfig,
) -> Candidates:
    """Candidates for a batch of users; `blocked` (users x items) are never candidates."""
    cooc = index.scores(history)
    mask = _top_per_row(np.where((cooc > 0) & ~blocked, cooc, -np.inf), config.cooccurrence)
    if config.popular:
        popular = np.broadcast_to(item_popularity.astype(np.float64), blocked.shape)
        mask |= _top_per_row(np.where(blocked, -np.inf, popular), config.popular)
    mask &= ~blocked
    return Candidates(mask=mask, cooccurrence=cooc)


def _top_per_row(scores: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the n highest finite scores of each row."""
    n = min(n, scores.shape[1])
    mask = np.zeros(scores.shape, dtype=bool)
    if n == 0:
        return mask
    top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    np.put_along_axis(mask, top, True, axis=1)
    return mask & np.isfinite(scores)


def _keep_top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """The n largest entries of every row, built a block of rows at a time."""
    blocks = []
    for start in range(0, matrix.shape[0], ROWS_PER_BLOCK):
        dense = matrix[start : start + ROWS_PER_BLOCK].toarray()
        keep = _top_per_row(np.where(dense > 0, dense, -np.inf), n)
        blocks.append(sp.csr_matrix(np.where(keep, dense, 0.0)))
    if not blocks:
        return sp.csr_matrix(matrix.shape)
    return sp.csr_matrix(sp.vstack(blocks))
