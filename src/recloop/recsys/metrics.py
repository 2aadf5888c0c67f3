"""Full-ranking top-K metrics, one value per user, so the evaluator can average, test and slice.

Libraries disagree on the details of these metrics, so recloop's definitions are written out
here and nowhere else. `rel` is a user's set of held-out relevant items, ranks start at 1, and
only the first k recommended items count.

Accuracy (`accuracy_metrics`, every value in [0, 1]):

- NDCG@k = DCG@k / IDCG@k with binary gain and discount 1 / log2(rank + 1); the ideal list
  holds min(|rel|, k) relevant items, so a list of k hits scores 1 even when |rel| > k.
- Recall@k = hits / |rel|.
- Precision@k = hits / k (a list always has k slots, hit or not).
- HitRate@k = 1 if any of the k items is relevant, else 0.
- MRR@k = 1 / rank of the first hit within k, else 0.
- MAP@k = (sum over hit ranks r of Precision@r) / min(|rel|, k). trec_eval's `map_cut_k`
  divides by |rel| instead, so it cannot reach 1 when |rel| > k; ours can.

Beyond accuracy (`beyond_accuracy`):

- novelty (per user) = mean over the k items of -log2(pop_i / n_train_users), where pop_i is
  the number of training users who interacted with item i, clipped to >= 1 so an item nobody
  saw has a finite (maximal) novelty.
- popularity (per user) = mean pop_i of the k items.
- diversity (per user, intra-list) = mean over the k(k-1)/2 pairs of 1 - cosine similarity of
  the items' genre vectors; an item without any genre has similarity 0 to every item. Only
  reported when genres are given and k >= 2 (a single item has no pairs).
- coverage (aggregate) = distinct recommended items / n_items.
- gini (aggregate) = Gini coefficient of exposure (times recommended) over all n_items items,
  unrecommended items counting as 0: 0 is equal exposure, (n_items - 1) / n_items is every
  recommendation on one item.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

ACCURACY_METRICS = ("ndcg", "recall", "precision", "hitrate", "mrr", "map")
DEFAULT_DIVERSITY_BATCH_USERS = 4096


def accuracy_metrics(recs: np.ndarray, truth: sp.csr_matrix, k: int) -> dict[str, np.ndarray]:
    """Per-user NDCG, recall, precision, hit rate, MRR and MAP at k (see the module docstring).

    Row i of `recs` (item indices, best first) is judged against row i of `truth`. Every user
    must have a relevant item: a user without one has no defined recall or NDCG, and silently
    scoring them 0 would drag the average down for a reason that is not the model's.
    """
    truth = _canonical_truth(truth)
    n_users, n_items = truth.shape
    top = _top_columns(recs, k, n_items)
    if top.shape[0] != n_users:
        raise ValueError(f"recs has {top.shape[0]} rows but truth has {n_users} users")
    n_rel = np.diff(truth.indptr)
    if np.any(n_rel == 0):
        raise ValueError(
            f"{int(np.count_nonzero(n_rel == 0))} users have no relevant item; "
            "filter them out before computing accuracy metrics"
        )
    hits = row_membership(top, truth)
    return _accuracy_from_hits(hits, n_rel, k)


def beyond_accuracy(
    recs: np.ndarray,
    k: int,
    item_popularity: np.ndarray,
    n_train_users: int,
    item_genres: sp.csr_matrix | None,
    *,
    batch_users: int = DEFAULT_DIVERSITY_BATCH_USERS,
) -> dict[str, np.ndarray | float]:
    """Per-user novelty, popularity and diversity, and catalogue coverage and exposure Gini.

    Accuracy alone rewards recommending the same blockbusters to everyone; these say how much
    of the catalogue a model uses and how surprising its lists are. `item_popularity[i]` is the
    number of training users who interacted with item i, and its length is the catalogue size.
    """
    pop = np.asarray(item_popularity, dtype=np.float64)
    if pop.ndim != 1 or pop.size == 0:
        raise ValueError("item_popularity must be a non-empty 1-d array")
    if n_train_users < 1:
        raise ValueError("n_train_users must be at least 1")
    if pop.min() < 0 or pop.max() > n_train_users:
        raise ValueError("item_popularity must count training users (0..n_train_users)")
    n_items = pop.size
    top = _top_columns(recs, k, n_items)

    item_novelty = -np.log2(np.maximum(pop, 1.0) / n_train_users)
    out: dict[str, np.ndarray | float] = {
        "novelty": item_novelty[top].mean(axis=1),
        "popularity": pop[top].mean(axis=1),
    }
    if item_genres is not None and k >= 2:
        out["diversity"] = intra_list_diversity(top, item_genres, batch_users=batch_users)
    exposure = np.bincount(top.ravel(), minlength=n_items)
    out["coverage"] = float(np.count_nonzero(exposure)) / n_items
    out["gini"] = gini(exposure)
    return out


def intra_list_diversity(
    top: np.ndarray, item_genres: sp.csr_matrix, *, batch_users: int = DEFAULT_DIVERSITY_BATCH_USERS
) -> np.ndarray:
    """Mean pairwise (1 - cosine similarity) of each row's genre vectors, one value per row.

    The sum of cosine similarities over ordered pairs i != j of a list equals
    ||sum_i v_i||^2 - sum_i ||v_i||^2 for unit (or zero) vectors v_i, which needs only a dense
    (users x k x n_genres) gather per batch rather than a k x k similarity matrix per user.
    """
    top = np.asarray(top)
    n_users, k = top.shape
    if k < 2:
        raise ValueError("diversity needs at least two items per list")
    if batch_users < 1:
        raise ValueError("batch_users must be at least 1")
    unit = _unit_rows(item_genres)
    if int(top.max(initial=-1)) >= unit.shape[0]:
        raise ValueError("a recommended item has no row in item_genres")
    n_pairs = k * (k - 1)
    out = np.empty(n_users, dtype=np.float64)
    for start in range(0, n_users, batch_users):
        vecs = unit[top[start : start + batch_users]]  # batch x k x n_genres
        total = vecs.sum(axis=1)
        pair_sim = np.einsum("bg,bg->b", total, total) - np.einsum("bkg,bkg->b", vecs, vecs)
        out[start : start + len(vecs)] = 1.0 - pair_sim / n_pairs
    # Cosine similarities of non-negative genre vectors lie in [0, 1]; clip rounding error.
    return np.clip(out, 0.0, 1.0)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, near 1 when one has all.

    Zero total (nothing exposed) is reported as 0: there is no inequality among zeros.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    if x.ndim != 1 or x.size == 0:
        raise ValueError("gini needs a non-empty 1-d array")
    if x[0] < 0:
        raise ValueError("gini is defined for non-negative values only")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    return float(weights @ x / (n * total))


def summarize(per_user: Mapping[str, np.ndarray | float]) -> dict[str, float]:
    """Means of the per-user vectors, with aggregate floats passed through, for reporting."""
    out: dict[str, float] = {}
    for name, value in per_user.items():
        if isinstance(value, np.ndarray):
            if value.size == 0:
                raise ValueError(f"metric {name!r} has no users to average")
            out[name] = float(value.mean())
        else:
            out[name] = float(value)
    return out


def _unit_rows(item_genres: sp.csr_matrix) -> np.ndarray:
    """Dense items x genres with each row scaled to unit length; genre-less rows stay zero."""
    dense = np.asarray(sp.csr_matrix(item_genres).toarray(), dtype=np.float64)
    if dense.size and dense.min() < 0:
        raise ValueError("item_genres must be non-negative")
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)


def _canonical_truth(truth: sp.csr_matrix) -> sp.csr_matrix:
    """A copy with sorted indices, no duplicates and no explicit zeros (any nonzero is relevant)."""
    t = sp.csr_matrix(truth, copy=True)
    t.sum_duplicates()
    t.eliminate_zeros()
    return t


def _top_columns(recs: np.ndarray, k: int, n_items: int) -> np.ndarray:
    """The first k columns of recs as int64, after checking they are k distinct valid items.

    A repeated item would be counted as two hits (recall above 1), so it is rejected rather than
    scored.
    """
    recs = np.asarray(recs)
    if recs.ndim != 2:
        raise ValueError("recs must be a 2-d array (users x ranked items)")
    if not np.issubdtype(recs.dtype, np.integer):
        raise ValueError(f"recs must hold integer item indices, not {recs.dtype}")
    if k < 1:
        raise ValueError("k must be at least 1")
    if recs.shape[1] < k:
        raise ValueError(f"recs has {recs.shape[1]} columns, fewer than k={k}")
    if recs.shape[0] == 0:
        raise ValueError("recs has no users to evaluate")
    top = recs[:, :k].astype(np.int64)
    if top.min() < 0 or top.max() >= n_items:
        raise ValueError(f"recs holds an item index outside 0..{n_items - 1}")
    ordered = np.sort(top, axis=1)
    if np.any(ordered[:, 1:] == ordered[:, :-1]):
        raise ValueError("a user's top-k list repeats an item")
    return top


def row_membership(top: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean users x k: is the item at each rank among the nonzero columns of that user's row.

    Used for hits (truth = held-out items) and by the evaluator for seen items (truth = train
    rows). Each (user, item) pair is encoded as user * n_items + item; the keys of a CSR with
    sorted indices come out sorted, so membership is one binary search per recommended item.
    """
    if not truth.has_sorted_indices:
        truth = _canonical_truth(truth)
    n_users, n_items = truth.shape
    if truth.nnz == 0:
        return np.zeros(top.shape, dtype=bool)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(truth.indptr))
    truth_keys = rows * n_items + truth.indices.astype(np.int64)
    rec_keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + top
    pos = np.searchsorted(truth_keys, rec_keys)
    pos = np.minimum(pos, truth_keys.size - 1)
    return truth_keys[pos] == rec_keys


def _accuracy_from_hits(hits: np.ndarray, n_rel: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """All accuracy metrics from the boolean hit matrix and the number of relevant items."""
    ranks = np.arange(1, k + 1, dtype=np.float64)
    discount = 1.0 / np.log2(ranks + 1.0)
    gains = hits.astype(np.float64)
    n_hits = gains.sum(axis=1)
    n_ideal = np.minimum(n_rel, k)
    idcg = np.cumsum(discount)[n_ideal - 1]
    any_hit = n_hits > 0
    first_rank = hits.argmax(axis=1) + 1.0
    precision_at_rank = np.cumsum(gains, axis=1) / ranks
    return {
        "ndcg": gains @ discount / idcg,
        "recall": n_hits / n_rel,
        "precision": n_hits / k,
        "hitrate": any_hit.astype(np.float64),
        "mrr": np.where(any_hit, 1.0 / first_rank, 0.0),
        "map": (precision_at_rank * gains).sum(axis=1) / n_ideal,
    }
