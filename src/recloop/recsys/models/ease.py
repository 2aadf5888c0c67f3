"""EASE: a closed-form linear item-item model (Steck, "Embarrassingly Shallow Autoencoders for
Sparse Data", WWW 2019).

B = argmin ||X - XB||² + λ||B||² subject to diag(B) = 0 has the closed form
B = I - P · diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, i.e. B_ij = -P_ij / P_jj off the diagonal.
Strong on MovieLens-like data (best of Dacrema et al.'s reproduced baselines) and one solve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la
from pydantic import Field

from recloop.recsys.data import Interactions
from recloop.recsys.models._config import ModelConfig, resolve_config
from recloop.recsys.protocol import ScoringRecommender


class EASEConfig(ModelConfig):
    """L2 regularisation λ added to the Gram diagonal (Steck's ML-20M optimum is 500)."""

    l2: float = Field(default=500.0, gt=0.0)


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """The EASE weight matrix (float64) from the item Gram matrix XᵀX and λ.

    XᵀX + λI is symmetric positive definite for λ > 0, so a Cholesky solve is exact and stable.
    """
    g = np.array(gram, dtype=np.float64)
    g[np.diag_indices_from(g)] += l2
    p = la.cho_solve(la.cho_factor(g, check_finite=False), np.eye(len(g)), check_finite=False)
    b = p / -np.diag(p)  # column j divided by -P_jj
    np.fill_diagonal(b, 0.0)
    return b


class EASE(ScoringRecommender):
    """Scores = X[users] @ B with the dense EASE weights B stored as float32."""

    config: EASEConfig

    def __init__(self, config: EASEConfig | None = None, **kwargs: Any) -> None:
        self.config = resolve_config(EASEConfig, config, kwargs)

    def _fit(self, train: Interactions) -> None:
        self._x = train.binary
        gram = (self._x.T @ self._x).toarray()
        # C order: cho_solve returns Fortran order, which scipy would copy on every product
        self.weights = np.ascontiguousarray(ease_weights(gram, self.config.l2), dtype=np.float32)

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self._x[user_ids] @ self.weights)
