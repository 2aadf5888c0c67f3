"""The plain-language explanation of an attribution, written from its numbers by templates.

No model writes this: each sentence is a template filled from the attribution's fields, so the
explanation cannot say anything the numbers do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recloop.stats.attribution import Attribution, GuardrailOutcome, MetricResult
    from recloop.stats.seasonality import SeasonalityDiagnosis

DECISION_WORDS = {"ship": "SHIP", "no_ship": "DO NOT SHIP", "inconclusive": "INCONCLUSIVE"}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def _change(m: MetricResult, alpha: float) -> str:
    """'consumption_per_user rose +4.1% (95% CI +2.0% to +6.2%)' or absolute when no baseline."""
    verb = "rose" if m.effect > 0 else "fell" if m.effect < 0 else "did not move"
    level = f"{100 * (1 - alpha):g}"
    if m.relative_effect is not None:
        ci = f"{_pct(m.relative_ci_low)} to {_pct(m.relative_ci_high)}"
        return f"{m.name} {verb} {_pct(m.relative_effect)} ({level}% CI {ci})"
    return f"{m.name} {verb} by {m.effect:+.3g} ({level}% CI {m.ci_low:+.3g} to {m.ci_high:+.3g})"


def _look(a: Attribution) -> str:
    look = a.look
    if look.final:
        end = f" to {look.end:%Y-%m-%d %H:%M}" if look.end else ""
        text = f"the whole test (from {look.start:%Y-%m-%d %H:%M}{end})"
    else:
        text = f"test day {look.day} (data before {look.as_of:%Y-%m-%d %H:%M})"
    if look.ramp_share is not None and look.ramp_share < 1:
        text += f", ramp at {look.ramp_share:.0%} of traffic"
    return text


def _primary(a: Attribution, m: MetricResult) -> str:
    rule = a.rule
    verdict = "not significant"
    if rule is not None and m.name in rule.improved:
        verdict = "significantly better"
    elif rule is not None and m.name in rule.deteriorated:
        verdict = "significantly worse"
    p = rule.adjusted_p.get(m.name, m.p_value) if rule is not None else m.p_value
    gain = (
        f"; CUPED cut its variance by {m.cuped.variance_reduction:.0%}" if m.cuped.applied else ""
    )
    return f"Primary: {_change(m, a.settings.alpha)}: {verdict} (corrected p = {p:.3g}{gain})."


def _guardrail(g: GuardrailOutcome) -> str:
    scale = _pct if g.margin_kind == "relative" else (lambda x: f"{x:+.3g}")
    worse = "-" if g.direction == "higher" else "+"
    margin = f"{g.margin:.1%}" if g.margin_kind == "relative" else f"{g.margin:.3g}"
    state = ("significantly harmed" if g.harmful else "non-inferior" if g.non_inferior
             else "not shown non-inferior")  # fmt: skip
    return (f"Guardrail {g.metric}: {state} (change {scale(g.estimate)}, worst plausible "
            f"{scale(g.bound)}, tolerated {worse}{margin}).")  # fmt: skip


def _seasonality(s: SeasonalityDiagnosis) -> str | None:
    if s.verdict in ("no_shock", "too_few_days"):
        return None
    days = ", ".join(str(d) for d in s.shock_days)
    moved = f"moved {_pct(s.control_change)} on test days {days}"
    if s.verdict == "shock_effect_stable":
        return (f"Seasonality: the control's {s.metric} {moved} (a shock in both arms) while the "
                f"relative effect stayed stable ({_pct(s.effect_normal)} on other days, "
                f"{_pct(s.effect_shock)} then): not a reason to ship or not to ship.")  # fmt: skip
    return (f"Seasonality: the control's {s.metric} {moved}, and the relative effect changed with "
            f"it ({_pct(s.effect_normal)} on other days, {_pct(s.effect_shock)} then; p = "
            f"{s.difference_p_value:.3g}): the effect depends on the period.")  # fmt: skip


def explain(a: Attribution) -> str:
    """A few sentences: the decision and why, then what each diagnosis found."""
    lines = [f"{DECISION_WORDS[a.decision]}: experiment {a.experiment!r}, {_look(a)}."]
    lines += [f"Why: {message}." for message in a.reason_messages[:2]]
    if a.srm is not None:
        srm = a.srm
        state = "MISMATCH" if srm.flag else "ok"
        lines.append(
            f"Sample ratio {state}: {srm.counts['control']:,} control vs "
            f"{srm.counts['treatment']:,} treatment units, {srm.observed_treatment_share:.1%} "
            f"treatment where {srm.expected_treatment_share:.1%} was planned (p = "
            f"{srm.p_value:.3g}, flagged below {srm.threshold})."
        )
    lines += [_primary(a, a.metrics[m]) for m in a.settings.primary if m in a.metrics]
    lines += [_guardrail(g) for g in a.guardrails]
    for n in a.novelty:
        lines.append(
            f"Novelty: the effect on {n.metric} is {n.trend} over days since first exposure "
            f"(first {n.window} day(s) {n.early_effect.effect:+.3g}, last {n.window} day(s) "
            f"{n.late_effect.effect:+.3g}; change p = {n.change.p_value:.3g})."
        )
    lines += [text for s in a.seasonality if (text := _seasonality(s))]
    for report in a.segments:
        if any(s.heterogeneous for s in report.segments):
            effects = ", ".join(f"{s.segment} {s.effect.effect:+.3g}" for s in report.segments)
            p = min(s.p_adjusted for s in report.segments)
            lines.append(
                f"Segments: the effect on {report.metric} differs by {report.dimension} "
                f"({effects}; Bonferroni p = {p:.3g})."
            )
    if a.segments and not any(s.heterogeneous for r in a.segments for s in r.segments):
        lines.append("Segments: no segment's effect differs from the rest after correction.")
    for m in a.settled.values():
        lines.append(f"After each unit's first {a.settings.burn_in_exposures} sessions: "
                     f"{_change(m, a.settings.alpha)}.")  # fmt: skip
    if a.settings.inference == "sequential":
        lines.append("Intervals are always-valid confidence sequences: safe to look every day.")
    elif a.settings.inference == "group-sequential":
        lines.append("Intervals are group-sequential (O'Brien-Fleming alpha spending over the "
                     "planned daily looks): safe to look every day until the horizon.")  # fmt: skip
    else:
        lines.append("Intervals are fixed-horizon: valid for one look at the planned end.")
    lines += [f"Note: {note}." for note in a.notes]
    return "\n".join(lines)
