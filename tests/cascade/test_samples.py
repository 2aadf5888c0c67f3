"""User samples: seeded, the catalogue intact, cold-start users without any interaction."""

from __future__ import annotations

import numpy as np

from recloop.cascade.samples import sample_users, user_sample
from recloop.recsys.data import Interactions


def _log() -> Interactions:
    users = np.array([0, 0, 1, 2, 2, 2, 4, 4])
    items = np.array([0, 1, 1, 2, 3, 0, 4, 1])
    data = Interactions.from_raw(users * 10 + 7, items + 100)
    # a user without interactions (raw id 999) in the id map
    return Interactions(
        users=data.users,
        items=data.items,
        ratings=data.ratings,
        timestamps=data.timestamps,
        user_ids=np.append(data.user_ids, 999),
        item_ids=data.item_ids,
    )


def test_only_users_with_history_are_sampled_reproducibly() -> None:
    log = _log()
    picked = sample_users(log, 2, seed=3)
    assert len(picked) == 2 and (log.user_counts[picked] > 0).all()
    assert np.array_equal(picked, sample_users(log, 2, seed=3))
    assert len(sample_users(log, 99, seed=0)) == 4  # all active users when asked for more


def test_a_sample_keeps_its_users_history_and_the_whole_catalogue() -> None:
    log = _log()
    sample = user_sample(log, 2, seed=1, n_cold=3)
    picked = sample_users(log, 2, seed=1)
    assert sample.train.n_items == log.n_items
    assert sample.n_users == 5 and list(sample.cold_users) == [2, 3, 4]
    assert list(sample.warm_users) == [0, 1]
    for new, old in enumerate(picked):
        assert np.array_equal(sample.train.binary[new].indices, log.binary[old].indices)
    assert sample.train.user_counts[sample.cold_users].sum() == 0
    ids = list(sample.train.user_ids)
    assert len(set(ids)) == len(ids) and min(ids[2:]) > max(log.user_ids)


def test_string_ids_get_fresh_cold_ids() -> None:
    data = Interactions.from_raw(np.array(["a", "b"]), np.array(["x", "y"]))
    sample = user_sample(data, 5, seed=0, n_cold=2)
    assert list(sample.train.user_ids[-2:]) == ["recloop-cold-0", "recloop-cold-1"]
