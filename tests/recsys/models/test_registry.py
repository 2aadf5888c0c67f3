"""The registry, the recommend() contract every model keeps, and a sanity check on ML-100K."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.models import (
    EASE,
    MODEL_NAMES,
    EASEConfig,
    ItemKNN,
    MostPopular,
    RP3beta,
    config_type,
    make_model,
)
from recloop.recsys.protocol import Recommender, ScoringRecommender

MakeInteractions = Callable[..., Interactions]


def test_model_names_and_types() -> None:
    assert MODEL_NAMES == ("pop", "itemknn", "ease", "rp3beta")
    built = [type(make_model(name)) for name in MODEL_NAMES]
    assert built == [MostPopular, ItemKNN, EASE, RP3beta]
    assert config_type("ease") is EASEConfig


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'knn'.*pop, itemknn, ease, rp3beta"):
        make_model("knn")


def test_params_are_validated_by_the_config() -> None:
    model = make_model("ease", l2=42.0)
    assert isinstance(model, EASE) and model.config.l2 == 42.0
    with pytest.raises(ValidationError):
        make_model("ease", l2=-1.0)
    with pytest.raises(ValidationError):
        make_model("itemknn", neighbours=5)  # misspelt setting
    with pytest.raises(ValidationError):
        make_model("rp3beta", neighbors="many")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_recommend_contract(make_interactions: MakeInteractions, name: str) -> None:
    data = make_interactions(n_users=60, n_items=40, density=0.15, seed=10)
    users = np.arange(data.n_users)
    model = make_model(name).fit(data)
    assert isinstance(model, Recommender) and isinstance(model, ScoringRecommender)
    recs = model.recommend(users, k=5)
    assert recs.shape == (data.n_users, 5)
    assert np.issubdtype(recs.dtype, np.integer)
    assert ((recs >= 0) & (recs < data.n_items)).all()
    assert all(len(set(row)) == 5 for row in recs.tolist())
    seen = data.binary.toarray().astype(bool)
    assert not np.take_along_axis(seen, recs, axis=1).any()

    again = make_model(name).fit(data).recommend(users, k=5)
    np.testing.assert_array_equal(recs, again)

    with_seen = model.recommend(users, k=5, exclude_seen=False)
    assert np.take_along_axis(seen, with_seen, axis=1).any()
    assert all(len(set(row)) == 5 for row in with_seen.tolist())


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_k_larger_than_the_catalogue_and_user_subsets(
    make_interactions: MakeInteractions, name: str
) -> None:
    data = make_interactions(n_users=12, n_items=8, density=0.2, seed=11)
    model = make_model(name).fit(data)
    full = model.recommend(np.arange(data.n_users), k=50, exclude_seen=False)
    assert full.shape == (data.n_users, data.n_items)
    assert (np.sort(full, axis=1) == np.arange(data.n_items)).all()
    subset = np.array([5, 2, 5])
    np.testing.assert_array_equal(model.recommend(subset, k=3), model.recommend(subset, k=3))
    np.testing.assert_array_equal(
        model.recommend(subset, k=3), model.recommend(np.arange(data.n_users), k=3)[subset]
    )


# --- sanity on real data -------------------------------------------------------------------


class RandomScores(ScoringRecommender):
    """Uniform random scores from a fixed seed: the floor below popularity."""

    def _fit(self, train: Interactions) -> None:
        self._rng = np.random.default_rng(0)
        self._n_items = train.n_items

    def _score(self, user_ids: np.ndarray) -> np.ndarray:
        return self._rng.random((len(user_ids), self._n_items))


def ml100k_leave_last_out() -> tuple[Interactions, Interactions]:
    """Ratings >= 4 of ML-100K; each user's latest positive (if they have two) is held out."""
    path = Path(os.environ.get("RECLOOP_DATA_DIR", "/work/shared/data")) / "ml-100k" / "u.data"
    if not path.is_file():
        pytest.skip(f"ML-100K not found at {path} (set RECLOOP_DATA_DIR)")
    raw = np.loadtxt(path, dtype=np.int64)
    raw = raw[raw[:, 2] >= 4]
    data = Interactions.from_raw(raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3], name="ml-100k")
    order = np.lexsort((data.items, data.timestamps, data.users))
    users = data.users[order]
    last_of_user = np.r_[users[1:] != users[:-1], True]
    has_two = np.bincount(data.users, minlength=data.n_users)[users] >= 2
    held_out = np.zeros(data.n_interactions, dtype=bool)
    held_out[order[last_of_user & has_two]] = True
    return data.select(~held_out, name="train"), data.select(held_out, name="test")


def hit_rate(model: ScoringRecommender, test: Interactions, k: int = 10) -> float:
    recs = model.recommend(test.users, k=k)
    return float((recs == test.items[:, None]).any(axis=1).mean())


def test_personalised_models_beat_popularity_and_random_on_ml100k() -> None:
    train, test = ml100k_leave_last_out()
    assert test.n_interactions > 900  # one held-out positive for almost every user
    scores = {
        name: hit_rate(model.fit(train), test)
        for name, model in [
            ("random", RandomScores()),
            ("pop", make_model("pop")),
            ("itemknn", make_model("itemknn")),
            ("ease", make_model("ease")),
        ]
    }
    assert scores["pop"] > scores["random"], scores
    for name in ("itemknn", "ease"):
        assert scores[name] > scores["pop"], scores
