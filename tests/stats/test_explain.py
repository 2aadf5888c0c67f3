"""The explanation is written from the attribution's numbers, sentence by sentence."""

from __future__ import annotations

from pathlib import Path

from recloop.stats.analysis import analyze
from recloop.stats.attribution import REASON_MESSAGES
from recloop.stats.explain import explain


def test_every_sentence_comes_from_the_numbers(golden_db: Path) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", ["return_rate:0.5"])
    text = explain(a)
    assert text == a.explanation
    m = a.metrics["consumption_per_user"]
    assert f"{m.relative_effect:+.1%}" in text and "corrected p" in text
    assert f"{a.srm.counts['control']:,} control" in text  # type: ignore[union-attr]
    assert "Guardrail return_rate:" in text and "tolerated -50.0%" in text
    for message in a.reason_messages[:2]:
        assert message in text
    assert "fixed-horizon" in text


def test_every_reason_code_has_a_message() -> None:
    codes = {"srm_mismatch", "novelty_not_settled", "too_few_units", "metric_unavailable",
             "success_improved", "no_success_improved", "no_success_metrics",
             "success_deteriorated", "guardrail_harmful", "guardrail_not_non_inferior"}  # fmt: skip
    assert codes == set(REASON_MESSAGES)
