"""Metric tests: hand-computed golden numbers, a cross-check against trec_eval, and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytrec_eval
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recloop.recsys.metrics import (
    ACCURACY_METRICS,
    accuracy_metrics,
    beyond_accuracy,
    gini,
    intra_list_diversity,
    summarize,
)

TOL = 1e-12


def truth_matrix(relevant: list[list[int]], n_items: int) -> sp.csr_matrix:
    rows = [u for u, items in enumerate(relevant) for _ in items]
    cols = [i for items in relevant for i in items]
    return sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(relevant), n_items))


# --- accuracy: hand-computed cases, k = 3, 10 items -------------------------------------------

# IDCG with 3 ideal items = 1 + 1/log2(3) + 1/log2(4) = 1 + 0.6309297535714575 + 0.5
IDCG3 = 1.0 + 1.0 / math.log2(3.0) + 0.5
HAND_RELEVANT = [
    [0, 1, 2],  # user 0: 3 relevant items
    [3],  # user 1: no hit
    [6],  # user 2: k = 3 larger than |rel| = 1
    [0, 1, 2, 3, 4],  # user 3: k = 3 smaller than |rel| = 5
]
HAND_RECS = np.array(
    [
        [0, 5, 2, 1],  # hits at ranks 1 and 3 (column 4 is beyond k and must be ignored)
        [4, 5, 6, 3],  # no hit within k (the relevant item 3 sits at rank 4)
        [5, 6, 7, 8],  # hit at rank 2
        [1, 9, 3, 0],  # hits at ranks 1 and 3
    ]
)
HAND_EXPECTED = {
    # user 0: DCG = 1/log2(2) + 1/log2(4) = 1.5, IDCG over min(3, 3) = 3 items
    # user 2: DCG = 1/log2(3), IDCG over min(1, 3) = 1 item = 1
    # user 3: DCG = 1.5, IDCG over min(5, 3) = 3 items (not 5)
    "ndcg": [1.5 / IDCG3, 0.0, 1.0 / math.log2(3.0), 1.5 / IDCG3],
    # hits / |rel|: 2/3, 0/1, 1/1, 2/5
    "recall": [2 / 3, 0.0, 1.0, 2 / 5],
    # hits / k: 2/3, 0/3, 1/3, 2/3
    "precision": [2 / 3, 0.0, 1 / 3, 2 / 3],
    "hitrate": [1.0, 0.0, 1.0, 1.0],
    # 1 / rank of first hit: 1/1, none, 1/2, 1/1
    "mrr": [1.0, 0.0, 0.5, 1.0],
    # user 0: (P@1 + P@3) / min(3, 3) = (1 + 2/3) / 3 = 5/9
    # user 2: P@2 / min(1, 3) = (1/2) / 1 = 1/2
    # user 3: (P@1 + P@3) / min(5, 3) = (1 + 2/3) / 3 = 5/9
    "map": [5 / 9, 0.0, 0.5, 5 / 9],
}


@pytest.mark.parametrize("name", ACCURACY_METRICS)
def test_accuracy_hand_computed(name: str) -> None:
    out = accuracy_metrics(HAND_RECS, truth_matrix(HAND_RELEVANT, 10), k=3)
    assert out[name].dtype == np.float64
    np.testing.assert_allclose(out[name], HAND_EXPECTED[name], rtol=0, atol=TOL)


def test_accuracy_hand_numbers_match_literal_values() -> None:
    # guards the formulas above against a shared mistake: 1.5 / 2.1309297535714575
    out = accuracy_metrics(HAND_RECS, truth_matrix(HAND_RELEVANT, 10), k=3)
    assert out["ndcg"][0] == pytest.approx(0.7039180890341347, abs=TOL)
    assert out["ndcg"][2] == pytest.approx(0.6309297535714575, abs=TOL)


def test_accuracy_k_one_uses_only_first_column() -> None:
    out = accuracy_metrics(HAND_RECS, truth_matrix(HAND_RELEVANT, 10), k=1)
    # first items 0, 4, 5, 1: relevant for users 0 and 3 only
    np.testing.assert_array_equal(out["hitrate"], [1.0, 0.0, 0.0, 1.0])
    # |rel| = 3, 1, 1, 5 -> recall 1/3, 0, 0, 1/5; NDCG with one ideal item is the hit itself
    np.testing.assert_allclose(out["recall"], [1 / 3, 0, 0, 1 / 5], atol=TOL)
    np.testing.assert_allclose(out["ndcg"], [1.0, 0, 0, 1.0], atol=TOL)
    np.testing.assert_allclose(out["map"], [1.0, 0, 0, 1.0], atol=TOL)


def test_accuracy_k4_sees_the_fourth_column() -> None:
    out = accuracy_metrics(HAND_RECS, truth_matrix(HAND_RELEVANT, 10), k=4)
    # user 1's relevant item 3 is at rank 4: MRR 1/4, NDCG 1/log2(5) over an IDCG of 1
    assert out["mrr"][1] == pytest.approx(0.25, abs=TOL)
    assert out["ndcg"][1] == pytest.approx(1.0 / math.log2(5.0), abs=TOL)


def test_accuracy_treats_any_nonzero_as_relevant_and_ignores_explicit_zeros() -> None:
    # user 0: item 1 (value 5); user 1: a stored explicit 0 at item 0 and a 1 at item 2
    truth = sp.csr_matrix(
        (np.array([5.0, 0.0, 1.0]), np.array([1, 0, 2]), np.array([0, 1, 3])), shape=(2, 3)
    )
    out = accuracy_metrics(np.array([[1, 0], [0, 2]]), truth, k=2)
    # user 0: item 1 at rank 1; user 1: relevant only item 2, at rank 2 (item 0 is a stored 0)
    np.testing.assert_allclose(out["mrr"], [1.0, 0.5], atol=TOL)
    np.testing.assert_allclose(out["recall"], [1.0, 1.0], atol=TOL)


@pytest.mark.parametrize(
    ("recs", "relevant", "k", "message"),
    [
        (np.array([[0, 1]]), [[0], [1]], 2, "rows"),
        (np.array([[0, 1], [1, 0]]), [[0], []], 2, "no relevant item"),
        (np.array([[0, 1]]), [[0]], 3, "fewer than k"),
        (np.array([[0, 1]]), [[0]], 0, "at least 1"),
        (np.array([[0, 7]]), [[0]], 2, "outside"),
        (np.array([[-1, 0]]), [[0]], 2, "outside"),
        (np.array([[1, 1]]), [[0]], 2, "repeats"),
        (np.array([[0.0, 1.0]]), [[0]], 2, "integer"),
        (np.array([0, 1]), [[0]], 2, "2-d"),
    ],
)
def test_accuracy_rejects_bad_input(
    recs: np.ndarray, relevant: list[list[int]], k: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        accuracy_metrics(recs, truth_matrix(relevant, 3), k)


# --- accuracy: cross-check against trec_eval (pytrec_eval) ------------------------------------


def random_case(seed: int, n_users: int, n_items: int, depth: int) -> tuple[np.ndarray, list]:
    rng = np.random.default_rng(seed)
    recs = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :depth]
    relevant = [
        sorted(rng.choice(n_items, size=rng.integers(1, 16), replace=False).tolist())
        for _ in range(n_users)
    ]
    return recs, relevant


def test_accuracy_matches_pytrec_eval() -> None:
    n_users, n_items, k = 500, 60, 10
    recs, relevant = random_case(7, n_users, n_items, depth=20)
    ours = accuracy_metrics(recs, truth_matrix(relevant, n_items), k)

    qrels = {f"u{u}": {f"i{i}": 1 for i in rel} for u, rel in enumerate(relevant)}
    # Only the top k go to trec_eval, with strictly decreasing scores: trec_eval re-sorts by
    # score and breaks ties by document id (descending, as strings), not by our rank order.
    run = {
        f"u{u}": {f"i{item}": float(k - rank) for rank, item in enumerate(recs[u, :k])}
        for u in range(n_users)
    }
    measures = {"ndcg_cut_10", "recall_10", "P_10", "recip_rank", "map_cut_10"}
    trec = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)

    def col(measure: str) -> np.ndarray:
        return np.array([trec[f"u{u}"][measure] for u in range(n_users)])

    n_rel = np.array([len(rel) for rel in relevant], dtype=np.float64)
    assert 0.2 < ours["hitrate"].mean() < 1.0  # the data exercise both hits and misses
    assert np.any(n_rel > k) and np.any(n_rel < k)
    np.testing.assert_allclose(ours["ndcg"], col("ndcg_cut_10"), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["recall"], col("recall_10"), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["precision"], col("P_10"), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["mrr"], col("recip_rank"), rtol=0, atol=1e-9)
    # trec_eval's map_cut_10 divides by |rel|, ours by min(|rel|, k): rescale ours to compare.
    rescaled = ours["map"] * np.minimum(n_rel, k) / n_rel
    np.testing.assert_allclose(rescaled, col("map_cut_10"), rtol=0, atol=1e-9)
    # ...and the two really differ wherever |rel| > k and there is a hit.
    differs = (n_rel > k) & (ours["hitrate"] > 0)
    assert differs.any()
    assert np.all(ours["map"][differs] > col("map_cut_10")[differs])


# --- accuracy: properties ---------------------------------------------------------------------


@st.composite
def ranking_cases(draw: st.DrawFn) -> tuple[np.ndarray, list[list[int]], int, int]:
    n_items = draw(st.integers(1, 25))
    k = draw(st.integers(1, n_items))
    n_users = draw(st.integers(1, 6))
    item = st.integers(0, n_items - 1)
    relevant = [sorted(draw(st.sets(item, min_size=1))) for _ in range(n_users)]
    recs = np.array([draw(st.permutations(range(n_items)))[:k] for _ in range(n_users)])
    return recs, relevant, k, n_items


@settings(max_examples=200, deadline=None)
@given(ranking_cases())
def test_accuracy_metrics_lie_in_unit_interval(case: tuple) -> None:
    recs, relevant, k, n_items = case
    out = accuracy_metrics(recs, truth_matrix(relevant, n_items), k)
    for name in ACCURACY_METRICS:
        assert out[name].shape == (len(relevant),)
        assert np.all(out[name] >= 0.0), name
        assert np.all(out[name] <= 1.0 + TOL), name
    assert np.all(out["precision"] <= out["hitrate"])
    assert np.all(out["mrr"] <= out["hitrate"])


@settings(max_examples=200, deadline=None)
@given(ranking_cases())
def test_perfect_ranking_scores_one(case: tuple) -> None:
    _, relevant, k, n_items = case
    recs = np.array([rel + [i for i in range(n_items) if i not in rel] for rel in relevant])[:, :k]
    out = accuracy_metrics(recs, truth_matrix(relevant, n_items), k)
    np.testing.assert_allclose(out["ndcg"], 1.0, rtol=0, atol=TOL)
    np.testing.assert_array_equal(out["hitrate"], 1.0)
    np.testing.assert_allclose(out["map"], 1.0, rtol=0, atol=TOL)
    n_rel = np.array([len(rel) for rel in relevant])
    np.testing.assert_allclose(out["recall"], np.minimum(n_rel, k) / n_rel, atol=TOL)


# --- beyond accuracy --------------------------------------------------------------------------

# genres: 0 and 1 identical, 2 and 5 identical and disjoint from 0, 3 has none, 4 overlaps 0
GENRES = sp.csr_matrix(
    np.array(
        [
            [1, 0, 0],
            [1, 0, 0],
            [0, 1, 1],
            [0, 0, 0],
            [1, 1, 0],
            [0, 1, 1],
        ],
        dtype=np.float64,
    )
)


def test_gini_hand_cases() -> None:
    assert gini(np.array([3, 3, 3, 3])) == pytest.approx(0.0, abs=TOL)
    # sorted [0, 0, 2, 2]: sum (2i - n - 1) x_i = 3 * 2 + 1 * 2 = 8; / (n * total) = 8 / 16
    assert gini(np.array([2, 0, 2, 0])) == pytest.approx(0.5, abs=TOL)
    # all on one of 4 items: (n - 1) / n
    assert gini(np.array([0, 0, 5, 0])) == pytest.approx(0.75, abs=TOL)
    assert gini(np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        gini(np.array([1, -1]))


def test_coverage_and_gini_from_recommendations() -> None:
    pop = np.full(4, 5)
    equal = beyond_accuracy(np.array([[0, 1], [2, 3]]), 2, pop, 10, None)
    assert equal["gini"] == pytest.approx(0.0, abs=TOL)
    assert equal["coverage"] == 1.0
    # only the first k = 2 columns count (the third would cover items 3 and 2)
    # exposure [2, 2, 0, 0] -> Gini 0.5 (see test_gini_hand_cases), 2 of 4 items covered
    concentrated = beyond_accuracy(np.array([[0, 1, 3], [1, 0, 2]]), 2, pop, 10, None)
    assert concentrated["gini"] == pytest.approx(0.5, abs=TOL)
    assert concentrated["coverage"] == 0.5


def test_novelty_and_popularity_hand_cases() -> None:
    pop = np.array([10, 5, 0, 1])
    out = beyond_accuracy(np.array([[0, 1], [2, 3], [0, 3]]), 2, pop, 10, None)
    # item 0 seen by all 10 users: -log2(10/10) = 0; item 1: -log2(5/10) = 1
    # items 2 (pop 0, clipped to 1) and 3 (pop 1): -log2(1/10) = log2(10)
    log10 = math.log2(10.0)
    np.testing.assert_allclose(out["novelty"], [0.5, log10, log10 / 2], atol=TOL)
    np.testing.assert_allclose(out["popularity"], [7.5, 0.5, 5.5], atol=TOL)
    assert "diversity" not in out


def test_novelty_of_universally_seen_items_is_zero() -> None:
    out = beyond_accuracy(np.array([[0, 1]]), 2, np.array([7, 7, 0]), 7, None)
    assert out["novelty"][0] == 0.0
    # 2 distinct items recommended out of a catalogue of 3 (item 2 is never recommended)
    assert out["coverage"] == pytest.approx(2 / 3, abs=TOL)


def test_diversity_hand_cases() -> None:
    recs = np.array([[0, 1], [2, 5], [0, 2], [0, 3], [3, 2]])
    out = beyond_accuracy(recs, 2, np.ones(6), 1, GENRES)
    # identical genres -> 0; disjoint genres -> 1; a genre-less item is similar to nothing -> 1
    np.testing.assert_allclose(out["diversity"], [0.0, 0.0, 1.0, 1.0, 1.0], atol=TOL)


def test_diversity_three_items_with_partial_overlap() -> None:
    out = beyond_accuracy(np.array([[0, 1, 4]]), 3, np.ones(6), 1, GENRES)
    # cos(0,1) = 1, cos(0,4) = cos(1,4) = 1/sqrt(2); mean of (1 - cos) over the 3 pairs
    expected = (0.0 + 2 * (1 - 1 / math.sqrt(2))) / 3  # = 0.19526...
    assert out["diversity"][0] == pytest.approx(expected, abs=TOL)


def test_diversity_is_omitted_for_single_item_lists() -> None:
    out = beyond_accuracy(np.array([[0], [2]]), 1, np.ones(6), 1, GENRES)
    assert "diversity" not in out
    with pytest.raises(ValueError, match="two items"):
        intra_list_diversity(np.array([[0], [2]]), GENRES)


def test_diversity_batches_agree_with_pairwise_loop() -> None:
    rng = np.random.default_rng(3)
    n_items, k = 40, 6
    genres = sp.csr_matrix((rng.random((n_items, 5)) < 0.4).astype(np.float64))
    recs = np.argsort(rng.random((37, n_items)), axis=1)[:, :k]
    batched = intra_list_diversity(recs, genres, batch_users=4)
    whole = intra_list_diversity(recs, genres, batch_users=1000)
    dense = genres.toarray()
    expected = []
    for row in recs:  # independent, obvious implementation
        dissim = []
        for a in range(k):
            for b in range(a + 1, k):
                na, nb = np.linalg.norm(dense[row[a]]), np.linalg.norm(dense[row[b]])
                cos = 0.0 if na == 0 or nb == 0 else dense[row[a]] @ dense[row[b]] / (na * nb)
                dissim.append(1.0 - cos)
        expected.append(np.mean(dissim))
    np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(batched, whole)


@pytest.mark.parametrize(
    ("pop", "n_train_users", "message"),
    [
        (np.array([1, 2, 11]), 10, "0..n_train_users"),
        (np.array([1, -1, 2]), 10, "0..n_train_users"),
        (np.array([1, 2, 3]), 0, "at least 1"),
        (np.array([]), 10, "non-empty"),
    ],
)
def test_beyond_accuracy_rejects_bad_popularity(
    pop: np.ndarray, n_train_users: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        beyond_accuracy(np.array([[0, 1]]), 2, pop, n_train_users, None)


@settings(max_examples=200, deadline=None)
@given(ranking_cases(), st.integers(1, 50))
def test_coverage_and_gini_bounds(case: tuple, n_train_users: int) -> None:
    recs, _, k, n_items = case
    pop = np.arange(n_items) % (n_train_users + 1)
    out = beyond_accuracy(recs, k, pop, n_train_users, None)
    assert 0.0 < out["coverage"] <= 1.0
    assert 0.0 <= out["gini"] <= 1.0
    assert np.all(out["novelty"] >= 0.0)
    assert np.all(out["novelty"] <= math.log2(n_train_users) + TOL)


def test_summarize_means_vectors_and_passes_floats() -> None:
    out = summarize({"ndcg": np.array([0.0, 0.5, 1.0]), "coverage": 0.25})
    assert out == {"ndcg": 0.5, "coverage": 0.25}
    assert all(type(v) is float for v in out.values())
    with pytest.raises(ValueError, match="no users"):
        summarize({"ndcg": np.array([])})
