"""Item-item similarity with shrinkage in place of raw co-occurrence counts.

Raw counts favour popular items: every item co-occurs most with the blockbusters. Dividing a
count by the two items' supports turns it into a similarity: s(i, j) = c(i, j) / (n_i^α n_j^(1-α)
+ shrink), the cosine at α = 0.5 and the asymmetric cosine otherwise (Aiolli, RecSys 2013); the
shrink term pulls similarities built on few users towards zero (the shrinkage of Koren's
neighbourhood models; Dacrema et al., RecSys 2019, tune both). A subclass of the team's
co-occurrence index gets a second constructor; `Recommender.fit` calls it; the original
constructor (and the team's tests of it) keep counting. Parameters: module constants
`SIMILARITY_SHRINK` and `SIMILARITY_ALPHA`.
"""

from __future__ import annotations

from typing import ClassVar

from recloop.agents.space import Scalar, Space, float_param
from recloop.agents.transform import CodeView, Params, Transformation
from recloop.agents.transforms._pipeline import (
    FIT,
    INDEX_CLASS,
    index_swap_files,
    index_swapped,
    swap_index,
)
from recloop.knowledge.proposal import Family

CLASS = "SimilarityIndex"
BUILD = "build_similarity"
SHRINK = "SIMILARITY_SHRINK"
ALPHA = "SIMILARITY_ALPHA"

SIMILARITY_CLASS = '''
class SimilarityIndex(CooccurrenceIndex):
    """Co-occurrence counts normalised into similarities, each item keeping its closest ones.

    s(i, j) = c(i, j) / (n_i ** alpha * n_j ** (1 - alpha) + shrink), with n the items'
    supports: the cosine at alpha = 0.5, shrunk towards 0 when few users support it.
    """

    @classmethod
    def build_similarity(
        cls, interactions: sp.csr_matrix, neighbours: int, shrink: float, alpha: float
    ) -> SimilarityIndex:
        binary = sp.csr_matrix(interactions, copy=True)
        binary.data[:] = 1.0
        counts = sp.coo_matrix(binary.T @ binary)
        off_diagonal = counts.row != counts.col  # no item is similar to itself
        rows, cols = counts.row[off_diagonal], counts.col[off_diagonal]
        support = np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()
        norm = support[rows] ** alpha * support[cols] ** (1.0 - alpha) + shrink
        similarity = counts.data[off_diagonal] / np.maximum(norm, 1e-12)
        matrix = sp.csr_matrix((similarity, (rows, cols)), shape=counts.shape)
        matrix.eliminate_zeros()
        return cls(_keep_top_per_row(matrix, neighbours))
'''


class ItemSimilarity(Transformation):
    """See the module docstring. Parameters: `shrink` >= 0 and `alpha` in [0, 1]."""

    family: ClassVar[Family] = "candidate-neighbours"
    title: ClassVar[str] = "item-item similarity with shrinkage"
    requires: ClassVar[tuple[str, ...]] = (INDEX_CLASS, FIT, "_keep_top_per_row")

    def space(self, view: CodeView) -> Space:
        return (float_param("shrink", 0.0, 200.0), float_param("alpha", 0.0, 1.0))

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"shrink": 10.0, "alpha": 0.5}

    def applied(self, view: CodeView) -> bool:
        return index_swapped(view, CLASS, f"{CLASS}.{BUILD}")

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        module = view.python(view.locate(INDEX_CLASS))
        shrink, alpha = module.constant(SHRINK), module.constant(ALPHA)
        if shrink is None or alpha is None:
            return None
        return {"shrink": float(shrink), "alpha": float(alpha)}

    def files(self, view: CodeView) -> tuple[str, ...]:
        return index_swap_files(view, self.applied(view))

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        path = view.locate(INDEX_CLASS)
        module = view.python(path)
        applied = self.applied(view)
        if not module.has(CLASS):
            module.insert_after(INDEX_CLASS, SIMILARITY_CLASS)
        module.set_constant(SHRINK, float(params["shrink"]), "similarity shrinkage (users)")
        module.set_constant(ALPHA, float(params["alpha"]), "0.5: cosine; else asymmetric")
        out = {path: module.text}
        if not applied:
            args = (
                "{interactions}, self.config.candidates.neighbours, "
                "{module}." + SHRINK + ", {module}." + ALPHA
            )
            out.update(swap_index(view, f"{CLASS}.{BUILD}", args))
        return out

    def hypothesis(self, params: Params) -> str:
        return (
            f"Normalising co-occurrence counts into similarities (shrink "
            f"{float(params['shrink']):.3g}, alpha {float(params['alpha']):.2f}) stops every "
            "item from pointing at the blockbusters, so neighbours become personal."
        )
