"""Per-arm summaries: the only numbers the tests of an experiment need from the units.

Every test in this package compares two `ArmStats` — a unit count, a mean and the per-unit
variance of the values whose mean it is. Mean metrics summarise the per-unit values directly.
Ratio metrics M/D (clicks per impression, say) are turned into *pseudo-values* first: the
delta-method linearisation (GrowthBook gbstats `RatioStatistic`; Deng et al., "Applying the
Delta Method in Metric Analytics", KDD 2018)

    p_i = R + (M_i - R * D_i) / mean(D),    R = sum(M) / sum(D)

whose mean is exactly R and whose sample variance is the delta-method variance
Var(M)/D̄² - 2 R Cov(M, D)/D̄² + R² Var(D)/D̄² per unit. Working on pseudo-values lets one code
path serve mean and ratio metrics, CUPED and segments alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

MetricKind = Literal["mean", "ratio"]


@dataclass(frozen=True)
class ArmStats:
    """One arm's summary of one metric.

    `variance` is per unit (the variance of the mean is variance / n). `unadjusted_mean` is the
    plain mean before CUPED; relative lifts divide by it, as gbstats does, so that a variance
    reduction never moves the baseline of a percentage.
    """

    n: int
    mean: float
    variance: float
    unadjusted_mean: float
    kind: MetricKind = "mean"
    cuped: bool = False

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError(f"an arm needs at least 2 units to estimate a variance, got {self.n}")
        if not np.isfinite(self.mean) or not np.isfinite(self.variance) or self.variance < 0:
            raise ValueError(f"invalid arm summary: mean={self.mean}, variance={self.variance}")

    @classmethod
    def from_moments(cls, n: int, mean: float, variance: float) -> ArmStats:
        """A mean metric summarised elsewhere (e.g. by SQL: count, avg, var_samp)."""
        return cls(
            n=int(n), mean=float(mean), variance=float(variance), unadjusted_mean=float(mean)
        )


@dataclass(frozen=True, eq=False)
class ArmData:
    """One arm's per-unit data for one metric (arrays aligned by unit).

    `values` is the per-unit value, or the numerator of a ratio metric when `denominator` is
    given. `pre` (and `pre_denominator` for ratios) is the same metric over the pre-period, the
    CUPED covariate; NaN in `pre` marks a unit without a pre-period.
    """

    values: np.ndarray
    denominator: np.ndarray | None = None
    pre: np.ndarray | None = None
    pre_denominator: np.ndarray | None = None

    def __post_init__(self) -> None:
        fields = {
            "values": self.values,
            "denominator": self.denominator,
            "pre": self.pre,
            "pre_denominator": self.pre_denominator,
        }
        n = None
        for name, array in fields.items():
            if array is None:
                continue
            array = np.asarray(array, dtype=np.float64)
            if array.ndim != 1:
                raise ValueError(f"{name} must be a 1-d array, got shape {array.shape}")
            if n is not None and len(array) != n:
                raise ValueError(f"{name} has {len(array)} units, values has {n}")
            n = len(array)
            if name != "pre" and not np.all(np.isfinite(array)):
                raise ValueError(f"{name} has NaN or infinite entries")
            object.__setattr__(self, name, array)
        if self.pre_denominator is not None and self.denominator is None:
            raise ValueError("pre_denominator given for a metric without a denominator")
        if self.denominator is not None and self.pre is not None and self.pre_denominator is None:
            raise ValueError("a ratio metric's pre-period needs pre_denominator too")

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def kind(self) -> MetricKind:
        return "mean" if self.denominator is None else "ratio"

    def subset(self, mask: np.ndarray) -> ArmData:
        """The same arm restricted to some units (segments)."""
        return ArmData(
            values=self.values[mask],
            denominator=None if self.denominator is None else self.denominator[mask],
            pre=None if self.pre is None else self.pre[mask],
            pre_denominator=None if self.pre_denominator is None else self.pre_denominator[mask],
        )


def ratio_pseudo_values(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Delta-method pseudo-values of a ratio metric (see the module docstring)."""
    d_bar = denominator.mean()
    if d_bar == 0:
        raise ValueError("a ratio metric's denominator sums to zero in an arm")
    ratio = numerator.sum() / denominator.sum()
    return ratio + (numerator - ratio * denominator) / d_bar


def pseudo_values(data: ArmData) -> np.ndarray:
    """Per-unit values whose mean is the arm's metric: the values, or ratio pseudo-values."""
    if data.denominator is None:
        return data.values
    return ratio_pseudo_values(data.values, data.denominator)


def arm_stats(data: ArmData | np.ndarray) -> ArmStats:
    """Summarise one arm (no variance reduction; see `cuped.cuped_stats` for that)."""
    if not isinstance(data, ArmData):
        data = ArmData(values=np.asarray(data, dtype=np.float64))
    if data.n < 2:
        raise ValueError(f"an arm needs at least 2 units to estimate a variance, got {data.n}")
    values = pseudo_values(data)
    mean = float(values.mean())
    return ArmStats(
        n=data.n,
        mean=mean,
        variance=float(values.var(ddof=1)),
        unadjusted_mean=mean,
        kind=data.kind,
    )
