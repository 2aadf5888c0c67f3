from __future__ import annotations

import numpy as np
import pytest

from recloop.recsys.models import MostPopular
from recloop.sim.policies import POLICY_NAMES, RandomPolicy, make_policy, serve
from recloop.sim.truth import SyntheticTruth


def test_every_policy_name_builds() -> None:
    assert set(POLICY_NAMES) == {"pop", "itemknn", "ease", "rp3beta", "random"}
    assert isinstance(make_policy("pop"), MostPopular)
    with pytest.raises(ValueError, match="pop, itemknn, ease, rp3beta, random"):
        make_policy("bandit")


def test_random_policy_is_fixed_per_user_and_spreads_over_items(truth: SyntheticTruth) -> None:
    train = truth.train
    users = np.arange(train.n_users)
    a = RandomPolicy(seed=1).fit(train).recommend(users, 20)
    b = RandomPolicy(seed=1).fit(train).recommend(users, 20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, RandomPolicy(seed=2).fit(train).recommend(users, 20))
    coverage = len(np.unique(a)) / train.n_items
    assert coverage > 0.9


def test_serving_validates_answers_and_measures_latency(truth: SyntheticTruth) -> None:
    slates = serve("random", RandomPolicy(), truth.train, candidates=30, batch_users=200)
    assert slates.items.shape == (truth.train.n_users, 30)
    seen = truth.train.binary
    rows = np.repeat(np.arange(seen.shape[0]), 30)
    assert not np.asarray(seen[rows, slates.items.ravel()]).any()  # seen items excluded
    assert (slates.latency_ms > 0).all() and slates.ms_per_1000_users > 0
    assert len(np.unique(slates.latency_ms)) <= 5  # one figure per batch of 200 personas
