"""Swap the candidate generator for EASE, a closed-form item-item model, in the team's own code.

EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019) learns item-item
weights B = I - P / diag(P) with P = (X'X + λI)^-1 and a zero diagonal. The class is written into
the team's candidates module (numpy only, nothing of recloop imported) with the same interface as
the co-occurrence index (`matrix`, `scores(history)`), so the ranking and business rules are
untouched; `Recommender.fit` builds it instead. λ lives in the module constant `EASE_L2`.
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

CLASS = "EaseIndex"
L2 = "EASE_L2"

EASE_CLASS = '''
class EaseIndex:
    """EASE (Steck, WWW 2019): item-item weights from a closed-form ridge regression.

    B = I - P / diag(P) with P = (X'X + l2 I)^-1 and a zero diagonal, so no item explains
    itself. The weights are dense (items x items) and may be negative; scores are the user's
    weighted history times B, and only positive scores make an item a candidate.
    """

    def __init__(self, weights: np.ndarray) -> None:
        self.matrix = weights  # items x items

    @classmethod
    def build(cls, interactions: sp.csr_matrix, l2: float) -> EaseIndex:
        binary = sp.csr_matrix(interactions, copy=True)
        binary.data[:] = 1.0
        gram = np.asarray((binary.T @ binary).toarray(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += l2
        precision = np.linalg.inv(gram)
        weights = precision / -np.diag(precision)[None, :]
        np.fill_diagonal(weights, 0.0)
        return cls(weights)

    def scores(self, history: sp.csr_matrix) -> np.ndarray:
        """Dense users x items scores: the user's weighted history times the item weights."""
        return np.asarray(history @ self.matrix, dtype=np.float64)
'''


class EaseCandidates(Transformation):
    """See the module docstring. Parameter: `l2`, EASE's regularisation λ."""

    family: ClassVar[Family] = "ease-ranking"
    title: ClassVar[str] = "EASE candidate generator"
    requires: ClassVar[tuple[str, ...]] = (INDEX_CLASS, FIT)

    def space(self, view: CodeView) -> Space:
        return (float_param("l2", 5.0, 5000.0, log=True),)

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"l2": 250.0}

    def applied(self, view: CodeView) -> bool:
        return index_swapped(view, CLASS, f"{CLASS}.build")

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        value = view.python(view.locate(INDEX_CLASS)).constant(L2)
        return None if value is None else {"l2": float(value)}

    def files(self, view: CodeView) -> tuple[str, ...]:
        return index_swap_files(view, self.applied(view))

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        candidates_path = view.locate(INDEX_CLASS)
        module = view.python(candidates_path)
        applied = self.applied(view)
        if not module.has(CLASS):
            module.insert_after(INDEX_CLASS, EASE_CLASS)
        module.set_constant(L2, float(params["l2"]), "EASE's L2 regularisation (lambda)")
        out = {candidates_path: module.text}
        if not applied:
            out.update(swap_index(view, f"{CLASS}.build", "{interactions}, {module}." + L2))
        return out

    def hypothesis(self, params: Params) -> str:
        return (
            f"EASE (λ={float(params['l2']):.4g}) learns which items explain each other with "
            "negative weights for misleading co-occurrences, so its candidates and scores "
            "should rank held-out items higher than raw co-occurrence counts."
        )
