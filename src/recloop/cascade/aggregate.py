"""Paired comparison of whole-list metrics (coverage, Gini) with a bootstrap over users.

Coverage and the exposure Gini are properties of all lists together, not averages of per-user
values, so `recsys.compare.paired_comparison` cannot take them. Here both models' lists are
resampled with the *same* users (a multinomial weight per user, as a percentile bootstrap draws
users with replacement), the metric is recomputed on each resample for both, and the interval is
the percentiles of the differences. Point estimates are the metrics of the full lists, exactly
as `recsys.metrics.beyond_accuracy` reports them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recloop.recsys.compare import PairedComparison
from recloop.recsys.metrics import gini

AGGREGATES = ("coverage", "gini")
_CHUNK = 256


def exposure_matrix(recs: np.ndarray, n_items: int) -> sp.csr_matrix:
    """users x items, how often each user's list shows each item (0 or 1)."""
    n_users, k = recs.shape
    rows = np.repeat(np.arange(n_users), k)
    return sp.csr_matrix(
        (np.ones(n_users * k), (rows, recs.ravel())), shape=(n_users, n_items), dtype=np.float64
    )


def _coverage(exposure: np.ndarray) -> np.ndarray:
    return (exposure > 0).sum(axis=1) / exposure.shape[1]


def _gini(exposure: np.ndarray) -> np.ndarray:
    return np.array([gini(row) for row in exposure])


STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"coverage": _coverage, "gini": _gini}


def paired_aggregate_comparison(
    metric: str,
    baseline_recs: np.ndarray,
    candidate_recs: np.ndarray,
    n_items: int,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> PairedComparison:
    """Candidate minus baseline on an aggregate metric (`coverage` or `gini`), same users."""
    base = metric.split("@")[0]
    if base not in STATISTICS:
        raise ValueError(f"{metric}: not an aggregate metric ({', '.join(AGGREGATES)})")
    if baseline_recs.shape != candidate_recs.shape:
        raise ValueError(f"{metric}: the two models' lists differ in shape")
    statistic = STATISTICS[base]
    a = exposure_matrix(baseline_recs, n_items)
    b = exposure_matrix(candidate_recs, n_items)
    n_users = a.shape[0]
    ones = np.ones((1, n_users))
    point_a = float(statistic(np.asarray(ones @ a))[0])
    point_b = float(statistic(np.asarray(ones @ b))[0])
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_resamples)
    for start in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - start)
        weights = rng.multinomial(n_users, np.full(n_users, 1.0 / n_users), size=size)
        diffs[start : start + size] = statistic(np.asarray(weights @ b)) - statistic(
            np.asarray(weights @ a)
        )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    difference = point_b - point_a
    share_below = float(np.mean(diffs <= 0.0))
    share_above = float(np.mean(diffs >= 0.0))
    return PairedComparison(
        metric=metric,
        n_users=n_users,
        baseline=point_a,
        candidate=point_b,
        difference=difference,
        relative=difference / point_a if point_a != 0 else None,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        p_value=min(1.0, 2.0 * min(share_below, share_above)),
    )
