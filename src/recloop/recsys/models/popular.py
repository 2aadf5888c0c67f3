"""MostPopular: every user gets the items most train users interacted with.

The floor any personalised model must clear; if it does not, the model or the split is broken.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recloop.recsys.data import Interactions
from recloop.recsys.models._config import ModelConfig, resolve_config
from recloop.recsys.protocol import ScoringRecommender


class PopConfig(ModelConfig):
    """MostPopular has no settings; the config exists so every model is built the same way."""


class MostPopular(ScoringRecommender):
    """Score = number of distinct train users per item (ties go to the lower item index)."""

    config: PopConfig

    def __init__(self, config: PopConfig | None = None, **kwargs: Any) -> None:
        self.config = resolve_config(PopConfig, config, kwargs)

    def _fit(self, train: Interactions) -> None:
        self.item_scores = train.item_counts.astype(np.float32)

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        # A read-only broadcast view; recommend() copies before masking seen items.
        return np.broadcast_to(self.item_scores, (len(user_ids), len(self.item_scores)))
