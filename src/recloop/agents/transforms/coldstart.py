"""Cold-start fallback: users with too short a history are ranked by popularity alone.

With a handful of interactions the co-occurrence score is noise, and a popular item is the
safer bet. Before the business rules, `Recommender._recommend_batch` replaces the scores of
users with fewer than `COLD_START_MIN_HISTORY` interactions by the items' log popularity
(blocked items stay excluded). The threshold lives in that constant of the pipeline module.
"""

from __future__ import annotations

from typing import ClassVar

from recloop.agents.space import Scalar, Space, int_param
from recloop.agents.transform import CodeView, Params, Transformation
from recloop.agents.transforms._pipeline import (
    BATCH,
    calls_in_batch,
    require_names,
    rules_statement,
)
from recloop.knowledge.proposal import Family

FUNCTION = "cold_start_fallback"
THRESHOLD = "COLD_START_MIN_HISTORY"
NAMES = ("scores", "history", "blocked", "data")

FALLBACK_FUNCTION = '''
def cold_start_fallback(
    scores: np.ndarray, history_lengths: np.ndarray, blocked: np.ndarray, popularity: np.ndarray
) -> np.ndarray:
    """Users with fewer than COLD_START_MIN_HISTORY interactions: log popularity as the score."""
    short = history_lengths < COLD_START_MIN_HISTORY
    if not short.any():
        return scores
    fallback = np.log1p(popularity.astype(np.float64))
    out = scores.copy()
    out[short] = np.where(blocked[short], -np.inf, fallback[None, :])
    return out
'''


class ColdStartFallback(Transformation):
    """See the module docstring. Parameter: `min_history`, in interactions."""

    family: ClassVar[Family] = "cold-start-fallback"
    title: ClassVar[str] = "popularity fallback for short histories"
    requires: ClassVar[tuple[str, ...]] = (BATCH, "Recommender")

    def space(self, view: CodeView) -> Space:
        return (int_param("min_history", 1, 30),)

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"min_history": 3}

    def applied(self, view: CodeView) -> bool:
        source = view.python(view.locate(BATCH))
        return source.has(FUNCTION) and calls_in_batch(source, FUNCTION)

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        value = view.python(view.locate(BATCH)).constant(THRESHOLD)
        return None if not isinstance(value, int) else {"min_history": value}

    def files(self, view: CodeView) -> tuple[str, ...]:
        path = view.locate(BATCH)
        source = view.python(path)
        rules_statement(source)
        require_names(source, NAMES)
        return (path,)

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        path = self.files(view)[0]
        source = view.python(path)
        if not self.applied(view):
            statement = (
                f"scores = {FUNCTION}(scores, np.diff(history.indptr), blocked, "
                "data.item_popularity)"
            )
            source.insert_before_statement(rules_statement(source), statement)
            if not source.has(FUNCTION):
                source.insert_after("Recommender", FALLBACK_FUNCTION)
        source.set_constant(THRESHOLD, int(params["min_history"]), "interactions")
        return {path: source.text}

    def hypothesis(self, params: Params) -> str:
        return (
            f"Users with fewer than {int(params['min_history'])} interactions get noisy "
            "personal scores; popularity alone should serve them better."
        )
