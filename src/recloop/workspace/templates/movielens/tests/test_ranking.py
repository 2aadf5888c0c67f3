import numpy as np
import pytest
import scipy.sparse as sp

from movierec.ranking import blend, genre_affinity


def test_blend_weighs_features_and_scores_non_candidates_minus_inf() -> None:
    features = {"a": np.array([[1.0, 0.0, 0.5]]), "b": np.array([[0.0, 1.0, 0.5]])}
    mask = np.array([[True, True, False]])
    scores = blend(features, {"a": 2.0, "b": 1.0}, mask)
    assert scores[0, 0] == 2.0 and scores[0, 1] == 1.0 and scores[0, 2] == -np.inf


def test_blend_rejects_an_unknown_feature() -> None:
    with pytest.raises(ValueError, match="no feature named 'c'"):
        blend({"a": np.zeros((1, 2))}, {"c": 1.0}, np.ones((1, 2), dtype=bool))


def test_genre_affinity_is_the_cosine_of_profile_and_item_genres() -> None:
    genres = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]))
    history = sp.csr_matrix(np.array([[1.0, 0.0, 0.0, 0.0]]))  # the user likes genre 0
    affinity = genre_affinity(history, genres, 4)
    np.testing.assert_allclose(affinity[0], [1.0, 0.0, np.sqrt(0.5), 0.0])


def test_genre_affinity_without_genres_is_zero() -> None:
    history = sp.csr_matrix(np.ones((2, 3)))
    assert not genre_affinity(history, None, 3).any()
