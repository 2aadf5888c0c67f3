"""Peer-library evaluations for `bench_eval.py`: the identical split, each peer's own eval path.

Every peer is fed recloop's train and test pairs with recloop's dense user and item indices as
its ids, and with the whole item index space as its catalogue (items that occur only in test
score 0 or nothing everywhere), so each library ranks the same items for the same users. Only
the evaluation (score + rank + metrics for all test users) is timed; fitting is done once,
outside the clock. Peers are imported lazily so a missing one is skipped, not fatal.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.recsys.splits import Split

K = 10
PerUser = tuple[np.ndarray, np.ndarray]  # NDCG@K and Recall@K, aligned with split.test_users


@dataclass(frozen=True)
class PeerRun:
    """The best evaluation time of a peer and its per-user metric values."""

    seconds: float
    ndcg: np.ndarray
    recall: np.ndarray
    config: str


def unavailable(peer: str) -> str | None:
    """Why `peer` cannot run here (None when it imports)."""
    try:
        importlib.import_module(peer)
    except Exception as exc:  # an installed peer can still fail to import (e.g. torch missing)
        return f"{peer} not importable ({type(exc).__name__}: {exc})"
    return None


def best_of(repeats: int, run: Callable[[], PerUser]) -> tuple[float, PerUser]:
    """Run `run` `repeats` times; the fastest wall time and the (deterministic) last result."""
    best = float("inf")
    result: PerUser | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def cornac_ease(split: Split, l2: float, repeats: int) -> PeerRun:
    """cornac's EASE (negative weights kept) evaluated by `ranking_eval`, as BaseMethod does."""
    from cornac.data import Dataset
    from cornac.eval_methods import ranking_eval
    from cornac.metrics import NDCG, Recall
    from cornac.models import EASE

    train, test = split.train, split.test

    def build(part: Any, **kw: Any) -> Any:
        # Identity id maps over the whole index space: cornac index == recloop index.
        uid = {u: u for u in range(train.n_users)}
        iid = {i: i for i in range(train.n_items)}
        ones = [1.0] * part.n_interactions
        triplets = zip(part.users.tolist(), part.items.tolist(), ones, strict=True)
        return Dataset.build(list(triplets), global_uid_map=uid, global_iid_map=iid, **kw)

    train_set = build(train, seed=0)
    test_set = build(test, exclude_unknowns=True)
    model = EASE(lamb=l2, posB=False, verbose=False, seed=0).fit(train_set)
    metrics = [NDCG(k=K), Recall(k=K)]
    users = split.test_users.tolist()

    def run() -> PerUser:
        # The call BaseMethod._eval makes; it skips each user's train items and ranks the rest.
        _, per_user = ranking_eval(model, metrics, train_set, test_set, exclude_unknowns=True)
        ndcg, recall = ([d[u] for u in users] for d in per_user)
        return np.asarray(ndcg, float), np.asarray(recall, float)

    seconds, (ndcg, recall) = best_of(repeats, run)
    return PeerRun(seconds, ndcg, recall, f"cornac EASE(lamb={l2:g}, posB=False), ranking_eval")


def lenskit_eval(
    model_name: str, split: Split, params: dict[str, Any], fitted: Any, repeats: int
) -> PeerRun:
    """lenskit's top-N pipeline run by `batch.recommend`, measured by `RunAnalysis`.

    NDCG uses the 1/log2(rank + 1) discount (`LogRankWeight(offset=1)`); lenskit's default
    clips ranks 1 and 2 to the same weight. Recall divides by min(|rel|, K), which equals
    recloop's |rel| under leave-one-out (one relevant item per user).

    ItemKNN: lenskit keeps, for each *reference* item, its most similar items and then lets
    only the `max_nbrs` most similar of the user's items vote for a target; recloop keeps, for
    each *target* item, its `neighbors` most similar items (a global top-k per column). No
    lenskit setting reproduces that, so the scorer is trained as usual and its similarity
    matrix is then replaced by recloop's pruned one: with at most `neighbors` voters per
    target, `max_nbrs=neighbors` truncates nothing, and lenskit's Rust scorer computes the same
    sums. The timed part (scoring, ranking, metrics) is lenskit's own code throughout.
    """
    import pandas as pd
    from lenskit.batch import recommend
    from lenskit.data import ItemListCollection, UserIDKey, from_interactions_df
    from lenskit.data.matrix import SparseRowArray
    from lenskit.metrics import NDCG, LogRankWeight, Recall, RunAnalysis
    from lenskit.pipeline import topn_pipeline

    train, test = split.train, split.test
    train_df = pd.DataFrame({"user_id": train.users, "item_id": train.items})
    data = from_interactions_df(
        train_df, users=np.arange(train.n_users), items=np.arange(train.n_items)
    )
    if not np.array_equal(np.asarray(data.items.ids()), np.arange(train.n_items)):
        raise RuntimeError("lenskit reordered the item vocabulary; indices would not line up")
    test_ilc = ItemListCollection.from_df(
        pd.DataFrame({"user_id": test.users, "item_id": test.items}), UserIDKey
    )
    if model_name == "ease":
        from lenskit.knn import EASEConfig, EASEScorer

        scorer: Any = EASEScorer(EASEConfig(regularization=params["l2"]))
        config = f"lenskit EASEScorer(regularization={params['l2']:g})"
    else:
        from lenskit.knn import ItemKNNConfig, ItemKNNScorer

        nbrs = params["neighbors"]
        cfg = ItemKNNConfig(max_nbrs=nbrs, save_nbrs=nbrs, feedback="implicit")
        scorer = ItemKNNScorer(cfg)
        config = f"lenskit ItemKNNScorer(max_nbrs={nbrs}, implicit) + recloop's similarity"
    pipe = topn_pipeline(scorer, n=K)
    pipe.train(data)
    if model_name == "itemknn":
        sim = fitted.similarity.tocsr().astype(np.float32)
        scorer.sim_matrix = SparseRowArray.from_scipy(sim, large=True)
        scorer.item_counts = np.diff(sim.indptr).astype(np.int32)
    users = split.test_users.tolist()

    def run() -> PerUser:
        recs = recommend(pipe, users, n=K)
        analysis = RunAnalysis()
        analysis.add_metric(NDCG(K, weight=LogRankWeight(offset=1)))
        analysis.add_metric(Recall(K))
        per_user = analysis.measure(recs, test_ilc).list_metrics()
        per_user = per_user.reindex(pd.Index(users, name=per_user.index.name))
        return per_user[f"NDCG@{K}"].to_numpy(float), per_user[f"Recall@{K}"].to_numpy(float)

    seconds, (ndcg, recall) = best_of(repeats, run)
    return PeerRun(seconds, ndcg, recall, config)
