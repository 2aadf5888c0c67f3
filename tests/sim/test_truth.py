from __future__ import annotations

import numpy as np
import pytest

from recloop.recsys.data import Interactions
from recloop.sim.truth import (
    GroundTruth,
    MovieLensTruth,
    SyntheticTruth,
    load_truth,
    movielens_truth,
    normal_scores,
)


def _check_truth(truth: GroundTruth) -> None:
    train = truth.train
    users = np.arange(train.n_users)[:, None]
    rel = truth.relevance(users, np.arange(train.n_items)[None, :])
    assert rel.shape == train.shape
    assert 0.8 < rel.std() < 1.2
    seen = train.binary.toarray() > 0
    assert rel[seen].mean() > rel[~seen].mean() + 1.0  # what users chose, they like
    assert truth.item_quality.shape == truth.item_bait.shape == (train.n_items,)
    assert abs(truth.item_bait.mean()) < 1e-4 and truth.item_bait.std() == pytest.approx(1, 1e-3)


def test_synthetic_truth_is_the_worlds_affinity(truth: SyntheticTruth) -> None:
    assert isinstance(truth, GroundTruth)
    _check_truth(truth)
    pairs = truth.relevance(np.array([3, 5]), np.array([7, 11]))
    world_users, world_items = truth.train.user_ids[[3, 5]], truth.train.item_ids[[7, 11]]
    np.testing.assert_allclose(pairs, truth.world.affinity(world_users, world_items), rtol=1e-6)
    popularity = truth.world.item_popularity[truth.train.item_ids]
    assert np.corrcoef(truth.item_bait, np.log(popularity))[0, 1] > 0.99


def test_movielens_truth_is_a_calibrated_ensemble(ml100k: Interactions) -> None:
    truth = movielens_truth(ml100k)
    assert isinstance(truth, MovieLensTruth) and isinstance(truth, GroundTruth)
    _check_truth(truth)
    assert truth.scores.mean() == pytest.approx(0.0, abs=1e-3)
    assert truth.train.n_users == ml100k.implicit().n_users


def test_normal_scores_are_standard_normal_and_keep_order() -> None:
    x = np.random.default_rng(0).exponential(size=(100, 50))
    z = normal_scores(x)
    assert z.mean() == pytest.approx(0.0, abs=1e-3) and z.std() == pytest.approx(1.0, abs=0.01)
    assert (np.argsort(z.ravel()) == np.argsort(x.ravel())).all()


def test_unknown_world_is_refused() -> None:
    with pytest.raises(ValueError, match="synthetic, ml-100k"):
        load_truth("ml-25m")
