"""MostPopular ranks by distinct train users per item, ties to the lower item index."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.models.popular import MostPopular, PopConfig


@pytest.fixture
def tiny() -> Interactions:
    # Distinct users: a 4, b 3, c 1, d 2. Raw interactions: d has 4 (user 4 repeats it three
    # times), so counting rows instead of users would put d before b.
    users = np.array([1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5])
    items = np.array(["a", "b", "a", "c", "a", "b", "d", "d", "d", "d", "b", "a"])
    return Interactions.from_raw(users, items, np.full(len(users), 5.0), np.arange(len(users)))


def test_scores_are_distinct_user_counts(tiny: Interactions) -> None:
    model = MostPopular().fit(tiny)
    np.testing.assert_array_equal(model.item_scores, [4, 3, 1, 2])


def test_order_is_popularity_then_lower_index(tiny: Interactions) -> None:
    model = MostPopular().fit(tiny)
    recs = model.recommend(np.arange(tiny.n_users), k=4, exclude_seen=False)
    np.testing.assert_array_equal(recs, np.tile([0, 1, 3, 2], (tiny.n_users, 1)))


def test_seen_items_are_skipped_in_popularity_order(tiny: Interactions) -> None:
    model = MostPopular().fit(tiny)
    recs = model.recommend(np.array([0, 1, 4]), k=2)
    # user 1 saw a, b; user 2 saw a, c; user 5 saw a.
    np.testing.assert_array_equal(recs, [[3, 2], [1, 3], [1, 3]])


def test_config_has_no_settings() -> None:
    assert MostPopular().config == PopConfig()
    with pytest.raises(ValidationError):
        MostPopular(top=3)
