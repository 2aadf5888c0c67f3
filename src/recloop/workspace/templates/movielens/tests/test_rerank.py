import numpy as np
import pytest

from movierec.config import RerankConfig
from movierec.rerank import apply_rules

POPULARITY = np.array([5, 4, 3, 2, 1, 0])
GENRE = np.array([0, 0, 0, 1, 1, -1])


def _rerank(
    scores: list[float], blocked: list[bool] | None = None, k: int = 3, **rules: int
) -> list[int]:
    """One user's list; `rules` are RerankConfig settings."""
    row = np.asarray([scores], dtype=float)
    mask = np.zeros(row.shape, bool) if blocked is None else np.asarray([blocked])
    return apply_rules(row, mask, POPULARITY, GENRE, k, RerankConfig(**rules))[0].tolist()


def test_best_scores_first_ties_to_the_lower_id() -> None:
    assert _rerank([0.1, 0.9, 0.9, 0.5, 0.0, 0.0]) == [1, 2, 3]


def test_the_genre_cap_skips_items_of_a_full_genre() -> None:
    assert _rerank([0.9, 0.8, 0.7, 0.1, 0.0, -np.inf], max_per_genre=2) == [0, 1, 3]


def test_items_without_a_genre_are_never_capped() -> None:
    scores = [-np.inf] * 5 + [1.0]
    assert _rerank(scores, k=1, max_per_genre=1, min_item_interactions=0) == [5]


def test_ineligible_items_are_not_shown() -> None:
    assert _rerank([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], min_item_interactions=3) == [2, 1, 0]


def test_running_out_of_candidates_fills_with_popular_unblocked_items() -> None:
    inf = -np.inf
    blocked = [True, False, False, False, False, False]
    assert _rerank([inf, inf, inf, 0.5, inf, inf], blocked=blocked) == [3, 1, 2]


def test_too_few_recommendable_items_is_an_error() -> None:
    with pytest.raises(ValueError, match="only 1 items"):
        _rerank([0.0] * 6, blocked=[True] * 5 + [False], k=2)
