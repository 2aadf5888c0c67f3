"""Diversity re-ranking: maximal marginal relevance over the items' genres, before the rules.

The example caps items per main genre, a blunt rule. MMR (Carbonell & Goldstein, SIGIR 1998)
re-orders the top of each list greedily by (1 - λ) relevance - λ (highest genre cosine to an
item already chosen), so a list covers more tastes while staying relevant. Three modules change
and the config file: `RerankConfig` gains `diversity` (0, the dataclass default, keeps the old
behaviour and so the team's tests of the rules), the rerank module gains `diversify`,
`Recommender._recommend_batch` calls it before the business rules, and `config/pipeline.toml`
sets λ. Once in place, tuning λ is a config change.
"""

from __future__ import annotations

import ast
from typing import ClassVar

from recloop.agents.source import PythonSource, assigns_to
from recloop.agents.space import Scalar, Space, float_param
from recloop.agents.tomledit import get_value, set_values
from recloop.agents.transform import (
    CodeView,
    Params,
    Transformation,
    TransformError,
    module_alias,
)
from recloop.agents.transforms._pipeline import (
    BATCH,
    calls_in_batch,
    require_names,
    rules_statement,
)
from recloop.knowledge.proposal import Family

CONFIG_CLASS = "RerankConfig"
POST_INIT = f"{CONFIG_CLASS}.__post_init__"
FIELD = "diversity"
KEY = f"rerank.{FIELD}"
FUNCTION = "diversify"
RULES = "apply_rules"

FIELD_LINE = "diversity: float = 0.0  # MMR trade-off over genres, 0 (off) to 1 (diversity only)"
FIELD_CHECK = """\
if not 0.0 <= self.diversity <= 1.0:
    raise ConfigError(f"RerankConfig.diversity must be in [0, 1], got {self.diversity}")
"""
SCIPY_IMPORT = "import scipy.sparse as sp"
DIVERSIFY_FUNCTIONS = '''
def diversify(scores: np.ndarray, genres: sp.csr_matrix | None, strength: float) -> np.ndarray:
    """Maximal marginal relevance over genres (Carbonell & Goldstein, SIGIR 1998).

    Each user's DIVERSITY_DEPTH best items are re-ordered greedily by
    (1 - strength) * relevance - strength * (highest genre cosine to an item chosen before),
    relevance being the score scaled to [0, 1] among them; they stay above every other item,
    so the business rules still see a full ranking. A strength of 0 changes nothing.
    """
    if strength <= 0 or genres is None or scores.size == 0:
        return scores
    depth = min(DIVERSITY_DEPTH, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    top_scores = np.take_along_axis(scores, top, axis=1)
    usable = np.isfinite(top_scores)
    vectors = _unit_rows(np.asarray(sp.csr_matrix(genres).toarray(), dtype=np.float64))[top]
    similarity = np.einsum("ukg,ulg->ukl", vectors, vectors)
    order = _mmr_order(_scale_to_unit(top_scores, usable), similarity, usable, strength)
    picked = np.take_along_axis(top, order, axis=1)
    keep = np.take_along_axis(usable, order, axis=1)
    lifted = top_scores[:, :1] + np.arange(depth, 0, -1, dtype=np.float64)[None, :]
    rows = np.broadcast_to(np.arange(scores.shape[0])[:, None], picked.shape)
    out = scores.copy()
    out[rows[keep], picked[keep]] = lifted[keep]
    return out


def _mmr_order(
    relevance: np.ndarray, similarity: np.ndarray, usable: np.ndarray, strength: float
) -> np.ndarray:
    """Positions into each row of `relevance`, in the order greedy MMR picks them."""
    users, depth = relevance.shape
    gain = np.where(usable, (1.0 - strength) * relevance, -1e9)
    closest = np.zeros((users, depth))
    left = np.ones((users, depth), dtype=bool)
    order = np.empty((users, depth), dtype=np.int64)
    rows = np.arange(users)
    for step in range(depth):
        pick = np.argmax(np.where(left, gain - strength * closest, -np.inf), axis=1)
        order[:, step] = pick
        left[rows, pick] = False
        closest = np.maximum(closest, similarity[rows, pick])
    return order


def _scale_to_unit(values: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Each row's usable values scaled to [0, 1] (all 1 when they are equal), others 0."""
    low = np.where(usable, values, np.inf).min(axis=1, keepdims=True)
    high = np.where(usable, values, -np.inf).max(axis=1, keepdims=True)
    spread = np.where(usable.any(axis=1, keepdims=True), high - low, 0.0)
    shifted = np.where(usable, values - np.where(np.isfinite(low), low, 0.0), 0.0)
    scaled = np.divide(shifted, spread, out=np.ones_like(shifted), where=spread > 0)
    return np.where(usable, scaled, 0.0)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
'''


def config_file(view: CodeView) -> str:
    """The config file the pipeline reads: the one the manifest's search spaces name."""
    search = view.manifest.search
    if search is None or view.read(search.config) is None:
        raise TransformError("the manifest names no config file ([search] config)")
    return search.config


def _has_field(source: PythonSource) -> bool:
    body = source.node(CONFIG_CLASS).body
    return any(isinstance(s, ast.AnnAssign) and assigns_to(s, FIELD) for s in body)


class MmrDiversity(Transformation):
    """See the module docstring. Parameter: `strength`, MMR's λ in (0, 1)."""

    family: ClassVar[Family] = "diversity-rerank"
    title: ClassVar[str] = "MMR diversity re-ranking over genres"
    requires: ClassVar[tuple[str, ...]] = (CONFIG_CLASS, POST_INIT, RULES, BATCH, "ConfigError")

    def space(self, view: CodeView) -> Space:
        return (float_param("strength", 0.02, 0.8),)

    def defaults(self, view: CodeView) -> dict[str, Scalar]:
        return {"strength": 0.2}

    def applied(self, view: CodeView) -> bool:
        config = view.python(view.locate(CONFIG_CLASS))
        rerank = view.python(view.locate(RULES))
        pipeline = view.python(view.locate(BATCH))
        return _has_field(config) and rerank.has(FUNCTION) and calls_in_batch(pipeline, FUNCTION)

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        if not self.applied(view):
            return None
        value = get_value(view.read(config_file(view)) or "", KEY)
        return {"strength": float(value)} if isinstance(value, int | float) else None

    def files(self, view: CodeView) -> tuple[str, ...]:
        toml = config_file(view)
        if self.applied(view):
            return (toml,)
        pipeline = view.locate(BATCH)
        source = view.python(pipeline)
        rules_statement(source)
        require_names(source, ("scores", "data"))
        return tuple(sorted({view.locate(CONFIG_CLASS), view.locate(RULES), pipeline, toml}))

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        strength = float(params["strength"])
        toml = config_file(view)
        out: dict[str, str] = {}
        if not self.applied(view):
            out.update(self._code(view))
        out[toml] = set_values(
            view.read(toml) or "", {KEY: strength}, {KEY: "MMR over genres: 0 off, 1 max"}
        )
        return out

    def _code(self, view: CodeView) -> dict[str, str]:
        config_path, rerank_path = view.locate(CONFIG_CLASS), view.locate(RULES)
        pipeline_path = view.locate(BATCH)
        config = view.python(config_path)
        if not _has_field(config):
            fields = [s for s in config.node(CONFIG_CLASS).body if isinstance(s, ast.AnnAssign)]
            if not fields:
                raise TransformError(f"{config_path}: {CONFIG_CLASS} has no fields")
            config.insert_after_statement(fields[-1], FIELD_LINE)
            config.insert_after_statement(config.node(POST_INIT).body[-1], FIELD_CHECK)
        rerank = view.python(rerank_path)
        if not rerank.has(FUNCTION):
            _import_scipy(rerank)
            rerank.set_constant("DIVERSITY_DEPTH", 30, "items MMR re-orders at the top of a list")
            rerank.insert_after(RULES, DIVERSIFY_FUNCTIONS)
        pipeline = view.python(pipeline_path)
        alias = _alias_of(pipeline, view.module_name(rerank_path))
        call = f"{alias}.{FUNCTION}(scores, data.item_genres, self.config.rerank.{FIELD})"
        pipeline.insert_before_statement(rules_statement(pipeline), f"scores = {call}")
        return {config_path: config.text, rerank_path: rerank.text, pipeline_path: pipeline.text}

    def hypothesis(self, params: Params) -> str:
        return (
            f"Re-ordering the top of each list by MMR over genres (λ="
            f"{float(params['strength']):.2f}) should show more kinds of films at a small cost "
            "in relevance, raising diversity and coverage."
        )


def _import_scipy(source: PythonSource) -> None:
    """Add `import scipy.sparse as sp` after `import numpy as np` (isort order) if missing."""
    if SCIPY_IMPORT in source.text.splitlines():
        return
    numpy = [
        s
        for s in source.tree.body
        if isinstance(s, ast.Import) and [a.name for a in s.names] == ["numpy"]
    ]
    if not numpy:
        raise TransformError(f"{source.path} does not import numpy as a plain import")
    source.insert_after_statement(numpy[0], SCIPY_IMPORT)


def _alias_of(source: PythonSource, module: str) -> str:
    alias = module_alias(source, module)
    if alias is None:
        raise TransformError(f"{source.path} does not import {module} as a module")
    return alias
