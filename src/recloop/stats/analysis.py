"""`analyze`: an experiment's tables to an `Attribution`, one code path for simulated and real data.

    source ─ open_source (read-only) ─ validate (the contract) ─ per-unit SQL at the look
        ─ per metric: ArmData → arm_stats / cuped_stats → estimate_effect (fixed or sequential)
        ─ guardrails: check_guardrail (non-inferiority) ─ decide (the pre-registered rule)
        ─ SRM, novelty, seasonality, segments ─ explanation (templates)

The verdict is code: `decide` over the primary metrics (Holm-corrected) and the guardrails, then
two pre-registered overrides — a sample-ratio mismatch makes the test untrustworthy (no_ship:
fix assignment or logging and rerun), and with `novelty_veto` a ship becomes inconclusive unless
every improved primary is also significantly better on each unit's activity after its first
`burn_in_exposures` sessions (`settled`; the lift may be novelty, keep running). A novelty lift
fades with exposures, not days: a light user keeps it for a week, so a late *calendar* window
does not catch it, while sessions after the burn-in do. The early-vs-late diagnosis over days
since first exposure is still reported. Seasonality and segments are reported, never decisive.

A look (`as_of`) sees the test from its start up to a cutoff: an int d is "as of the end of test
day d" (0-based, day 0 starts at the start), a datetime or ISO string a moment (naive = UTC);
None is the whole test. Units first exposed before the cutoff are compared, on their rows before
it. The Evaluation agent calls this every simulated day with `inference="group-sequential"`
(O'Brien–Fleming alpha spending over `horizon_days` daily looks, by default the days the tables
cover), optionally naming the ramp share of that day for the record; `"sequential"` (always-
valid confidence sequences) suits looks without a planned horizon. A mean guardrail of a
group-sequential analysis is tested on boundaries whose looks' correlation is measured from the
units (`estimated_design`: a per-unit indicator such as return_rate breaks the calendar design,
7% one-sided false harms in permuted A/A tests); a ratio guardrail keeps the sequence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from recloop.stats.attribution import (
    DEFAULT_BURN_IN,
    AnalysisSettings,
    Attribution,
    CupedSummary,
    EffectSummary,
    GuardrailOutcome,
    Look,
    MetricResult,
    Role,
    SrmStatus,
)
from recloop.stats.cuped import cuped_stats
from recloop.stats.decision import RuleOutcome, decide
from recloop.stats.diagnostics import LookData, diagnoses
from recloop.stats.effect import Effect, Inference, estimate_effect
from recloop.stats.estimated_design import measured_guardrail
from recloop.stats.explain import explain
from recloop.stats.guardrails import GuardrailSpec, MarginKind, check_guardrail
from recloop.stats.metrics import METRICS, Metric, get_metric, has_pre_period
from recloop.stats.multiple import Correction
from recloop.stats.sequential import DEFAULT_TUNING
from recloop.stats.srm import MIN_UNITS_PER_ARM, srm_check
from recloop.stats.summary import arm_stats
from recloop.stats.tables.contract import DEFAULT_PRE_DAYS, ExperimentInfo, validate
from recloop.stats.tables.dialect import MS_PER_DAY, to_datetime, to_ms
from recloop.stats.tables.queries import (
    UnitDayTotals,
    Window,
    assigned_units,
    pre_totals,
    unit_day_totals,
    unit_totals,
)
from recloop.stats.tables.warehouse import Warehouse, open_source

DEFAULT_PRIMARY = ("consumption_per_user",)
DEFAULT_GUARDRAILS = ("return_rate:0.01",)
AsOf = int | datetime | str | None


def parse_guardrail(text: str) -> GuardrailSpec:
    """`METRIC:MARGIN[:absolute]`: a relative margin (0.01 = 1%) unless marked absolute."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("relative", "absolute")):
        raise ValueError(f"guardrail {text!r} is not METRIC:MARGIN[:absolute]")
    metric = get_metric(parts[0].strip())
    try:
        margin = float(parts[1])
    except ValueError:
        raise ValueError(f"guardrail {text!r}: margin {parts[1]!r} is not a number") from None
    if margin < 0:
        raise ValueError(f"guardrail {text!r}: the margin must be non-negative")
    kind: MarginKind = "absolute" if len(parts) == 3 and parts[2] == "absolute" else "relative"
    return GuardrailSpec(
        metric=metric.name, margin=margin, margin_kind=kind, direction=metric.direction
    )


def make_settings(
    primary: str | Sequence[str] = DEFAULT_PRIMARY,
    guardrails: Sequence[str | GuardrailSpec] = DEFAULT_GUARDRAILS,
    **options: object,
) -> AnalysisSettings:
    """Validated settings: known metrics, guardrails parsed, no metric both primary and guard."""
    names = (primary,) if isinstance(primary, str) else tuple(primary)
    if not names:
        raise ValueError("at least one primary metric is needed")
    names = tuple(get_metric(n).name for n in names)
    specs = tuple(g if isinstance(g, GuardrailSpec) else parse_guardrail(g) for g in guardrails)
    for spec in specs:
        get_metric(spec.metric)
    clash = set(names) & {s.metric for s in specs}
    if clash:
        raise ValueError(f"{', '.join(sorted(clash))}: a metric is either primary or guardrail")
    return AnalysisSettings(primary=names, guardrails=specs, **options)  # type: ignore[arg-type]


def resolve_look(info: ExperimentInfo, as_of: AsOf, ramp_share: float | None = None) -> Look:
    """The look's cutoff and test day (see the module docstring)."""
    start, end = info.start_ms, info.effective_end_ms
    if as_of is None:
        cutoff = end
    elif isinstance(as_of, bool):
        raise ValueError(f"as_of must be a day, a datetime or an ISO string, not {as_of!r}")
    elif isinstance(as_of, int):
        if as_of < 0:
            raise ValueError(f"as_of day {as_of} is negative (day 0 is the start day)")
        cutoff = min(start + (as_of + 1) * MS_PER_DAY, end)
    else:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        cutoff = min(to_ms(moment), end)
    if cutoff <= start:
        raise ValueError(f"as_of {as_of} is not after the experiment's start {to_datetime(start)}")
    day = (cutoff - 1 - start) // MS_PER_DAY
    return Look(
        start=to_datetime(start),
        start_from=info.start_from,
        end=None if info.end_ms is None else to_datetime(info.end_ms),
        as_of=to_datetime(cutoff),
        day=day,
        final=cutoff >= end,
        ramp_share=ramp_share if ramp_share is not None else info.ramp_share(day),
    )


@contextmanager
def _opened(source: str | Path | Warehouse) -> Iterator[Warehouse]:
    if isinstance(source, Warehouse):
        yield source
        return
    with open_source(source) as wh:
        yield wh


def analyze(
    source: str | Path | Warehouse,
    experiment: str,
    primary: str | Sequence[str] = DEFAULT_PRIMARY,
    guardrails: Sequence[str | GuardrailSpec] = DEFAULT_GUARDRAILS,
    *,
    as_of: AsOf = None,
    inference: Inference = "fixed",
    alpha: float = 0.05,
    correction: Correction = "holm",
    treatment_share: float | None = None,
    ramp_share: float | None = None,
    pre_days: int = DEFAULT_PRE_DAYS,
    cuped: bool = True,
    novelty_veto: bool = True,
    burn_in_exposures: int = DEFAULT_BURN_IN,
    tuning: float = DEFAULT_TUNING,
    horizon_days: int | None = None,
) -> Attribution:
    """Validate the tables, then analyse the experiment at a look (see the module docstring).

    `source` is a DuckDB file, a folder of Parquet files, a SQLAlchemy URL or an open
    `Warehouse` (left open, so a caller looking every day validates and connects once per look).
    Raises `TableError` (`SourceError`, `SchemaError`) before any number is computed.
    """
    settings = make_settings(
        primary, guardrails, alpha=alpha, correction=correction, inference=inference,
        tuning=tuning, horizon_days=horizon_days, cuped=cuped, novelty_veto=novelty_veto,
        burn_in_exposures=burn_in_exposures, treatment_share=treatment_share, pre_days=pre_days,
    )  # fmt: skip
    with _opened(source) as wh:
        info = validate(wh, experiment, pre_days=settings.pre_days)
        return analyze_look(wh, info, settings, resolve_look(info, as_of, ramp_share))


def _load(wh: Warehouse, info: ExperimentInfo, look: Look) -> tuple[LookData, Window]:
    window = Window(info.name, info.start_ms, to_ms(look.as_of), info.pre_start_ms)
    units = assigned_units(wh, window)
    totals = unit_totals(wh, window, units)
    pre = pre_totals(wh, window, units)[0] if info.pre_start_ms is not None else None
    return LookData(units=units, totals=totals, pre=pre), window


def _exact(e: Effect) -> Effect:
    """Arms without unit-level variation (constant per arm, as a simulated serving latency is)
    compare exactly: a difference within floating-point noise of the sums is no difference."""
    scale = max(abs(e.control_mean), abs(e.treatment_mean))
    if e.se > 1e-9 * scale or abs(e.effect) > 1e-9 * scale:
        return e
    zero = {"effect": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_value": 1.0}
    if e.relative_effect is not None:
        zero |= {"relative_effect": 0.0, "relative_se": 0.0, "relative_ci_low": 0.0,
                 "relative_ci_high": 0.0, "relative_p_value": 1.0}  # fmt: skip
    return e.model_copy(update={**zero, "treatment_mean": e.control_mean})


def planned_looks(info: ExperimentInfo, settings: AnalysisSettings) -> int:
    """Daily looks of the group-sequential design: the settings' horizon, else the tables' days."""
    covered = -(-(info.effective_end_ms - info.start_ms) // MS_PER_DAY)
    return settings.horizon_days or max(1, covered)


def _estimate(
    metric: Metric, role: Role, data: LookData, s: AnalysisSettings, design: tuple[int, int]
) -> tuple[MetricResult, Effect]:
    """A metric's plain and (when possible) CUPED-adjusted effect; the adjusted one is used."""
    c, t = data.arm(metric, "control"), data.arm(metric, "treatment")
    inference = "sequential" if role == "guardrail" and s.inference == "group-sequential" else (
        s.inference)  # fmt: skip
    opts = {"alpha": s.alpha, "inference": inference, "tuning": s.tuning, "design": design}
    plain = _exact(estimate_effect(metric.name, arm_stats(c), arm_stats(t), **opts))  # type: ignore[arg-type]
    used, summary = plain, CupedSummary(applied=False, skip_reason="CUPED turned off")
    if s.cuped and not has_pre_period(metric):
        summary = CupedSummary(applied=False, skip_reason="the metric has no pre-period value")
    elif s.cuped and data.pre is None:
        summary = CupedSummary(applied=False, skip_reason="no pre-period in the tables")
    elif s.cuped:
        result = cuped_stats(c, t)
        summary = CupedSummary(
            applied=result.applied, variance_reduction=result.variance_reduction,
            theta=result.theta, units_without_pre_period=result.n_missing_pre,
            skip_reason=result.message,
        )  # fmt: skip
        if result.applied:
            used = _exact(estimate_effect(metric.name, result.control, result.treatment, **opts))  # type: ignore[arg-type]
    result_row = MetricResult(
        name=metric.name, description=metric.description, kind=metric.kind,
        direction=metric.direction, role=role, n_control=c.n, n_treatment=t.n,
        control=plain.control_mean, treatment=plain.treatment_mean,
        estimate="cuped" if summary.applied else "unadjusted", effect=used.effect,
        relative_effect=used.relative_effect, ci_low=used.ci_low, ci_high=used.ci_high,
        relative_ci_low=used.relative_ci_low, relative_ci_high=used.relative_ci_high,
        p_value=used.p_value, se=used.se, unadjusted=EffectSummary.of(plain), cuped=summary,
    )  # fmt: skip
    return result_row, used


def _not_settled(rule: RuleOutcome, settled: dict[str, Effect]) -> bool:
    """An improved primary whose gain after the burn-in is not significantly better."""
    for name in rule.improved:
        e = settled.get(name)
        better = e is not None and (e.ci_low > 0 if get_metric(name).direction == "higher"
                                    else e.ci_high < 0)  # fmt: skip
        if not better:
            return True
    return False


def _verdict(
    rule: RuleOutcome,
    srm: SrmStatus,
    settled: dict[str, Effect],
    unavailable: Sequence[str],
    settings: AnalysisSettings,
) -> tuple[str, tuple[str, ...]]:
    decision: str = rule.verdict
    reasons: list[str] = list(rule.reasons)
    if unavailable and decision == "ship":
        decision = "inconclusive"
    if unavailable:
        reasons.insert(0, "metric_unavailable")
    if decision == "ship" and settings.novelty_veto and _not_settled(rule, settled):
        decision = "inconclusive"
        reasons.insert(0, "novelty_not_settled")
    if srm.flag:
        decision = "no_ship"
        reasons.insert(0, "srm_mismatch")
    return decision, tuple(reasons)


def _too_few(
    info: ExperimentInfo, settings: AnalysisSettings, look: Look, units: dict[str, int]
) -> Attribution:
    attribution = Attribution(
        experiment=info.name, source=info.source, decision="inconclusive",
        reasons=("too_few_units",), look=look, settings=settings, units=units, srm=None,
        metrics={}, guardrails=(), rule=None, novelty=(), seasonality=(), segments=(),
        pre_period=info.pre_start_ms is not None, notes=info.notes, explanation="",
    )  # fmt: skip
    return attribution.model_copy(update={"explanation": explain(attribution)})


def _settled(
    wh: Warehouse,
    window: Window,
    primaries: Sequence[Metric],
    data: LookData,
    settings: AnalysisSettings,
    design: tuple[int, int],
    notes: list[str],
) -> dict[str, tuple[MetricResult, Effect]]:
    """The primaries on each unit's activity after its first `burn_in_exposures` sessions."""
    if not settings.novelty_veto:
        return {}
    totals = unit_totals(wh, window, data.units, burn_in=settings.burn_in_exposures)
    burned = LookData(units=data.units, totals=totals, pre=data.pre)
    out = {}
    for metric in primaries:
        try:
            out[metric.name] = _estimate(metric, "primary", burned, settings, design)
        except ValueError as exc:
            notes.append(f"{metric.name} after the burn-in is not computed yet: {exc}")
    return out


def analyze_look(
    wh: Warehouse,
    info: ExperimentInfo,
    settings: AnalysisSettings,
    look: Look,
    *,
    diagnose: bool = True,
) -> Attribution:
    """Analyse validated tables at one look; without `diagnose` the novelty, seasonality and
    segment reports (never decisive) are skipped: the same decision, quicker."""
    data, window = _load(wh, info, look)
    units = {arm: data.count(arm) for arm in ("control", "treatment")}
    if min(units.values()) < 2:
        return _too_few(info, settings, look, units)
    notes = list(info.notes)
    share = settings.treatment_share or info.treatment_share
    if share is None:
        share = 0.5
        notes.append("the planned treatment share is not recorded: the SRM check assumes 50/50")
    srm = SrmStatus.of(srm_check([units["control"], units["treatment"]], [1 - share, share],
                                 min_expected=settings.srm_min_expected))  # fmt: skip
    if not srm.tested:
        notes.append(f"fewer than {max(MIN_UNITS_PER_ARM, settings.srm_min_expected):g} units "
                     "expected in an arm: the SRM check is not trusted yet")  # fmt: skip
    design = (look.day, planned_looks(info, settings))
    if settings.inference == "group-sequential" and look.day >= design[1]:
        raise ValueError(f"test day {look.day} is after the design's {design[1]} daily looks")

    roles: dict[str, Role] = {m: "primary" for m in settings.primary}
    roles.update({g.metric: "guardrail" for g in settings.guardrails})
    metrics: dict[str, MetricResult] = {}
    effects: dict[str, Effect] = {}
    unavailable = []
    for metric in METRICS:
        role = roles.get(metric.name, "secondary")
        try:
            metrics[metric.name], effects[metric.name] = _estimate(
                metric, role, data, settings, design
            )
        except ValueError as exc:
            notes.append(f"{metric.name} is not computed at this look: {exc}")
            if role != "secondary":
                unavailable.append(metric.name)
    guardrails = []
    by_day: UnitDayTotals | None = None  # queried once, for the first measured design
    for g in (g for g in settings.guardrails if g.metric in effects):
        try:
            if settings.inference == "group-sequential" and get_metric(g.metric).kind == "mean":
                if by_day is None:
                    by_day = unit_day_totals(wh, window, data.units, "test")
                effect, measured = measured_guardrail(
                    get_metric(g.metric), data.units, by_day, info.start_ms, design, settings.alpha
                )
                guardrails.append(check_guardrail(g, effect, measured))
                continue
            guardrails.append(check_guardrail(g, effects[g.metric]))
        except ValueError as exc:  # a relative margin on a control mean of 0 (a first day)
            notes.append(f"guardrail {g.metric} is not tested at this look: {exc}")
            unavailable.append(g.metric)
    primaries = [get_metric(m) for m in settings.primary if m in effects]
    rule = decide(
        [effects[m.name] for m in primaries], guardrails, alpha=settings.alpha,
        correction=settings.correction,
        directions={m.name: m.direction for m in primaries if m.direction == "lower"},
    )  # fmt: skip

    cutoff = to_ms(look.as_of)
    settled = _settled(wh, window, primaries, data, settings, design, notes)
    found_novelty, found_seasonality, found_segments = (
        diagnoses(wh, info, window, data, unit_day_totals(wh, window, data.units, "exposure"),
                  primaries, settings.alpha, cutoff, notes)
        if diagnose else ((), (), ())
    )  # fmt: skip
    decision, reasons = _verdict(rule, srm, {k: v[1] for k, v in settled.items()}, unavailable,
                                 settings)  # fmt: skip
    attribution = Attribution(
        experiment=info.name, source=info.source, decision=decision, reasons=reasons,  # type: ignore[arg-type]
        look=look, settings=settings, units=units, srm=srm, metrics=metrics,
        settled={k: v[0] for k, v in settled.items()},
        guardrails=tuple(GuardrailOutcome.of(g) for g in guardrails), rule=rule,
        novelty=tuple(found_novelty), seasonality=tuple(found_seasonality),
        segments=tuple(found_segments), pre_period=data.pre is not None, notes=tuple(notes),
        explanation="",
    )  # fmt: skip
    return attribution.model_copy(update={"explanation": explain(attribution)})
