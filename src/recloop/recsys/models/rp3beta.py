"""RP3beta: a three-step random walk user -> item -> user -> item, popularity-discounted.

Paudel, Christoffel, Newell, Bernstein, "Updatable, Accurate, Diverse, and Scalable
Recommendations for Interactive Applications", ACM TiiS 2017; implemented as in the reference code
of Dacrema, Cremonesi, Jannach, "Are we really making much progress?", RecSys 2019
(RP3betaRecommender): P_ui and P_iu are the row-normalised user->item and item->user transition
matrices, each raised element-wise to α; W = P_iu P_ui with column j divided by pop(j)^β; the
diagonal is zeroed before each row keeps its `neighbors` largest entries; scores = X W.
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


class RP3betaConfig(ModelConfig):
    """Walk sharpening α, popularity discount β (0 = plain P3α) and neighbours kept per item."""

    alpha: float = Field(default=1.0, gt=0.0)
    beta: float = Field(default=0.6, ge=0.0)
    neighbors: int = Field(default=100, gt=0)


def transition(x: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Row-normalised (row-stochastic) transitions of binary `x`, raised element-wise to α."""
    deg = np.diff(x.indptr)
    p = sp.csr_matrix(x, dtype=np.float64, copy=True)
    p.data = (1.0 / np.repeat(deg, deg)) ** alpha
    return p


def popularity_discount(counts: np.ndarray, beta: float) -> np.ndarray:
    """pop^-β per item, 0 for items nobody interacted with (their walks never arrive anyway)."""
    out = np.zeros(len(counts), dtype=np.float64)
    seen = counts > 0
    out[seen] = counts[seen].astype(np.float64) ** -beta
    return out


class RP3beta(ScoringRecommender):
    """Graph-walk item-item model with a sparse, row-pruned weight matrix."""

    config: RP3betaConfig

    def __init__(self, config: RP3betaConfig | None = None, **kwargs: Any) -> None:
        self.config = resolve_config(RP3betaConfig, config, kwargs)

    def _fit(self, train: Interactions) -> None:
        cfg = self.config
        x = self._x = train.binary
        p_ui = transition(x, cfg.alpha)
        p_iu = transition(sp.csr_matrix(x.T), cfg.alpha)
        # Dividing column j of W by pop(j)^β is the same as dividing column j of P_ui.
        p_ui_discounted = sp.csr_matrix(
            p_ui @ sp.diags(popularity_discount(train.item_counts, cfg.beta))
        )

        def block(start: int, stop: int) -> sp.csr_matrix:
            return sp.csr_matrix(p_iu[start:stop] @ p_ui_discounted)

        n = train.n_items
        self.weights = pruned_by_blocks(block, (n, n), cfg.neighbors)

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        return (self._x[user_ids] @ self.weights).toarray()
