"""RP3beta against a dense computation of the random-walk weights, including empty rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.models.rp3beta import RP3beta, RP3betaConfig

MakeInteractions = Callable[..., Interactions]


def row_normalised(m: np.ndarray) -> np.ndarray:
    totals = m.sum(axis=1, keepdims=True)
    return np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)


def dense_rp3beta(x: np.ndarray, alpha: float, beta: float, neighbors: int) -> np.ndarray:
    """W = P_iu^α P_ui^α, column j / pop(j)^β, zero diagonal, then each row's top-n entries."""
    p_ui = row_normalised(x) ** alpha
    p_iu = row_normalised(x.T) ** alpha
    pop = x.sum(axis=0)
    w = p_iu @ p_ui
    w = np.divide(w, pop**beta, out=np.zeros_like(w), where=pop > 0)
    np.fill_diagonal(w, 0.0)
    out = np.zeros_like(w)
    for i in range(w.shape[0]):
        cols = [j for j in range(w.shape[1]) if w[i, j] > 0]
        for j in sorted(cols, key=lambda j: (-w[i, j], j))[:neighbors]:
            out[i, j] = w[i, j]
    return out


@pytest.mark.parametrize(
    ("alpha", "beta", "neighbors"), [(1.0, 0.6, 100), (0.7, 0.3, 4), (1.3, 0.0, 2)]
)
def test_weights_equal_dense_reference(
    make_interactions: MakeInteractions, alpha: float, beta: float, neighbors: int
) -> None:
    data = make_interactions(n_users=35, n_items=16, density=0.3, seed=7)
    model = RP3beta(alpha=alpha, beta=beta, neighbors=neighbors).fit(data)
    expected = dense_rp3beta(data.binary.toarray().astype(np.float64), alpha, beta, neighbors)
    np.testing.assert_allclose(model.weights.toarray(), expected, rtol=1e-5, atol=1e-8)
    assert (np.diff(model.weights.indptr) <= neighbors).all()


def test_users_and_items_without_train_interactions(make_interactions: MakeInteractions) -> None:
    data = make_interactions(n_users=20, n_items=10, density=0.4, seed=8)
    train = data.select((data.users != 3) & (data.items != 5))  # same index space, both empty
    model = RP3beta(neighbors=10).fit(train)
    expected = dense_rp3beta(train.binary.toarray().astype(np.float64), 1.0, 0.6, 10)
    np.testing.assert_allclose(model.weights.toarray(), expected, rtol=1e-5, atol=1e-8)
    assert np.isfinite(model._score(np.arange(train.n_users))).all()


def test_scores_are_user_rows_times_weights(make_interactions: MakeInteractions) -> None:
    data = make_interactions(n_users=30, n_items=20, density=0.2, seed=9)
    model = RP3beta(neighbors=5).fit(data)
    users = np.array([1, 28, 1])
    expected = data.binary.toarray()[users] @ model.weights.toarray()
    np.testing.assert_allclose(model._score(users), expected, rtol=1e-6)


def test_config_validation() -> None:
    assert RP3beta().config == RP3betaConfig(alpha=1.0, beta=0.6, neighbors=100)
    for bad in ({"alpha": 0.0}, {"beta": -0.1}, {"neighbors": 0}, {"gamma": 1.0}):
        with pytest.raises(ValidationError):
            RP3beta(**bad)
