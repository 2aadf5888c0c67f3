"""EASE weights against the closed form computed directly, and against per-item ridge solves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.models.ease import EASE, EASEConfig

MakeInteractions = Callable[..., Interactions]


def closed_form(x: np.ndarray, l2: float) -> np.ndarray:
    """Steck (2019), eq. 8: B = I - P diag(1/diag(P)), P = (XᵀX + λI)⁻¹, with numpy's inverse."""
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    return np.eye(x.shape[1]) - p @ np.diag(1.0 / np.diag(p))


def ridge_per_item(x: np.ndarray, l2: float) -> np.ndarray:
    """The same objective solved column by column: item j regressed on all other items.

    min_b ||x_j - X_{-j} b||² + λ||b||² is the EASE objective restricted to column j with
    B_jj = 0, so it checks the closed form by a different route.
    """
    n = x.shape[1]
    b = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        xo = x[:, others]
        b[others, j] = np.linalg.solve(xo.T @ xo + l2 * np.eye(n - 1), xo.T @ x[:, j])
    return b


@pytest.mark.parametrize("l2", [0.5, 10.0, 500.0])
def test_weights_equal_the_closed_form(make_interactions: MakeInteractions, l2: float) -> None:
    data = make_interactions(n_users=50, n_items=14, density=0.3, seed=4)
    x = data.binary.toarray().astype(np.float64)
    model = EASE(l2=l2).fit(data)
    assert model.weights.dtype == np.float32
    np.testing.assert_allclose(model.weights, closed_form(x, l2), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.weights, ridge_per_item(x, l2), rtol=1e-4, atol=1e-6)


def test_diagonal_is_exactly_zero(make_interactions: MakeInteractions) -> None:
    model = EASE(l2=1.0).fit(make_interactions(seed=5))
    assert not np.diag(model.weights).any()


def test_scores_are_user_rows_times_weights(make_interactions: MakeInteractions) -> None:
    data = make_interactions(n_users=30, n_items=20, density=0.2, seed=6)
    model = EASE(l2=3.0).fit(data)
    users = np.array([3, 0, 29])
    expected = data.binary.toarray()[users] @ model.weights
    np.testing.assert_allclose(model._score(users), expected, rtol=1e-5, atol=1e-6)


def test_config_validation() -> None:
    assert EASE().config.l2 == 500.0
    assert EASE(EASEConfig(l2=20.0)).config == EASEConfig(l2=20.0)
    with pytest.raises(ValidationError):
        EASE(l2=0.0)
    with pytest.raises(ValidationError):
        EASE(lambda_=5.0)
    with pytest.raises(ValidationError):
        EASEConfig().l2 = 3.0  # frozen
