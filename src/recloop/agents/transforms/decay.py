"""Time decay by position: a user's latest interactions weigh most, however old they are.

The team's config already decays interactions by calendar age (`recency_half_life_days`), but
a global clock treats a user who last came a year ago as if all their tastes were stale, and
the pipeline scales each user's scores to their best item, which cancels any factor a user's
whole history shares. Decaying by *position* in the user's own history (the n-th most recent
weighs 0.5^(n/h)) emphasises what the user did last, the signal next-item prediction rewards
(session-aware neighbourhoods: Ludewig & Jannach, 2018). `prepare` multiplies its weights by
a new function of the data module; h lives in the constant `HISTORY_HALF_LIFE` (0 disables).
"""

from __future__ import annotations

import ast
from typing import ClassVar

from recloop.agents.source import PythonSource, assigns_to, calls
from recloop.agents.space import Scalar, Space, float_param
from recloop.agents.transform import CodeView, Params, Transformation, TransformError
from recloop.knowledge.proposal import Family

PREPARE = "prepare"
FUNCTION = "history_position_weights"
HALF_LIFE = "HISTORY_HALF_LIFE"
WEIGHTS = "weights"

POSITION_FUNCTION = '''
def history_position_weights(train: TrainingLog, half_life: float) -> np.ndarray:
    """0.5 ** (n / half_life) for each user's n-th most recent interaction (n = 0: the newest).

    Recency by position in the user's own history rather than by date (0 disables it).
    """
    users = np.asarray(train.users, dtype=np.int64)
    if half_life <= 0 or len(users) == 0:
        return np.ones(len(users), dtype=np.float64)
    newest_first = np.lexsort((-np.asarray(train.timestamps, dtype=np.float64), users))
    grouped = users[newest_first]
    position = np.empty(len(users), dtype=np.float64)
    position[newest_first] = np.arange(len(users)) - np.searchsorted(grouped, grouped)
    return np.power(0.5, position / half_life)
'''


def _weights_statement(source: PythonSource) -> ast.stmt:
    return source.find_statement(
        PREPARE,
        lambda s: isinstance(s, ast.Assign) and assigns_to(s, WEIGHTS),
        f"assignment of {WEIGHTS!r}",
    )


class HistoryDecay(Transformation):
    """See the module docstring. Parameter: `half_life`, in interactions."""

    family: ClassVar[Family] = "time-decay"
    title: ClassVar[str] = "position-based history decay"
    requires: ClassVar[tuple[str, ...]] = (PREPARE, "TrainingLog")

    def space(self, view: CodeView) -> Space:
        return (float_param("half_life", 0.5, 100.0, log=True),)

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"half_life": 3.0}

    def applied(self, view: CodeView) -> bool:
        source = view.python(view.locate(PREPARE))
        return source.has(FUNCTION) and bool(calls(source.node(PREPARE), FUNCTION))

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        value = view.python(view.locate(PREPARE)).constant(HALF_LIFE)
        return None if value is None else {"half_life": float(value)}

    def files(self, view: CodeView) -> tuple[str, ...]:
        path = view.locate(PREPARE)
        if view.locate("TrainingLog") != path:
            raise TransformError(f"TrainingLog is not defined beside {PREPARE} in {path}")
        return (path,)

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        path = self.files(view)[0]
        source = view.python(path)
        if not self.applied(view):
            node = source.node(PREPARE)
            train = node.args.args[0].arg if isinstance(node, ast.FunctionDef) else None
            if train is None:
                raise TransformError(f"{path}: {PREPARE} takes no training log argument")
            statement = f"{WEIGHTS} = {WEIGHTS} * {FUNCTION}({train}, {HALF_LIFE})"
            source.insert_after_statement(_weights_statement(source), statement)
            if not source.has(FUNCTION):
                source.insert_after(PREPARE, POSITION_FUNCTION)
        source.set_constant(HALF_LIFE, float(params["half_life"]), "interactions; 0: off")
        return {path: source.text}

    def hypothesis(self, params: Params) -> str:
        return (
            f"Weighing each user's n-th most recent interaction by 0.5^(n/"
            f"{float(params['half_life']):.3g}) makes recommendations follow what the user did "
            "last, which is what the next interaction most resembles."
        )
