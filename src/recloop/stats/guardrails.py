"""Guardrails: one-sided non-inferiority tests with a pre-registered margin.

A guardrail (latency, retention, revenue) need not improve; it must not get worse by more
than a tolerated margin. Spotify's rule ships only when every guardrail is *significantly
non-inferior* (Schultzberg, Ankargren, Frånberg, "Risk-aware product decisions in A/B tests
with multiple metrics", arXiv:2402.11609, Spotify 2024): a one-sided test at α that needs no
multiplicity correction of α (only of power, see `power.guardrail_power`):

    higher is better:  H0: Δ ≤ -margin   vs  H1: Δ > -margin
    lower is better:   H0: Δ ≥ +margin   vs  H1: Δ < +margin

Δ is the relative lift or the absolute difference, as the margin is stated. The same effect
also answers the monitoring question GrowthBook Safe Rollouts asks at every look — is the
treatment *significantly worse* than control (one-sided, H0: not worse)? — which triggers a
rollback. Both follow the effect's inference: Welch t for a fixed horizon, the one-sided
asymptotic confidence sequence (see `sequential`) when the effect was estimated sequentially,
the one-sided boundary of the same look (see `group_sequential`) in a group-sequential design,
or the boundary of a design whose looks' correlation was measured (`estimated_design`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from recloop.stats import _tdist, group_sequential, sequential
from recloop.stats.effect import Effect
from recloop.stats.estimated_design import LookDesign

Direction = Literal["higher", "lower"]  # which way is better for the metric
MarginKind = Literal["relative", "absolute"]


class GuardrailSpec(BaseModel):
    """A pre-registered guardrail: e.g. `GuardrailSpec(metric="return_rate", margin=0.01)`
    tolerates a 1% relative drop in a higher-is-better metric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    margin: float = Field(ge=0)
    margin_kind: MarginKind = "relative"
    direction: Direction = "higher"


class GuardrailResult(BaseModel):
    """Non-inferiority and harm verdicts of one guardrail, at one-sided level α."""

    model_config = ConfigDict(frozen=True)

    spec: GuardrailSpec
    effect: Effect
    estimate: float  # Δ on the margin's scale (relative lift or absolute difference)
    bound: float  # one-sided (1 - α) confidence bound on Δ's bad side
    p_value: float  # non-inferiority p-value (H0: worse by at least the margin)
    non_inferior: bool  # significantly non-inferior: bound better than the margin
    harm_p_value: float  # H0: treatment not worse than control
    harmful: bool  # significantly worse than control (the rollback signal)


def _one_sided(effect: Effect, se: float, distance: float) -> tuple[float, float]:
    """One-sided half-width and p-value for evidence `distance` (> 0 favours H1)."""
    if effect.method == "welch":
        dof = float("inf") if effect.dof is None else effect.dof
        width = float(_tdist.critical(dof, 1 - effect.alpha)) * se
        return width, float(_tdist.p_one_sided(distance, se, dof))
    if effect.method == "group-sequential":
        assert effect.look is not None and effect.horizon is not None
        look, horizon, alpha = effect.look, effect.horizon, effect.alpha
        z = distance / se if se > 0 else (np.inf * np.sign(distance) if distance else 0.0)
        width = group_sequential.boundary(look, horizon, alpha, two_sided=False) * se
        return width, float(group_sequential.p_value(z, look, horizon, alpha, two_sided=False))
    tuning = effect.tuning or sequential.DEFAULT_TUNING
    width = float(sequential.halfwidth(se, effect.n_total, effect.alpha, tuning, two_sided=False))
    p = float(sequential.p_value_one_sided(distance, se, effect.n_total, effect.alpha, tuning))
    return width, p


def check_guardrail(
    spec: GuardrailSpec, effect: Effect, design: LookDesign | None = None
) -> GuardrailResult:
    """Test `effect` against the guardrail's margin; α and inference come from the effect, or
    the one-sided boundary and p-values from an estimated group-sequential `design`."""
    if spec.metric != effect.metric:
        raise ValueError(f"guardrail {spec.metric!r} given an effect on {effect.metric!r}")
    if spec.margin_kind == "relative":
        if effect.relative_effect is None or effect.relative_se is None:
            raise ValueError(f"{spec.metric}: relative margin but the control mean is 0")
        estimate, se = effect.relative_effect, effect.relative_se
    else:
        estimate, se = effect.effect, effect.se
    good = 1.0 if spec.direction == "higher" else -1.0
    if design is None:
        width, p_ni = _one_sided(effect, se, good * estimate + spec.margin)
        _, p_harm = _one_sided(effect, se, -good * estimate)
    else:
        width = design.boundary * se
        p_ni, p_harm = (design.p_value(d / se if se > 0 else np.inf * np.sign(d))
                        for d in (good * estimate + spec.margin, -good * estimate))  # fmt: skip
    bound = estimate - good * width
    return GuardrailResult(
        spec=spec,
        effect=effect,
        estimate=estimate,
        bound=bound,
        p_value=p_ni,
        non_inferior=good * bound > -spec.margin,
        harm_p_value=p_harm,
        harmful=good * (estimate + good * width) < 0,
    )
