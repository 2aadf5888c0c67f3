"""ItemKNN: item-item cosine similarity on the binary matrix, pruned to the nearest neighbours.

sim(i, j) = |U_i ∩ U_j| / (|U_i|^½ |U_j|^½ + shrink), the shrunk cosine of Sarwar et al. (2001)
as configured in Dacrema et al. (2019, "Are we really making much progress?", ItemKNN-CF). Each
item keeps its `neighbors` most similar items (column-wise pruning: the items that may vote for
it), no self-similarity, and a user's score for item j is Σ_i x_ui S_ij.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from recloop.recsys.data import Interactions
from recloop.recsys.models._config import ModelConfig, resolve_config
from recloop.recsys.models._sparse import pruned_by_blocks
from recloop.recsys.protocol import ScoringRecommender


class ItemKNNConfig(ModelConfig):
    """Neighbourhood size and cosine shrinkage (0 = plain cosine, the speed anchors' setting)."""

    neighbors: int = Field(default=100, gt=0)
    shrink: float = Field(default=0.0, ge=0.0)


class ItemKNN(ScoringRecommender):
    """Item-based nearest neighbours with a sparse, pruned similarity matrix."""

    config: ItemKNNConfig

    def __init__(self, config: ItemKNNConfig | None = None, **kwargs: Any) -> None:
        self.config = resolve_config(ItemKNNConfig, config, kwargs)

    def _fit(self, train: Interactions) -> None:
        x = self._x = train.binary
        xt = sp.csr_matrix(x.T)
        norms = np.sqrt(train.item_counts.astype(np.float64))
        shrink = self.config.shrink

        def block(start: int, stop: int) -> sp.csr_matrix:
            b = sp.csr_matrix(xt[start:stop] @ x, dtype=np.float64)
            rows = np.repeat(np.arange(start, stop), np.diff(b.indptr))
            b.data /= norms[rows] * norms[b.indices] + shrink
            return b

        n = train.n_items
        # The cosine is symmetric, so pruning rows and transposing prunes columns.
        pruned = pruned_by_blocks(block, (n, n), self.config.neighbors)
        self.similarity = sp.csr_matrix(pruned.T)

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        return (self._x[user_ids] @ self.similarity).toarray()
