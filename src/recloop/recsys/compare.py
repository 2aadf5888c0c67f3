"""Paired comparison of two recommenders scored on the same users.

Both recommenders are judged on identical test users, so the per-user differences carry the
comparison: their mean, a percentile bootstrap confidence interval (scipy) and a paired
t-test. This is what the offline cascade stage uses to decide "significantly worse" or
"compatible with the minimum effect".
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats


class PairedComparison(BaseModel):
    """Candidate minus baseline on one metric, with its uncertainty."""

    model_config = ConfigDict(frozen=True)

    metric: str
    n_users: int
    baseline: float
    candidate: float
    difference: float
    relative: float | None  # difference / baseline; None when the baseline mean is 0
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float  # two-sided paired t-test

    @property
    def significant(self) -> bool:
        """The confidence interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


def paired_comparison(
    metric: str,
    baseline: np.ndarray,
    candidate: np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> PairedComparison:
    """Compare per-user metric vectors of two models on the same users (same order)."""
    baseline = np.asarray(baseline, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if baseline.shape != candidate.shape or baseline.ndim != 1:
        raise ValueError(
            f"{metric}: paired comparison needs two equal-length 1-d vectors, got "
            f"{baseline.shape} and {candidate.shape}"
        )
    if len(baseline) < 2:
        raise ValueError(f"{metric}: a paired comparison needs at least 2 users")
    diff = candidate - baseline
    mean_diff = float(diff.mean())
    if np.all(diff == diff[0]):  # no spread: the interval is the point, the test is moot
        low = high = mean_diff
        p_value = 1.0 if mean_diff == 0 else 0.0
    else:
        boot = stats.bootstrap(
            (diff,),
            np.mean,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        low, high = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
        p_value = float(stats.ttest_rel(candidate, baseline).pvalue)
    base_mean = float(baseline.mean())
    return PairedComparison(
        metric=metric,
        n_users=len(diff),
        baseline=base_mean,
        candidate=float(candidate.mean()),
        difference=mean_diff,
        relative=mean_diff / base_mean if base_mean != 0 else None,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=p_value,
    )
