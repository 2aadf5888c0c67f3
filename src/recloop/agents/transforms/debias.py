"""Popularity debiasing of the personal score: divide it by the item's popularity to a power.

Co-occurrence scores grow with an item's popularity whatever the user likes, and the ranking
adds a popularity feature on top. Dividing the personal score by popularity^β (β in [0, 1];
the inverse-propensity idea of Schnabel et al., ICML 2016, with popularity as the propensity,
and β tempering it as in Steck, RecSys 2011) leaves room for items the user's history points at
specifically. The team's `features` keeps its shape: its `cooccurrence` entry is wrapped in a
new function of the ranking module; β lives in the constant `POPULARITY_PENALTY`.
"""

from __future__ import annotations

import ast
from typing import ClassVar

from recloop.agents.source import PythonSource, calls
from recloop.agents.space import Scalar, Space, float_param
from recloop.agents.transform import CodeView, Params, Transformation, TransformError
from recloop.knowledge.proposal import Family

FEATURES = "features"
FUNCTION = "popularity_debiased"
PENALTY = "POPULARITY_PENALTY"
FEATURE_KEY = "cooccurrence"
MAX_LINE = 100

DEBIAS_FUNCTION = '''
def popularity_debiased(scores: np.ndarray, item_popularity: np.ndarray) -> np.ndarray:
    """Scores divided by popularity ** POPULARITY_PENALTY, then scaled to [0, 1] per user."""
    penalty = np.maximum(item_popularity.astype(np.float64), 1.0) ** POPULARITY_PENALTY
    return _scale_rows(scores / penalty[None, :])
'''


def _feature_value(source: PythonSource) -> ast.expr:
    """The value of the `"cooccurrence"` entry of the dict `features` returns."""
    found = []
    for node in ast.walk(source.node(FEATURES)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == FEATURE_KEY:
                    found.append(value)
    if len(found) != 1:
        raise TransformError(f"{source.path}: {FEATURES} has {len(found)} {FEATURE_KEY!r} entries")
    return found[0]


class PopularityDebias(Transformation):
    """See the module docstring. Parameter: `beta` in [0, 1]."""

    family: ClassVar[Family] = "popularity-debias"
    title: ClassVar[str] = "popularity-debiased personal scores"
    requires: ClassVar[tuple[str, ...]] = (FEATURES, "_scale_rows")

    def space(self, view: CodeView) -> Space:
        return (float_param("beta", 0.05, 1.0),)

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"beta": 0.5}

    def applied(self, view: CodeView) -> bool:
        source = view.python(view.locate(FEATURES))
        return source.has(FUNCTION) and bool(calls(_feature_value(source), FUNCTION))

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        value = view.python(view.locate(FEATURES)).constant(PENALTY)
        return None if value is None else {"beta": float(value)}

    def files(self, view: CodeView) -> tuple[str, ...]:
        return (view.locate(FEATURES),)

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        path = view.locate(FEATURES)
        source = view.python(path)
        if not self.applied(view):
            node = source.node(FEATURES)
            data = node.args.args[0].arg if isinstance(node, ast.FunctionDef) else None
            if data is None:
                raise TransformError(f"{path}: {FEATURES} takes no training data argument")
            value = _feature_value(source)
            inner = source.expression_text(value)
            wrapped = f"{FUNCTION}({inner}, {data}.item_popularity)"
            line = source.text.splitlines()[value.lineno - 1]
            if len(line) - len(source.expression_text(value)) + len(wrapped) > MAX_LINE:
                indent = " " * (len(line) - len(line.lstrip()) + 4)
                closing = " " * (len(line) - len(line.lstrip()))
                wrapped = f"{FUNCTION}(\n{indent}{inner}, {data}.item_popularity\n{closing})"
            source.replace_expression(value, wrapped)
            if not source.has(FUNCTION):
                source.insert_after(FEATURES, DEBIAS_FUNCTION)
        source.set_constant(PENALTY, float(params["beta"]), "personal score / popularity**beta")
        return {path: source.text}

    def hypothesis(self, params: Params) -> str:
        return (
            f"Dividing the personal score by popularity^{float(params['beta']):.2f} lets items "
            "the user's history points at specifically beat blockbusters that co-occur with "
            "everything."
        )
