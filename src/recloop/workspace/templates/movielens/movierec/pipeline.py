"""The production recommender: data preparation, candidates, ranking, business rules.

recloop builds it through `build_recommender` (named in recloop.toml) and talks to it only
through `fit(train)` and `recommend(user_ids, k, exclude_seen=True)`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movierec import candidates, ranking, rerank
from movierec.config import DEFAULT_CONFIG, PipelineConfig, load_config
from movierec.data import TrainingData, TrainingLog, main_genres, prepare

BATCH_USERS = 512


class Recommender:
    """Candidates -> ranking -> business rules, fitted on a training log."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self._data: TrainingData | None = None

    def fit(self, train: TrainingLog) -> Recommender:
        """Learn popularity, the co-occurrence index and item genres from the training log."""
        self._data = prepare(train, self.config.data)
        self._index = candidates.CooccurrenceIndex.build(
            self._data.interactions, self.config.candidates.neighbours
        )
        self._main_genre = main_genres(self._data.item_genres, self._data.n_items)
        return self

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        """Item ids (len(user_ids) x k), best first; seen items excluded unless asked otherwise."""
        if self._data is None:
            raise RuntimeError("call fit() before recommend()")
        user_ids = np.asarray(user_ids, dtype=np.int64)
        out = np.empty((len(user_ids), k), dtype=np.int64)
        for start in range(0, len(user_ids), BATCH_USERS):
            batch = user_ids[start : start + BATCH_USERS]
            out[start : start + len(batch)] = self._recommend_batch(
                self._data, batch, k, exclude_seen
            )
        return out

    def _recommend_batch(
        self, data: TrainingData, users: np.ndarray, k: int, exclude_seen: bool
    ) -> np.ndarray:
        history = data.interactions[users]
        if exclude_seen:
            blocked = data.seen[users].toarray() > 0
        else:
            blocked = np.zeros((len(users), data.n_items), dtype=bool)
        found = candidates.generate(
            history, blocked, data.item_popularity, self._index, self.config.candidates
        )
        scores = ranking.blend(
            ranking.features(data, history, found),
            self.config.ranking.weights.as_dict(),
            found.mask,
        )
        return rerank.apply_rules(
            scores, blocked, data.item_popularity, self._main_genre, k, self.config.rerank
        )


def build_recommender(config_path: str | Path = DEFAULT_CONFIG) -> Recommender:
    """The factory recloop calls: the pipeline with the parameters of `config/pipeline.toml`."""
    return Recommender(load_config(config_path))
