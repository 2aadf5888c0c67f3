"""Spotify's decision rule: ship / no-ship / inconclusive from success metrics and guardrails."""

from __future__ import annotations

import pytest

from recloop.stats.decision import REASON_MESSAGES, decide
from recloop.stats.effect import Effect, estimate_effect
from recloop.stats.guardrails import GuardrailResult, GuardrailSpec, check_guardrail
from recloop.stats.summary import ArmStats

N, VAR = 20_000, 1.0
SE = (2 * VAR / N) ** 0.5  # 0.01


def effect(metric: str, z: float, base: float = 1.0) -> Effect:
    """An effect whose Welch statistic is z (t ≈ normal at 40,000 units)."""
    control = ArmStats.from_moments(N, base, VAR)
    treatment = ArmStats.from_moments(N, base + z * SE, VAR)
    return estimate_effect(metric, control, treatment)


def guardrail(z: float, margin: float = 0.02) -> GuardrailResult:
    """A higher-is-better guardrail with base 1: a relative margin of 2% is 2 standard errors."""
    return check_guardrail(GuardrailSpec(metric="retention", margin=margin), effect("retention", z))


def test_ship_when_one_success_metric_wins_and_every_guardrail_is_non_inferior() -> None:
    outcome = decide([effect("clicks", 3.5), effect("consumption", 0.3)], [guardrail(1.0)])
    assert outcome.verdict == "ship"
    assert outcome.improved == ("clicks",)
    assert outcome.reasons == ("success_improved",)
    assert outcome.guardrails_non_inferior == ("retention",)


def test_a_guardrail_not_shown_non_inferior_blocks_shipping() -> None:
    # z = -0.5: Δ = -0.5%, one-sided bound -0.5% - 1.645% < -2%: non-inferiority not shown
    outcome = decide([effect("clicks", 3.5)], [guardrail(-0.5)])
    assert outcome.verdict == "inconclusive"
    assert outcome.guardrails_unproven == ("retention",)
    assert "guardrail_not_non_inferior" in outcome.reasons


def test_a_harmful_guardrail_means_no_ship_even_with_a_win() -> None:
    outcome = decide([effect("clicks", 4.0)], [guardrail(-3.0)])
    assert outcome.verdict == "no_ship"
    assert outcome.guardrails_harmful == ("retention",)
    assert outcome.reasons == ("guardrail_harmful", "success_improved")


def test_a_significantly_worse_success_metric_means_no_ship() -> None:
    outcome = decide([effect("clicks", 3.5), effect("consumption", -3.5)])
    assert outcome.verdict == "no_ship"
    assert outcome.deteriorated == ("consumption",)


def test_alpha_is_corrected_over_success_metrics() -> None:
    # z = 2.17 → p ≈ 0.030 alone (ship); with a second metric at p ≈ 0.6, Holm gives 0.060
    single = decide([effect("clicks", 2.17)])
    assert single.verdict == "ship"
    pair = decide([effect("clicks", 2.17), effect("consumption", 0.5)], correction="holm")
    assert pair.verdict == "inconclusive"
    assert pair.adjusted_p["clicks"] == pytest.approx(2 * single.adjusted_p["clicks"], rel=1e-12)
    assert decide(
        [effect("clicks", 2.17), effect("consumption", 0.5)], correction="none"
    ).verdict == ("ship")


def test_lower_is_better_success_metrics() -> None:
    latency_down = effect("latency", -3.5)
    assert decide([latency_down], directions={"latency": "lower"}).verdict == "ship"
    assert decide([latency_down]).verdict == "no_ship"


def test_without_success_metrics_nothing_ships() -> None:
    outcome = decide([], [guardrail(3.0)])
    assert outcome.verdict == "inconclusive" and outcome.reasons == ("no_success_metrics",)
    assert outcome.messages == (REASON_MESSAGES["no_success_metrics"],)


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="distinct"):
        decide([effect("clicks", 1.0), effect("clicks", 2.0)])
    with pytest.raises(ValueError, match="not success metrics"):
        decide([effect("clicks", 1.0)], directions={"latency": "lower"})
