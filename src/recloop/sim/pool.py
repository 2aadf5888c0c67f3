"""The candidate pool: every item any policy may show a persona, with its true response logits.

Per persona, the union of the policies' candidate lists gets local column numbers 0..C-1, so a
user's state (views for fatigue, consumed items) is a small dense (users x C) array instead of a
(users x catalogue) one, and the click and satisfaction logits of each (persona, column) are
computed once from the ground truth, not per impression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.sim.policies import Slates
from recloop.sim.response import ClickModel
from recloop.sim.truth import GroundTruth


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """Union columns per persona and each policy's candidates as columns of it."""

    items: np.ndarray  # int64 (n_personas, C): item index of each column, -1 where unused
    columns: np.ndarray  # int32 (n_policies, n_personas, candidates): column of each candidate
    click_logit: np.ndarray  # float32 (n_personas, C)
    satisfaction_logit: np.ndarray  # float32 (n_personas, C)
    latency_ms: np.ndarray  # float64 (n_policies, n_personas)
    policies: tuple[str, ...]

    @property
    def n_columns(self) -> int:
        return self.items.shape[1]

    @property
    def n_candidates(self) -> int:
        return self.columns.shape[2]


def build_pool(slates: list[Slates], truth: GroundTruth, model: ClickModel) -> CandidatePool:
    """Merge the policies' candidates per persona and look up their true logits."""
    m = min(s.items.shape[1] for s in slates)
    stacked = np.concatenate([s.items[:, :m] for s in slates], axis=1)  # (n, P * m)
    n, width = stacked.shape
    order = np.argsort(stacked, axis=1, kind="stable")
    ranked = np.take_along_axis(stacked, order, axis=1)
    first = np.ones((n, width), bool)
    first[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    local = np.cumsum(first, axis=1) - 1  # column of each sorted entry
    column_of = np.empty((n, width), np.int32)
    np.put_along_axis(column_of, order, local, axis=1)
    n_columns = int(first.sum(axis=1).max())
    items = np.full((n, n_columns), -1, np.int64)
    rows, cols = np.nonzero(first)
    items[rows, local[rows, cols]] = ranked[rows, cols]
    personas = np.repeat(np.arange(n), n_columns).reshape(n, n_columns)
    used = items >= 0
    click = np.full((n, n_columns), -np.inf, np.float32)
    sat = np.zeros((n, n_columns), np.float32)
    rel = truth.relevance(personas[used], items[used])
    click[used] = model.click_logit(rel, truth.item_bait[items[used]])
    sat[used] = model.satisfaction_logit(
        rel, truth.item_quality[items[used]], truth.item_bait[items[used]]
    )
    return CandidatePool(
        items=items,
        columns=column_of.reshape(n, len(slates), m).transpose(1, 0, 2).copy(),
        click_logit=click,
        satisfaction_logit=sat,
        latency_ms=np.stack([s.latency_ms for s in slates]),
        policies=tuple(s.policy for s in slates),
    )
