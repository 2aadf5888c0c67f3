"""CUPED: variance reduction with the pre-period value of the same metric as covariate.

Deng, Xu, Kohavi, Walker, "Improving the Sensitivity of Online Controlled Experiments by
Utilizing Pre-Experiment Data" (WSDM 2013): Y_cuped = Y - θ (X - E[X]) with θ = Cov(Y, X) /
Var(X) estimated on both arms pooled (REFERENCES.md; GrowthBook gbstats `compute_theta`). The
pre-period cannot be moved by the treatment, so the adjustment keeps the difference unbiased
and removes the share of variance X explains (about 50% at Bing, 40% at Netflix).

Units without a pre-period (new users) get covariate 0 plus a "no pre-period" indicator as a
second covariate, so θ becomes the least-squares vector over [X, 1{missing}] and new and
returning users are each adjusted by their own baseline. Ratio metrics are adjusted on their
delta-method pseudo-values (the linearisation of Deng et al. 2018 / gbstats
`RegressionAdjustedRatioStatistic`): Y and X are the per-arm linearised ratios.

`variance_reduction` is 1 - Var(Δ̂_cuped) / Var(Δ̂), the share of the variance of the
estimated difference removed — 1 - Var(Y_cuped)/Var(Y) when both arms have equal variance.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.stats.summary import ArmData, ArmStats, arm_stats, pseudo_values

SkipReason = Literal["no_pre_period", "constant_covariate"]

SKIP_MESSAGES: dict[SkipReason, str] = {
    "no_pre_period": "no unit has a pre-period value: CUPED skipped, unadjusted estimate used",
    "constant_covariate": "the pre-period value is the same for every unit: CUPED skipped",
}


class CupedResult(BaseModel):
    """Both arms' (possibly adjusted) summaries and what the adjustment did."""

    model_config = ConfigDict(frozen=True)

    control: ArmStats
    treatment: ArmStats
    applied: bool
    skip_reason: SkipReason | None = None
    theta: tuple[float, ...] = ()  # coefficients of `covariates`, in order
    covariates: tuple[str, ...] = ()  # "pre" and, when some units lack one, "no_pre"
    variance_reduction: float = 0.0
    n_missing_pre: int = 0

    @property
    def message(self) -> str | None:
        return None if self.skip_reason is None else SKIP_MESSAGES[self.skip_reason]


def _pre_values(data: ArmData) -> np.ndarray:
    """The covariate per unit (NaN: no pre-period); ratio metrics are linearised as Y is."""
    assert data.pre is not None
    if data.pre_denominator is None:
        return data.pre
    present = ~np.isnan(data.pre)
    out = np.full(data.n, np.nan)
    num, den = data.pre[present], data.pre_denominator[present]
    if present.any() and den.sum() != 0:
        ratio = num.sum() / den.sum()
        out[present] = ratio + (num - ratio * den) / den.mean()
    return out


def _design(x: np.ndarray, with_indicator: bool) -> np.ndarray:
    missing = np.isnan(x)
    columns = [np.where(missing, 0.0, x)]
    if with_indicator:
        columns.append(missing.astype(np.float64))
    return np.column_stack(columns)


def _skipped(
    control: ArmStats, treatment: ArmStats, reason: SkipReason, n_missing: int
) -> CupedResult:
    return CupedResult(
        control=control,
        treatment=treatment,
        applied=False,
        skip_reason=reason,
        n_missing_pre=n_missing,
    )


def _adjusted(stats: ArmStats, values: np.ndarray) -> ArmStats:
    return ArmStats(
        n=stats.n,
        mean=float(values.mean()),
        variance=float(values.var(ddof=1)),
        unadjusted_mean=stats.unadjusted_mean,
        kind=stats.kind,
        cuped=True,
    )


def _var_of_diff(c: ArmStats, t: ArmStats) -> float:
    return c.variance / c.n + t.variance / t.n


def cuped_stats(control: ArmData, treatment: ArmData) -> CupedResult:
    """CUPED-adjusted summaries of both arms, or the plain ones with the reason it was skipped."""
    plain_c, plain_t = arm_stats(control), arm_stats(treatment)
    if control.pre is None or treatment.pre is None:
        return _skipped(plain_c, plain_t, "no_pre_period", control.n + treatment.n)
    x_c, x_t = _pre_values(control), _pre_values(treatment)
    missing = int(np.isnan(x_c).sum() + np.isnan(x_t).sum())
    if missing == control.n + treatment.n:
        return _skipped(plain_c, plain_t, "no_pre_period", missing)

    present = np.concatenate([x_c, x_t])
    present = present[~np.isnan(present)]
    if present.std() <= 1e-12 * max(1.0, float(np.abs(present).max())):
        return _skipped(plain_c, plain_t, "constant_covariate", missing)

    names = ("pre", "no_pre") if missing else ("pre",)
    z_c, z_t = _design(x_c, missing > 0), _design(x_t, missing > 0)
    y_c, y_t = pseudo_values(control), pseudo_values(treatment)
    z = np.vstack([z_c, z_t])
    y = np.concatenate([y_c, y_t])
    z_mean = z.mean(axis=0)
    zc = z - z_mean
    cov_zz = zc.T @ zc / (len(y) - 1)
    cov_zy = zc.T @ (y - y.mean()) / (len(y) - 1)
    theta = np.linalg.solve(cov_zz, cov_zy)  # non-singular: X varies among present units

    adj_c = _adjusted(plain_c, y_c - (z_c - z_mean) @ theta)
    adj_t = _adjusted(plain_t, y_t - (z_t - z_mean) @ theta)
    before = _var_of_diff(plain_c, plain_t)
    reduction = 1.0 - _var_of_diff(adj_c, adj_t) / before if before > 0 else 0.0
    return CupedResult(
        control=adj_c,
        treatment=adj_t,
        applied=True,
        theta=tuple(float(v) for v in theta),
        covariates=names,
        variance_reduction=float(reduction),
        n_missing_pre=missing,
    )
