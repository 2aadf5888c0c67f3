from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from recloop.recsys.data import Interactions
from recloop.recsys.synthetic import (
    SyntheticConfig,
    SyntheticWorld,
    generate_world,
    synthetic_interactions,
)

CONFIG = SyntheticConfig(n_users=600, n_items=1000, n_interactions=20_000, seed=3)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(CONFIG)


@pytest.fixture(scope="module")
def log(world: SyntheticWorld) -> Interactions:
    return world.sample_interactions()


def _top_decile_share(counts: np.ndarray) -> float:
    ranked = np.sort(counts)[::-1]
    return float(ranked[: max(1, len(ranked) // 10)].sum() / ranked.sum())


def test_same_seed_gives_identical_world_and_log(world: SyntheticWorld, log: Interactions) -> None:
    again = generate_world(CONFIG)
    np.testing.assert_array_equal(again.item_factors, world.item_factors)
    np.testing.assert_array_equal(again.rating_cutpoints, world.rating_cutpoints)
    other = again.sample_interactions()
    for name in ("users", "items", "ratings", "timestamps"):
        np.testing.assert_array_equal(getattr(other, name), getattr(log, name))


def test_different_seed_gives_different_world_and_log(log: Interactions) -> None:
    other = synthetic_interactions(CONFIG.model_copy(update={"seed": 4}))
    assert not np.array_equal(other.matrix.toarray(), log.matrix.toarray())
    assert other.name == "synthetic (seed 4, 600x1000)"


def test_log_seed_resamples_from_the_same_truth(world: SyntheticWorld, log: Interactions) -> None:
    other = world.sample_interactions(seed=99)
    assert (other.binary != log.binary).nnz > 0.5 * log.n_interactions
    assert other.item_info is world.item_info


def test_sizes_are_near_the_config(log: Interactions) -> None:
    assert log.shape == (CONFIG.n_users, CONFIG.n_items)
    assert abs(log.n_interactions - CONFIG.n_interactions) <= 0.1 * CONFIG.n_interactions
    assert log.user_counts.min() >= CONFIG.min_user_interactions
    assert log.user_counts.max() <= CONFIG.max_user_interactions


def test_each_user_rates_an_item_at_most_once(log: Interactions) -> None:
    assert log.binary.nnz == log.n_interactions


def test_no_interaction_before_release_or_outside_the_span(
    world: SyntheticWorld, log: Interactions
) -> None:
    assert np.all(log.timestamps >= world.item_release[log.items])
    assert world.start <= log.timestamps.min() and log.timestamps.max() <= world.end
    new = world.item_release >= world.start
    assert new.sum() == CONFIG.n_new_items
    assert np.isin(log.items, np.flatnonzero(new)).sum() > 100  # the constraint is exercised


def test_item_info_has_genres_and_the_release_year(
    world: SyntheticWorld, log: Interactions
) -> None:
    info = log.item_info
    assert info is world.item_info and info is not None
    assert info.genre_names[:2] == ("genre-00", "genre-01")
    assert len(info.genre_names) == CONFIG.n_genres
    per_item = np.asarray(info.genres.sum(axis=1)).ravel()
    assert per_item.min() == 1 and per_item.max() == 3
    years = world.item_release.astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    np.testing.assert_array_equal(info.year, years)
    assert info.year.max() == 2000 and info.year.min() < 1990


def test_ratings_look_like_movielens(world: SyntheticWorld, log: Interactions) -> None:
    assert set(np.unique(log.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 3.0 <= log.ratings.mean() <= 4.0
    share = np.bincount(log.ratings.astype(int), minlength=6)[1:] / log.n_interactions
    assert share[3] > share[0] and share[3] > share[4]  # 4 is the mode, as in MovieLens
    affinity = world.affinity(log.users, log.items, log.timestamps)
    assert affinity[log.ratings == 5].mean() > affinity[log.ratings == 1].mean() + 1.0


def test_item_popularity_is_heavy_tailed(log: Interactions) -> None:
    assert _top_decile_share(log.item_counts) > 0.40


def test_user_activity_is_heavy_tailed(log: Interactions) -> None:
    counts = log.user_counts
    assert _top_decile_share(counts) > 0.25
    assert counts.max() > 4 * np.median(counts)


def test_sampled_pairs_have_higher_affinity_than_random_pairs(
    world: SyntheticWorld, log: Interactions
) -> None:
    rng = np.random.default_rng(0)
    users = rng.integers(0, CONFIG.n_users, log.n_interactions)
    items = rng.integers(0, CONFIG.n_items, log.n_interactions)
    random_affinity = world.affinity(users, items, log.timestamps)
    assert abs(random_affinity.std() - 1.0) < 0.1  # affinity is scaled to sd 1
    sampled = world.affinity(log.users, log.items, log.timestamps)
    assert sampled.mean() > random_affinity.mean() + 0.5


def test_items_sharing_a_genre_have_more_similar_factors(world: SyntheticWorld) -> None:
    factors = world.item_factors / np.linalg.norm(world.item_factors, axis=1, keepdims=True)
    cosine = factors @ factors.T
    genres = world.item_info.genres.toarray()
    shares_genre = (genres @ genres.T) > 0
    off_diagonal = ~np.eye(CONFIG.n_items, dtype=bool)
    same = cosine[shares_genre & off_diagonal].mean()
    different = cosine[~shares_genre].mean()
    assert same > different + 0.3


def test_tastes_drift_towards_later_choices(world: SyntheticWorld, log: Interactions) -> None:
    early = world.affinity(log.users, log.items, world.start)
    late = world.affinity(log.users, log.items, world.end)
    middle = world.start + (world.end - world.start) / 2
    first, second = log.timestamps < middle, log.timestamps >= middle
    assert (late - early)[second].mean() > (late - early)[first].mean() + 0.05


def test_no_drift_means_affinity_is_constant_in_time() -> None:
    still = generate_world(CONFIG.model_copy(update={"drift": 0.0}))
    users, items = np.arange(50), np.arange(50)
    np.testing.assert_allclose(
        still.affinity(users, items, still.start), still.affinity(users, items), rtol=1e-6
    )


def test_affinity_broadcasts_and_agrees_with_the_matrix(world: SyntheticWorld) -> None:
    users = np.array([0, 5, 7])
    times = np.array([world.start, world.end, world.start + 1000])
    matrix = world.affinity_matrix(users, times)
    assert matrix.shape == (3, CONFIG.n_items)
    pairs = world.affinity(users[:, None], np.arange(CONFIG.n_items)[None, :], times[:, None])
    np.testing.assert_allclose(pairs, matrix, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        world.affinity(users, 3), world.affinity_matrix(users)[:, 3], atol=1e-6
    )


def _hit_rate_at_10(train: np.ndarray, held_out: np.ndarray, scores: np.ndarray) -> float:
    scores = np.where(train > 0, -np.inf, scores)
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    return float((top == held_out[:, None]).any(axis=1).mean())


def test_structure_is_learnable_item_cosine_beats_most_popular(log: Interactions) -> None:
    rng = np.random.default_rng(0)
    m = log.binary
    pick = m.indptr[:-1] + (rng.random(m.shape[0]) * np.diff(m.indptr)).astype(int)
    held_out = m.indices[pick]
    train = m.copy()
    train.data[pick] = 0.0
    train.eliminate_zeros()
    x = train.toarray()
    norms = np.sqrt(x.sum(axis=0)) + 1e-9
    cosine = (x.T @ x) / np.outer(norms, norms)
    np.fill_diagonal(cosine, 0.0)
    item_knn = _hit_rate_at_10(x, held_out, x @ cosine)
    popular = _hit_rate_at_10(x, held_out, np.broadcast_to(x.sum(axis=0), x.shape))
    assert item_knn > popular + 0.05


def test_without_taste_choices_ignore_affinity() -> None:
    """The control of the affinity test: taste_strength 0 leaves popularity alone."""
    flat = generate_world(CONFIG.model_copy(update={"taste_strength": 0.0}))
    log = flat.sample_interactions()
    sampled = flat.affinity(log.users, log.items, log.timestamps).mean()
    everything = flat.affinity_matrix(np.arange(CONFIG.n_users)).mean()
    assert abs(sampled - everything) < 0.1


def test_small_preset_is_movielens_100k_sized() -> None:
    log = synthetic_interactions()
    assert log.shape == (943, 1682)
    assert abs(log.n_interactions - 100_000) <= 10_000
    assert 3.0 <= log.ratings.mean() <= 4.0
    assert log.name == "synthetic (seed 0, 943x1682)"
    assert log.implicit().item_info is not None  # usable as the embedded fallback dataset
    big = SyntheticConfig.ml1m_scale()
    assert (big.n_users, big.n_items, big.n_interactions) == (6040, 3706, 1_000_000)


def test_config_is_frozen_and_validated() -> None:
    with pytest.raises(ValidationError):
        CONFIG.seed = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="n_interactions"):
        SyntheticConfig(n_users=10, n_items=100, n_interactions=20)  # fewer than 10 x 5
    with pytest.raises(ValidationError, match="min_user_interactions"):
        SyntheticConfig(n_users=10, n_items=20, n_interactions=100, min_user_interactions=8)
    with pytest.raises(ValidationError):
        SyntheticConfig(n_users=10, n_items=100, n_interactions=100, drift=-1.0)
