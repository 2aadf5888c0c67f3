"""The pre-registered decision rule over success metrics and guardrails (Spotify's).

Schultzberg, Ankargren, Frånberg, "Risk-aware product decisions in A/B tests with multiple
metrics" (arXiv:2402.11609, 2024); REFERENCES.md:

- **ship** when the treatment is significantly better on at least one success metric, after
  correcting α over the success metrics only, and significantly non-inferior on every
  guardrail (guardrails need no α correction: all of them must pass);
- **no-ship** when a success metric is significantly worse (same correction) or a guardrail is
  significantly harmful — the deterioration tests;
- **inconclusive** otherwise: the evidence is not there yet (keep running, or stop at the
  horizon without shipping).

Pure code, no judgement: the Evaluation agent explains the verdict, it does not make it. The
cause codes below are the only vocabulary of reasons (one place, like gbstats `messages.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from recloop.stats.effect import Effect
from recloop.stats.guardrails import Direction, GuardrailResult
from recloop.stats.multiple import Correction, adjust_p_values

Verdict = Literal["ship", "no_ship", "inconclusive"]
Reason = Literal[
    "success_improved",
    "no_success_improved",
    "no_success_metrics",
    "success_deteriorated",
    "guardrail_harmful",
    "guardrail_not_non_inferior",
]

REASON_MESSAGES: dict[Reason, str] = {
    "success_improved": "significantly better on at least one success metric",
    "no_success_improved": "no success metric is significantly better after correction",
    "no_success_metrics": "no success metric was given, so nothing can justify shipping",
    "success_deteriorated": "a success metric is significantly worse after correction",
    "guardrail_harmful": "a guardrail is significantly worse than control",
    "guardrail_not_non_inferior": "a guardrail is not (yet) significantly non-inferior",
}


class RuleOutcome(BaseModel):
    """The verdict, the reasons for it and the per-metric facts it rests on."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reasons: tuple[Reason, ...]
    alpha: float
    correction: Correction
    adjusted_p: dict[str, float]  # success metric -> corrected p-value
    improved: tuple[str, ...]  # success metrics significantly better
    deteriorated: tuple[str, ...]  # success metrics significantly worse
    guardrails_non_inferior: tuple[str, ...]
    guardrails_unproven: tuple[str, ...]  # not shown non-inferior
    guardrails_harmful: tuple[str, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(REASON_MESSAGES[r] for r in self.reasons)


def decide(
    success: Sequence[Effect],
    guardrails: Sequence[GuardrailResult] = (),
    *,
    alpha: float = 0.05,
    correction: Correction = "holm",
    directions: Mapping[str, Direction] | None = None,
) -> RuleOutcome:
    """Apply the rule; `directions` names success metrics where lower is better."""
    names = [e.metric for e in success]
    if len(set(names)) != len(names):
        raise ValueError(f"success metrics must be distinct, got {names}")
    directions = directions or {}
    unknown = set(directions) - set(names)
    if unknown:
        raise ValueError(f"directions given for metrics that are not success metrics: {unknown}")
    adjusted = adjust_p_values([e.p_value for e in success], correction, alpha)
    improved: list[str] = []
    deteriorated: list[str] = []
    for effect, reject in zip(success, adjusted.reject, strict=True):
        if not reject or effect.effect == 0:
            continue
        sign = 1 if directions.get(effect.metric, "higher") == "higher" else -1
        (improved if sign * effect.effect > 0 else deteriorated).append(effect.metric)

    non_inferior = tuple(g.spec.metric for g in guardrails if g.non_inferior)
    unproven = tuple(g.spec.metric for g in guardrails if not g.non_inferior)
    harmful = tuple(g.spec.metric for g in guardrails if g.harmful)

    reasons: list[Reason] = []
    if deteriorated:
        reasons.append("success_deteriorated")
    if harmful:
        reasons.append("guardrail_harmful")
    if not success:
        reasons.append("no_success_metrics")
    elif improved:
        reasons.append("success_improved")
    else:
        reasons.append("no_success_improved")
    if set(unproven) - set(harmful):
        reasons.append("guardrail_not_non_inferior")

    verdict: Verdict
    if deteriorated or harmful:
        verdict = "no_ship"
    elif improved and not unproven:
        verdict = "ship"
    else:
        verdict = "inconclusive"
    return RuleOutcome(
        verdict=verdict,
        reasons=tuple(reasons),
        alpha=alpha,
        correction=correction,
        adjusted_p=dict(zip(names, adjusted.adjusted, strict=True)),
        improved=tuple(improved),
        deteriorated=tuple(deteriorated),
        guardrails_non_inferior=non_inferior,
        guardrails_unproven=unproven,
        guardrails_harmful=harmful,
    )
