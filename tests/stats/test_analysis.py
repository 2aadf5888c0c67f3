"""`analyze` end to end: golden numbers by hand, decisions on simulated tests, one path for all
engines, and the source left untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from recloop.stats import sequential
from recloop.stats.analysis import analyze, make_settings, parse_guardrail
from recloop.stats.cuped import cuped_stats
from recloop.stats.summary import ArmData
from recloop.stats.tables.contract import validate
from recloop.stats.tables.errors import SchemaError
from recloop.stats.tables.warehouse import open_source

NO_GUARD: list[str] = []
CONTROL = [1, 2, 3, 4, 5, 6]
TREATMENT = [11, 12, 13, 14, 15, 16]


def _arrays(expected: dict[int, dict[str, Any]], field: str) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([expected[u][field] for u in CONTROL], float),
            np.array([expected[u][field] for u in TREATMENT], float))  # fmt: skip


def test_golden_mean_metric_matches_welch_by_hand(golden_db: Path, golden_expected: Any) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD, cuped=False)
    m = a.metrics["consumption_per_user"]
    assert (m.control, m.treatment) == pytest.approx((4.1 / 6, 8.4 / 6))
    c, t = _arrays(golden_expected(), "consumption")
    np.testing.assert_allclose(c, [0.6, 0.7, 1.8, 0.0, 1.0, 0.0])
    welch = stats.ttest_ind(t, c, equal_var=False)
    low, high = welch.confidence_interval(0.95)
    assert m.estimate == "unadjusted"
    assert m.effect == pytest.approx(8.4 / 6 - 4.1 / 6)
    assert m.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert (m.ci_low, m.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert m.relative_effect == pytest.approx((8.4 - 4.1) / 4.1)
    assert (m.n_control, m.n_treatment) == (6, 6)


def test_golden_ratio_metric_uses_the_delta_method(golden_db: Path, golden_expected: Any) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD, cuped=False)
    m = a.metrics["ctr"]
    assert (m.control, m.treatment) == pytest.approx((10 / 100, 19 / 108))
    variances = []
    for arm in (CONTROL, TREATMENT):
        clicks = np.array([golden_expected()[u]["clicks"] for u in arm], float)
        shown = np.array([golden_expected()[u]["impressions"] for u in arm], float)
        ratio, d_bar, n = clicks.sum() / shown.sum(), shown.mean(), len(arm)
        cov = np.cov(clicks, shown)  # Deng et al. 2018: Var(M/D) by the delta method
        var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / d_bar**2
        variances.append(var / n)
    assert m.se == pytest.approx(np.sqrt(sum(variances)), rel=1e-9)
    assert m.effect == pytest.approx(19 / 108 - 0.1)


def test_golden_cuped_uses_the_pre_period_with_new_units_marked(
    golden_db: Path, golden_expected: Any
) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD)
    m = a.metrics["consumption_per_user"]
    expected = golden_expected()
    c, t = _arrays(expected, "consumption")
    pre_c, pre_t = _arrays(expected, "pre_consumption")
    new_c, new_t = (_arrays(expected, "pre_sessions")[i] == 0 for i in (0, 1))
    by_hand = cuped_stats(
        ArmData(values=c, pre=np.where(new_c, np.nan, pre_c)),
        ArmData(values=t, pre=np.where(new_t, np.nan, pre_t)),
    )
    assert m.estimate == "cuped" and m.cuped.applied
    assert m.cuped.units_without_pre_period == 2  # units 6 and 16 are new
    assert m.cuped.variance_reduction == pytest.approx(by_hand.variance_reduction)
    assert m.effect == pytest.approx(by_hand.treatment.mean - by_hand.control.mean)
    assert m.unadjusted.effect == pytest.approx(8.4 / 6 - 4.1 / 6)
    assert a.metrics["latency_ms"].cuped.skip_reason == "the metric has no pre-period value"


def test_golden_srm_segments_and_decision(golden_db: Path) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", ["return_rate:0.5"])
    assert a.srm is not None and a.srm.p_value == pytest.approx(1.0) and not a.srm.flag
    assert not a.srm.tested  # 6 units per arm: below the 8 the chi-square needs
    assert a.units == {"control": 6, "treatment": 6}
    assert a.decision in ("ship", "inconclusive", "no_ship") and a.rule is not None
    assert a.rule.verdict == a.decision  # no override on clean golden data
    activity = [s for s in a.segments if s.dimension == "activity"]
    assert activity and {r.segment for r in activity[0].segments} == {"light", "heavy"}


def test_sequential_intervals_are_wider_and_always_valid(golden_db: Path) -> None:
    fixed = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD, cuped=False)
    seq = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD, cuped=False,
                  inference="sequential")  # fmt: skip
    f, s = fixed.metrics["consumption_per_user"], seq.metrics["consumption_per_user"]
    assert s.effect == f.effect and s.ci_high - s.ci_low > f.ci_high - f.ci_low
    assert s.p_value == pytest.approx(float(sequential.p_value(s.effect, s.se, 12, 0.05)))
    assert "always-valid" in seq.explanation


@pytest.mark.parametrize("day", [0, 1])
def test_as_of_a_day_sees_only_that_days_data(
    golden_db: Path, golden_expected: Any, day: int
) -> None:
    a = analyze(golden_db, "golden", "consumption_per_user", NO_GUARD, as_of=day, cuped=False)
    expected = golden_expected(day + 1)
    arms = {
        "control": [u for u in expected if u < 10],
        "treatment": [u for u in expected if u > 10],
    }
    assert a.units == {arm: len(units) for arm, units in arms.items()}
    assert a.look.day == day and not a.look.final and a.look.ramp_share == 1.0
    m = a.metrics["consumption_per_user"]
    assert m.control == pytest.approx(
        np.mean([expected[u]["consumption"] for u in arms["control"]])
    )


def test_as_of_bounds(golden_db: Path) -> None:
    assert analyze(golden_db, "golden", as_of=99).look.final
    assert analyze(golden_db, "golden", as_of="2026-01-09 12:00").look.day == 1
    with pytest.raises(ValueError, match="negative"):
        analyze(golden_db, "golden", as_of=-1)
    with pytest.raises(ValueError, match="not after the experiment's start"):
        analyze(golden_db, "golden", as_of="2026-01-07")
    early = analyze(golden_db, "golden", as_of="2026-01-08 06:30")  # units 1 and 11 only
    assert early.decision == "inconclusive" and early.reasons == ("too_few_units",)
    assert "fewer than 2 units" in early.explanation


def test_without_a_pre_period_cuped_and_segments_are_skipped_and_said(mutated: Any) -> None:
    a = analyze(mutated("DELETE FROM events WHERE ts < TIMESTAMP '2026-01-08'"), "golden",
                "consumption_per_user", NO_GUARD)  # fmt: skip
    assert not a.pre_period and a.segments == ()
    assert all(not m.cuped.applied for m in a.metrics.values())
    assert a.metrics["clicks_per_user"].cuped.skip_reason == "no pre-period in the tables"
    assert "no pre-period" in a.explanation and "CUPED" in a.explanation


def test_schema_errors_stop_the_analysis(mutated: Any) -> None:
    with pytest.raises(SchemaError, match=r"events\.ts: expected a timestamp"):
        analyze(mutated("ALTER TABLE events ALTER ts TYPE VARCHAR"), "golden")


def _report(source: Any, experiment: str, **options: Any) -> dict[str, Any]:
    report = analyze(source, experiment, **options).report()
    report.pop("source")
    return report


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal structures, floats to 1e-9 relative (sums of doubles differ by engine)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    elif path.endswith("explanation"):
        assert a.splitlines()[0] == b.splitlines()[0], path
    else:
        assert a == b, path


def test_sqlite_gives_the_same_attribution(
    golden_db: Path, sim_db: Path, tmp_path: Path, sqlite_copy: Any
) -> None:
    for path, experiment in ((golden_db, "golden"), (sim_db, "exp-1")):
        url, _ = sqlite_copy(path, tmp_path / f"{experiment}.db")
        for options in ({}, {"as_of": 1, "inference": "sequential"}):
            _close(_report(path, experiment, **options), _report(url, experiment, **options))


def test_postgres_gives_the_same_attribution(
    sim_db: Path, postgres_copy: Any, postgres_schema: str
) -> None:
    url = postgres_copy(sim_db, postgres_schema)
    for options in ({}, {"as_of": 2, "inference": "sequential"}):
        _close(_report(sim_db, "exp-1", **options), _report(url, "exp-1", **options))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_source_is_unchanged(sim_db: Path, tmp_path: Path, sqlite_copy: Any) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(sim_db.read_bytes())  # writable, so a write would not be refused by mode
    url, db = sqlite_copy(sim_db, tmp_path / "copy.db")
    before = (_digest(copy), _digest(db))
    analyze(copy, "exp-1")
    analyze(url, "exp-1", as_of=1)
    assert (_digest(copy), _digest(db)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "copy.duckdb"]


def test_daily_sequential_looks_through_one_open_warehouse(sim_db: Path) -> None:
    with open_source(sim_db) as wh:
        looks = [analyze(wh, "exp-1", inference="sequential", as_of=d) for d in range(5)]
        validate(wh, "exp-1")  # still open
    units = [sum(a.units.values()) for a in looks]
    assert units == sorted(units) and looks[-1].look.final
    assert all(a.settings.inference == "sequential" for a in looks)


def test_the_report_is_one_json_object_with_the_promised_keys(golden_db: Path) -> None:
    report = json.loads(json.dumps(analyze(golden_db, "golden").report(), allow_nan=False))
    assert report["decision"] in ("ship", "no_ship", "inconclusive")
    assert {"p_value", "flag"} <= set(report["srm"])
    for row in report["metrics"].values():
        assert {"effect", "relative_effect", "ci_low", "ci_high", "p_value"} <= set(row)
    assert report["explanation"].startswith(("SHIP", "DO NOT SHIP", "INCONCLUSIVE"))
    assert report["settings"]["primary"] == ["consumption_per_user"]


def test_settings_are_checked() -> None:
    spec = parse_guardrail("latency_ms:5:absolute")
    assert (spec.margin, spec.margin_kind, spec.direction) == (5.0, "absolute", "lower")
    assert parse_guardrail("return_rate:0.01").margin_kind == "relative"
    for bad, message in (
        ("return_rate", "METRIC:MARGIN"),
        ("return_rate:x", "not a number"),
        ("return_rate:-1", "non-negative"),
        ("retention:0.1", "unknown metric"),
    ):
        with pytest.raises(ValueError, match=message):  # fmt: skip
            parse_guardrail(bad)
    with pytest.raises(ValueError, match="either primary or guardrail"):
        make_settings("return_rate", ["return_rate:0.01"])
    with pytest.raises(ValueError, match="did you mean 'ctr'"):
        make_settings("ctrr")


# --- decisions on simulated tests (2,000 daily users, 7 days) -----------------------------------
GUARD = ["return_rate:0.05"]


def test_an_aa_test_is_not_shipped(scenario: Any) -> None:
    a = analyze(scenario("aa"), "exp-1", guardrails=GUARD)
    assert a.decision != "ship" and not a.srm.flag  # type: ignore[union-attr]
    assert not a.metrics["consumption_per_user"].significant
    latency = a.metrics["latency_ms"]  # the same policy serves both arms: exactly no difference
    assert (latency.effect, latency.p_value) == (0.0, 1.0)


def test_pop_to_ease_ships(scenario: Any) -> None:
    a = analyze(scenario("pop-ease"), "exp-1", guardrails=GUARD)
    assert a.decision == "ship", a.explanation
    m = a.metrics["consumption_per_user"]
    assert m.relative_effect is not None and m.relative_effect > 1 and m.cuped.applied
    assert a.metrics["sessions_per_user"].cuped.variance_reduction > 0.3
    assert a.explanation.startswith("SHIP")


def test_an_srm_bug_is_flagged_and_not_shipped(scenario: Any) -> None:
    a = analyze(scenario("srm-assignment"), "exp-1", guardrails=GUARD)
    assert a.srm is not None and a.srm.flag and a.srm.p_value < 1e-6
    assert a.decision == "no_ship" and a.reasons[0] == "srm_mismatch"
    assert "MISMATCH" in a.explanation


def test_a_novelty_only_lift_is_not_shipped(scenario: Any) -> None:
    a = analyze(scenario("novelty-only"), "exp-1", guardrails=GUARD)
    assert a.rule is not None and a.rule.verdict == "ship"  # the plain rule would ship it
    assert a.decision == "inconclusive" and a.reasons[0] == "novelty_not_settled"
    settled = a.settled["consumption_per_user"]  # after each unit's first 8 sessions
    assert settled.ci_low < 0 < a.metrics["consumption_per_user"].ci_low
    assert settled.n_control == a.metrics["consumption_per_user"].n_control  # every unit kept
    assert "first 8 sessions" in a.explanation


def test_a_lasting_gain_passes_the_burn_in(scenario: Any) -> None:
    a = analyze(scenario("pop-ease"), "exp-1", guardrails=GUARD)
    settled = a.settled["consumption_per_user"]
    assert a.decision == "ship" and settled.ci_low > 0
    off = analyze(scenario("novelty-only"), "exp-1", guardrails=GUARD, novelty_veto=False)
    assert off.decision == "ship" and off.settled == {}


def test_a_seasonal_shock_is_reported_not_decisive(scenario: Any) -> None:
    a = analyze(scenario("shock-aa"), "exp-1", guardrails=GUARD)
    season = a.seasonality[0]  # the shock: click and satisfaction logits -0.6 from day 3 on
    assert season.step_days == (3,) and season.shock_days == (3, 4, 5, 6)
    assert season.control_change is not None and season.control_change < -0.3
    # an A/A test: whether the effect "changed" is a 5%-level test of a true null (this seed's
    # p is 0.01 on skewed consumption); the verdict must not move the decision either way
    assert season.verdict in ("shock_effect_stable", "shock_effect_changed")
    assert a.decision != "ship" and "Seasonality" in a.explanation


def test_group_sequential_looks_follow_the_planned_horizon(scenario: Any) -> None:
    path = scenario("pop-ease")
    a = analyze(path, "exp-1", guardrails=GUARD, as_of=4, inference="group-sequential")
    assert a.settings.horizon_days is None  # the tables' 7 days
    m = a.metrics["consumption_per_user"]
    from recloop.stats.group_sequential import boundary

    assert m.ci_high - m.effect == pytest.approx(boundary(4, 7, 0.05) * m.se, rel=1e-9)
    longer = analyze(path, "exp-1", guardrails=GUARD, as_of=4, inference="group-sequential",
                     horizon_days=14)  # fmt: skip
    assert longer.metrics["consumption_per_user"].ci_low < m.ci_low  # earlier in a longer plan
    with pytest.raises(ValueError, match="after the design's 3 daily looks"):
        analyze(path, "exp-1", as_of=4, inference="group-sequential", horizon_days=3)


def test_a_quick_look_decides_the_same_without_diagnoses(sim_db: Path) -> None:
    from recloop.stats.analysis import analyze_look, make_settings, resolve_look
    from recloop.stats.tables.contract import validate
    from recloop.stats.tables.warehouse import open_source

    settings = make_settings(inference="group-sequential")
    with open_source(sim_db) as wh:
        info = validate(wh, "exp-1")
        look = resolve_look(info, 3)
        full = analyze_look(wh, info, settings, look)
        quick = analyze_look(wh, info, settings, look, diagnose=False)
    assert (quick.decision, quick.reasons) == (full.decision, full.reasons)
    assert quick.metrics == full.metrics and quick.settled == full.settled
    assert full.novelty and not quick.novelty and not quick.seasonality and not quick.segments


def test_a_guardrail_without_a_control_mean_is_unavailable_not_an_error(golden_db: Path) -> None:
    # as of the end of day 0 no unit has come back yet: a relative margin on 0 means nothing
    a = analyze(golden_db, "golden", guardrails=["return_rate:0.05"], as_of=0)
    assert a.metrics["return_rate"].control == 0.0 and a.guardrails == ()
    assert a.decision != "ship" and "metric_unavailable" in a.reasons
    assert any("guardrail return_rate is not tested at this look" in n for n in a.notes)
