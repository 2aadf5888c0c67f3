"""Re-ranking: the business rules that turn ranked scores into the list a user sees.

- eligibility: items with fewer than `min_item_interactions` training interactions are never
  shown (too little evidence that they are any good);
- genre cap: at most `max_per_genre` items of the same main genre in one list;
- fill: when the candidates run out, the list is completed with the most popular eligible items,
  so every user always gets exactly k items.

Blocked items (already seen) are never shown, and ties go to the lower item id.
"""

from __future__ import annotations

import numpy as np

from movierec.config import RerankConfig


def apply_rules(
    scores: np.ndarray,
    blocked: np.ndarray,
    item_popularity: np.ndarray,
    main_genre: np.ndarray,
    k: int,
    rules: RerankConfig,
) -> np.ndarray:
    """The final users x k item ids, best first (see the module docstring)."""
    eligible = item_popularity >= rules.min_item_interactions
    scores = np.where(eligible[None, :] & ~blocked, scores, -np.inf)
    # fallback order: most popular first, ties to the lower id; ineligible items at the very end
    fallback = np.lexsort((np.arange(len(item_popularity)), -item_popularity, ~eligible))
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for row in range(scores.shape[0]):
        out[row] = _one_list(
            scores[row], blocked[row], main_genre, fallback, k, rules.max_per_genre
        )
    return out


def _one_list(
    scores: np.ndarray,
    blocked: np.ndarray,
    main_genre: np.ndarray,
    fallback: np.ndarray,
    k: int,
    max_per_genre: int,
) -> np.ndarray:
    ranked = np.lexsort((np.arange(len(scores)), -scores))
    ranked = ranked[np.isfinite(scores[ranked])]
    chosen: list[int] = []
    per_genre: dict[int, int] = {}
    for item in ranked:
        genre = int(main_genre[item])
        if genre >= 0 and per_genre.get(genre, 0) >= max_per_genre:
            continue
        chosen.append(int(item))
        per_genre[genre] = per_genre.get(genre, 0) + 1
        if len(chosen) == k:
            return np.asarray(chosen, dtype=np.int64)
    taken = set(chosen)
    for item in fallback:
        if len(chosen) == k:
            break
        if not blocked[item] and int(item) not in taken:
            chosen.append(int(item))
    if len(chosen) < k:
        raise ValueError(f"only {len(chosen)} items can be recommended to this user, k is {k}")
    return np.asarray(chosen, dtype=np.int64)
