import numpy as np
import scipy.sparse as sp

from movierec.config import DataConfig
from movierec.data import TrainingLog, main_genres, prepare, recency_weights


def test_popularity_counts_distinct_users(train: TrainingLog) -> None:
    data = prepare(train, DataConfig())
    assert data.item_popularity.tolist() == [4, 4, 3, 2, 1, 1, 1, 0]
    assert (data.n_users, data.n_items) == (6, 8)


def test_repeated_interactions_weigh_once(train: TrainingLog) -> None:
    train.users = np.append(train.users, 0)
    train.items = np.append(train.items, 0)
    train.timestamps = np.append(train.timestamps, 99)
    data = prepare(train, DataConfig())
    assert data.interactions[0, 0] == 1.0


def test_recency_weights_halve_every_half_life() -> None:
    day = 86_400
    weights = recency_weights(np.array([0, 10 * day, 20 * day]), half_life_days=10)
    np.testing.assert_allclose(weights, [0.25, 0.5, 1.0])


def test_recency_weighting_off_gives_ones() -> None:
    assert recency_weights(np.array([0, 5, 9]), half_life_days=0).tolist() == [1.0, 1.0, 1.0]


def test_main_genre_is_the_first_listed_and_minus_one_without_any() -> None:
    genres = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))
    assert main_genres(genres, 3).tolist() == [1, -1, 0]
    assert main_genres(None, 2).tolist() == [-1, -1]
