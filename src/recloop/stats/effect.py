"""Two-arm effect estimates: absolute difference and relative lift, with intervals and p-values.

Absolute difference: Welch's unequal-variance t (Welch–Satterthwaite dof), as
`scipy.stats.ttest_ind(equal_var=False)` and statsmodels' `CompareMeans` compute it.
Relative lift (T - C) / C: delta-method variance (REFERENCES.md; GrowthBook gbstats
`frequentist_variance`, also Eppo and Statsig)

    Var = s_C² μ_T² / (μ_C⁴ n_C) + s_T² / (μ_C² n_T)

with the same t dof, μ the unadjusted means. Ratio metrics and CUPED arrive here already folded
into `ArmStats` (pseudo-values; see `summary` and `cuped`), so one formula serves all.

With `inference="sequential"` the intervals and p-values come from the asymptotic confidence
sequence (`sequential`) and stay valid however often the experiment is looked at. With
`inference="group-sequential"` they are repeated confidence intervals and repeated p-values of a
design of daily looks over a planned horizon (`group_sequential`): valid when looking on those
days, and much narrower near the horizon.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.stats import _tdist, group_sequential, sequential
from recloop.stats.summary import ArmStats, MetricKind

Inference = Literal["fixed", "sequential", "group-sequential"]
Method = Literal["welch", "confidence-sequence", "group-sequential"]
METHODS: dict[Inference, Method] = {
    "fixed": "welch", "sequential": "confidence-sequence", "group-sequential": "group-sequential",
}  # fmt: skip


class Effect(BaseModel):
    """Treatment minus control on one metric, with its uncertainty (two-sided, level 1 - α).

    `control_mean`/`treatment_mean` are CUPED-adjusted when `cuped`; relative fields divide by
    the unadjusted control mean and are None when that mean is 0. `dof` is the Welch dof (None
    for confidence sequences or when it is infinite); `tuning` is N* for confidence sequences;
    `look` and `horizon` are the 0-based look and the planned looks of a group-sequential design.
    """

    model_config = ConfigDict(frozen=True)

    metric: str
    method: Method
    kind: MetricKind
    cuped: bool
    alpha: float
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    relative_effect: float | None
    relative_se: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    relative_p_value: float | None
    dof: float | None
    tuning: float | None
    look: int | None = None
    horizon: int | None = None

    @property
    def n_total(self) -> int:
        return self.n_control + self.n_treatment

    @property
    def significant(self) -> bool:
        """The interval excludes zero (equivalently p < α)."""
        return self.ci_low > 0 or self.ci_high < 0


def _spread(
    se: float,
    effect: float,
    dof: float,
    n_total: int,
    alpha: float,
    inference: Inference,
    tuning: float,
    design: tuple[int, int] | None,
) -> tuple[float, float]:
    """Half-width of the two-sided interval and the p-value for `effect` with `se`."""
    if inference == "fixed":
        width = float(_tdist.critical(dof, 1 - alpha / 2)) * se
        return width, float(_tdist.p_two_sided(effect, se, dof))
    if inference == "group-sequential":
        if design is None:
            raise ValueError("group-sequential inference needs the look and the horizon")
        look, horizon = design
        z = effect / se if se > 0 else (np.inf * np.sign(effect) if effect else 0.0)
        width = group_sequential.boundary(look, horizon, alpha) * se
        return width, float(group_sequential.p_value(z, look, horizon, alpha))
    width = float(sequential.halfwidth(se, n_total, alpha, tuning))
    return width, float(sequential.p_value(effect, se, n_total, alpha, tuning))


def relative_variance(control: ArmStats, treatment: ArmStats) -> float:
    """Delta-method variance of (T - C) / C (REFERENCES.md, gbstats `frequentist_variance`)."""
    mu_c, mu_t = control.unadjusted_mean, treatment.unadjusted_mean
    return control.variance * mu_t**2 / (mu_c**4 * control.n) + treatment.variance / (
        mu_c**2 * treatment.n
    )


def estimate_effect(
    metric: str,
    control: ArmStats,
    treatment: ArmStats,
    *,
    alpha: float = 0.05,
    inference: Inference = "fixed",
    tuning: float = sequential.DEFAULT_TUNING,
    design: tuple[int, int] | None = None,
) -> Effect:
    """Difference and relative lift of `treatment` over `control` with (1 - α) intervals.

    `design` is (look, horizon) for group-sequential inference: the 0-based daily look and the
    planned number of looks.
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if (control.kind, control.cuped) != (treatment.kind, treatment.cuped):
        raise ValueError(f"{metric}: arms summarised differently ({control} vs {treatment})")
    n_total = control.n + treatment.n
    diff = treatment.mean - control.mean
    se = math.sqrt(control.variance / control.n + treatment.variance / treatment.n)
    dof = float(_tdist.welch_dof(control.variance, control.n, treatment.variance, treatment.n))
    width, p = _spread(se, diff, dof, n_total, alpha, inference, tuning, design)

    rel = rel_se = rel_low = rel_high = rel_p = None
    if control.unadjusted_mean != 0:
        rel = diff / control.unadjusted_mean
        rel_se = math.sqrt(relative_variance(control, treatment))
        rel_width, rel_p = _spread(rel_se, rel, dof, n_total, alpha, inference, tuning, design)
        rel_low, rel_high = rel - rel_width, rel + rel_width

    return Effect(
        metric=metric,
        method=METHODS[inference],
        kind=control.kind,
        cuped=control.cuped,
        alpha=alpha,
        n_control=control.n,
        n_treatment=treatment.n,
        control_mean=control.mean,
        treatment_mean=treatment.mean,
        effect=diff,
        se=se,
        ci_low=diff - width,
        ci_high=diff + width,
        p_value=p,
        relative_effect=rel,
        relative_se=rel_se,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
        relative_p_value=rel_p,
        dof=dof if inference == "fixed" and np.isfinite(dof) else None,
        tuning=tuning if inference == "sequential" else None,
        look=design[0] if inference == "group-sequential" and design else None,
        horizon=design[1] if inference == "group-sequential" and design else None,
    )
