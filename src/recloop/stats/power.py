"""Fixed-horizon planning: units per arm for a minimum detectable effect, and power.

Normal approximation for a difference of two means (Welch is t, but at A/B sample sizes the
two agree to well under a unit; tests compare with statsmodels' `NormalIndPower`):

    n_C = (z_{1-α/s} + z_{power})² (σ_C² + σ_T² / r) / δ²,    n_T = r · n_C,  s = 2 or 1 sides

The fixed horizon is also the yardstick for sequential tests: "samples used vs a fixed-horizon
test at equal power" compares against `sample_size_per_arm`.

With several metrics, Spotify's design (Schultzberg, Ankargren, Frånberg, arXiv:2402.11609;
REFERENCES.md) corrects α over success metrics only (Bonferroni for planning) and corrects power
for G guardrails, 1 - (1 - power) / (G + 1), because the decision needs all G non-inferiority
tests *and* a success test to come out right; `plan_sample_size` applies both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from scipy import special

Alternative = Literal["two-sided", "one-sided"]


def _check(alpha: float, power: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}")


def sample_size_per_arm(
    mde: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: Alternative = "two-sided",
    ratio: float = 1.0,
    sd_treatment: float | None = None,
) -> int:
    """Control-arm units to detect an absolute difference `mde` (treatment gets ratio × that).

    For a relative MDE pass `mde = lift × baseline mean`.
    """
    _check(alpha, power)
    if mde == 0 or sd <= 0 or ratio <= 0:
        raise ValueError(f"need mde != 0, sd > 0 and ratio > 0, got {mde}, {sd}, {ratio}")
    sd_t = sd if sd_treatment is None else sd_treatment
    sides = 2 if alternative == "two-sided" else 1
    z = special.ndtri(1 - alpha / sides) + special.ndtri(power)
    return math.ceil(z**2 * (sd**2 + sd_t**2 / ratio) / mde**2)


def power_at(
    n_per_arm: float,
    mde: float,
    sd: float,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    ratio: float = 1.0,
    sd_treatment: float | None = None,
) -> float:
    """Power of the fixed-horizon z test at `n_per_arm` control units (both tails counted)."""
    _check(alpha, 0.5)
    sd_t = sd if sd_treatment is None else sd_treatment
    se = math.sqrt(sd**2 / n_per_arm + sd_t**2 / (ratio * n_per_arm))
    shift = abs(mde) / se
    if alternative == "one-sided":
        return float(special.ndtr(shift - special.ndtri(1 - alpha)))
    z = special.ndtri(1 - alpha / 2)
    return float(special.ndtr(shift - z) + special.ndtr(-shift - z))


def guardrail_power(power: float, n_guardrails: int) -> float:
    """Per-test power so the whole decision keeps `power` with G guardrails: 1 - β/(G + 1)."""
    _check(0.5, power)
    if n_guardrails < 0:
        raise ValueError(f"n_guardrails must be >= 0, got {n_guardrails}")
    return 1 - (1 - power) / (n_guardrails + 1)


class PlannedMetric(BaseModel):
    """A planned metric: per-unit sd and absolute MDE (success) or margin (guardrail)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sd: float = Field(gt=0)
    effect: float = Field(gt=0)


class SamplePlan(BaseModel):
    """Units per arm the experiment needs, and which metric needs the most."""

    model_config = ConfigDict(frozen=True)

    n_per_arm: int
    binding_metric: str
    per_metric: dict[str, int]
    alpha_success: float  # α / number of success metrics, two-sided
    alpha_guardrail: float  # α, one-sided
    power_per_test: float


def plan_sample_size(
    success: Sequence[PlannedMetric],
    guardrails: Sequence[PlannedMetric] = (),
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SamplePlan:
    """Units per arm for Spotify's rule: success at α/S two-sided, guardrails at α one-sided."""
    if not success:
        raise ValueError("a plan needs at least one success metric")
    names = [m.name for m in (*success, *guardrails)]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names in a plan must be distinct, got {names}")
    per_test_power = guardrail_power(power, len(guardrails))
    alpha_success = alpha / len(success)
    sizes = {
        m.name: sample_size_per_arm(m.effect, m.sd, alpha=alpha_success, power=per_test_power)
        for m in success
    }
    for g in guardrails:
        sizes[g.name] = sample_size_per_arm(
            g.effect, g.sd, alpha=alpha, power=per_test_power, alternative="one-sided"
        )
    binding = max(sizes, key=lambda k: sizes[k])
    return SamplePlan(
        n_per_arm=sizes[binding],
        binding_metric=binding,
        per_metric=sizes,
        alpha_success=alpha_success,
        alpha_guardrail=alpha,
        power_per_test=per_test_power,
    )
