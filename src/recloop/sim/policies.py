"""Policies are recommenders: fitted on the world's log, asked for slates in timed batches.

A policy is anything with the `Recommender` protocol — a reference model, a team's model, or an
agent's candidate (served from the sandbox by the caller). Policies are static during a test, so
each is asked once per persona for its `candidates` best unseen items, in batches of 1,000
personas through `recommend`, exactly as a server would be; every answer is checked by the
trusted evaluator's validator. The wall time of each batch, per user, is the serving latency
logged with every exposure served from it, and the per-1,000-users figure is reported per policy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import validate_recommendations
from recloop.recsys.models import MODEL_NAMES, make_model
from recloop.recsys.models._config import ModelConfig
from recloop.recsys.protocol import Recommender, ScoringRecommender
from recloop.sim.hashing import GOLDEN_GAMMA, mix64

POLICY_NAMES: tuple[str, ...] = (*MODEL_NAMES, "random")
SERVING_BATCH_USERS = 1_000


class RandomConfig(ModelConfig):
    """The seed of the random policy (each user gets a fixed random order of unseen items)."""

    seed: int = 0


class RandomPolicy(ScoringRecommender):
    """A uniformly random ranking per user, fixed by (seed, user): the floor of any policy."""

    config: RandomConfig

    def __init__(self, config: RandomConfig | None = None, **kwargs: Any) -> None:
        self.config = config or RandomConfig(**kwargs)

    def _fit(self, train: Interactions) -> None:
        self._n_items = train.n_items

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        keys = np.asarray(user_ids, np.uint64)[:, None] * np.uint64(self._n_items)
        keys = keys + np.arange(self._n_items, dtype=np.uint64)[None, :]
        keys *= np.uint64(GOLDEN_GAMMA)
        keys += np.uint64(self.config.seed)
        return (mix64(keys) >> np.uint64(11)).astype(np.float32)


def make_policy(name: str, seed: int = 0) -> Recommender:
    """A policy by name: a reference model with its default settings, or "random"."""
    if name == "random":
        return RandomPolicy(seed=seed)
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown policy {name!r}; choose one of: {', '.join(POLICY_NAMES)}")
    return make_model(name)


@dataclass(frozen=True, eq=False)
class Slates:
    """A policy's ranked candidates for every persona and what serving them cost."""

    policy: str
    items: np.ndarray  # int64 (n_personas, candidates), best first
    latency_ms: np.ndarray  # float64 (n_personas,): per-user wall time of the persona's batch
    fit_seconds: float
    serve_seconds: float

    @property
    def ms_per_1000_users(self) -> float:
        """Wall time of the recommend calls per 1,000 users, in milliseconds."""
        return 1e6 * self.serve_seconds / max(1, len(self.items))


def serve(
    name: str,
    policy: Recommender,
    train: Interactions,
    candidates: int,
    batch_users: int = SERVING_BATCH_USERS,
) -> Slates:
    """Fit `policy` on `train`, then ask it for every persona's candidates in timed batches."""
    started = time.perf_counter()
    policy.fit(train)
    fit_seconds = time.perf_counter() - started
    k = min(candidates, train.n_items - int(train.user_counts.max()))
    if k < 1:
        raise ValueError("a persona has seen every item; nothing is left to recommend")
    users = np.arange(train.n_users)
    items = np.empty((len(users), k), np.int64)
    latency = np.empty(len(users))
    seen = train.binary
    for start in range(0, len(users), batch_users):
        batch = users[start : start + batch_users]
        tic = time.perf_counter()
        answer = policy.recommend(batch, k, exclude_seen=True)
        seconds = time.perf_counter() - tic
        items[batch] = validate_recommendations(answer, batch, k, train.n_items, seen[batch])
        latency[batch] = 1000.0 * seconds / len(batch)
    return Slates(
        policy=name,
        items=items,
        latency_ms=latency,
        fit_seconds=fit_seconds,
        serve_seconds=float(latency.sum() / 1000.0),
    )
