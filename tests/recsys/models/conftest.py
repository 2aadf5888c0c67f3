"""Small random interaction sets shared by the model tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from recloop.recsys.data import Interactions


def random_interactions(
    n_users: int = 30, n_items: int = 12, density: float = 0.3, seed: int = 0
) -> Interactions:
    """A random binary users x items set in which every user and every item occurs."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    return Interactions.from_raw(users, items)


@pytest.fixture
def make_interactions() -> Callable[..., Interactions]:
    """The factory above, as a fixture so test modules need not import this file."""
    return random_interactions
