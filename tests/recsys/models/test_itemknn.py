"""ItemKNN against a brute-force dense cosine with shrinkage, before and after pruning."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.models.itemknn import ItemKNN, ItemKNNConfig

MakeInteractions = Callable[..., Interactions]


def dense_cosine(x: np.ndarray, shrink: float) -> np.ndarray:
    """sim(i, j) = x_i·x_j / (|x_i||x_j| + shrink) over item columns, zero diagonal."""
    norms = np.linalg.norm(x, axis=0)
    sim = (x.T @ x) / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(sim, 0.0)
    return sim


def prune_columns(sim: np.ndarray, n: int) -> np.ndarray:
    """Keep the n largest positive entries of each column (ties to the lower row), by sorting."""
    out = np.zeros_like(sim)
    for j in range(sim.shape[1]):
        rows = [i for i in range(sim.shape[0]) if sim[i, j] > 0]
        for i in sorted(rows, key=lambda i: (-sim[i, j], i))[:n]:
            out[i, j] = sim[i, j]
    return out


@pytest.mark.parametrize("shrink", [0.0, 2.5])
def test_unpruned_similarity_is_shrunk_cosine(
    make_interactions: MakeInteractions, shrink: float
) -> None:
    data = make_interactions(n_users=40, n_items=15, density=0.3, seed=1)
    model = ItemKNN(neighbors=data.n_items, shrink=shrink).fit(data)
    expected = dense_cosine(data.binary.toarray().astype(np.float64), shrink)
    np.testing.assert_allclose(model.similarity.toarray(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("neighbors", [1, 3, 6])
def test_pruning_keeps_exactly_the_top_n_per_column(
    make_interactions: MakeInteractions, neighbors: int
) -> None:
    data = make_interactions(n_users=25, n_items=18, density=0.25, seed=2)
    model = ItemKNN(neighbors=neighbors, shrink=1.0).fit(data)
    full = dense_cosine(data.binary.toarray().astype(np.float64), 1.0)
    got = model.similarity.toarray()
    np.testing.assert_allclose(got, prune_columns(full, neighbors), rtol=1e-6, atol=1e-7)
    kept_per_column = (got > 0).sum(axis=0)
    np.testing.assert_array_equal(kept_per_column, np.minimum(neighbors, (full > 0).sum(axis=0)))


def test_scores_are_user_rows_times_similarity(make_interactions: MakeInteractions) -> None:
    data = make_interactions(n_users=30, n_items=20, density=0.2, seed=3)
    model = ItemKNN(neighbors=5).fit(data)
    users = np.array([0, 7, 29, 7])
    expected = data.binary.toarray()[users] @ model.similarity.toarray()
    np.testing.assert_allclose(model._score(users), expected, rtol=1e-6)


def test_config_validation() -> None:
    assert ItemKNN().config == ItemKNNConfig(neighbors=100, shrink=0.0)
    assert ItemKNN(ItemKNNConfig(neighbors=7), shrink=3.0).config.neighbors == 7
    with pytest.raises(ValidationError):
        ItemKNN(neighbors=0)
    with pytest.raises(ValidationError):
        ItemKNN(shrink=-1.0)
