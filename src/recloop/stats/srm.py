"""Sample-ratio mismatch: are the arms' unit counts what the planned allocation predicts?

A mismatch means assignment or logging is broken, and every effect estimate is then suspect
(Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019).
Pearson χ² goodness of fit with k - 1 dof over any number of arms, flagged at p < 0.001 — the
GrowthBook default (computed only with ≥ 8 units per arm) and Eppo's α (REFERENCES.md).
Statsig additionally requires an absolute share deviation above 0.1%; `min_deviation` applies
that rule when set. `min_expected` floors the expected count per arm below which the check is
not trusted (a 1% ramp step's few dozen units: a daily-repeated check flagging at p < 0.001 on
them vetoes good tests now and then, and a real mismatch shows on the next, larger step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats

SRM_THRESHOLD = 0.001  # GrowthBook and Eppo default
MIN_UNITS_PER_ARM = 8  # GrowthBook: below this the χ² approximation is not trusted


class SrmResult(BaseModel):
    """The χ² test of observed arm counts against the planned allocation."""

    model_config = ConfigDict(frozen=True)

    counts: tuple[int, ...]
    expected_share: tuple[float, ...]
    observed_share: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float
    max_deviation: float  # largest |observed share - planned share| over arms
    tested: bool  # False below MIN_UNITS_PER_ARM units or `min_expected` expected in an arm
    flag: bool  # mismatch: tested, p < threshold and deviation > min_deviation


def srm_check(
    counts: Sequence[int] | np.ndarray,
    allocation: Sequence[float] | np.ndarray | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
    min_deviation: float = 0.0,
    min_expected: float = 0.0,
) -> SrmResult:
    """Test unit counts per arm against `allocation` (weights, any scale; default equal)."""
    observed = np.asarray(counts, dtype=np.int64)
    if observed.ndim != 1 or len(observed) < 2:
        raise ValueError(f"need the unit counts of at least 2 arms, got {counts!r}")
    if np.any(observed < 0):
        raise ValueError(f"unit counts must be non-negative, got {counts!r}")
    weights = np.ones(len(observed)) if allocation is None else np.asarray(allocation, float)
    if weights.shape != observed.shape or np.any(weights <= 0):
        raise ValueError(f"allocation must give a positive weight per arm, got {allocation!r}")
    share = weights / weights.sum()
    total = int(observed.sum())
    if total == 0:
        raise ValueError("no units in any arm")
    observed_share = observed / total
    result = stats.chisquare(observed, f_exp=share * total)
    tested = bool(np.all(observed >= MIN_UNITS_PER_ARM) and np.all(share * total >= min_expected))
    deviation = float(np.max(np.abs(observed_share - share)))
    p_value = float(result.pvalue)
    return SrmResult(
        counts=tuple(int(c) for c in observed),
        expected_share=tuple(float(s) for s in share),
        observed_share=tuple(float(s) for s in observed_share),
        statistic=float(result.statistic),
        p_value=p_value,
        threshold=threshold,
        max_deviation=deviation,
        tested=tested,
        flag=tested and p_value < threshold and deviation > min_deviation,
    )
