"""The Evaluation agent on small simulated tests: vetoes stop early, clear gains ship, A/A and
novelty-only do not, and `recloop analyze` on the written tables reproduces the decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recloop.agents.evaluate import EvaluationAgent, OnlineEvaluator, evaluate_source
from recloop.agents.online import EvaluationPlan, OnlineOutcome
from recloop.agents.online_sim import policy_names, ramp_schedule
from recloop.recsys.models import make_model
from recloop.sim import FaultConfig, SimConfig, TrafficConfig, synthetic_truth
from recloop.sim.truth import SyntheticTruth
from recloop.stats.analysis import analyze
from recloop.stats.futility import upper_lift_bound
from recloop.workspace.manifest import OnlineSettings

SETTINGS = OnlineSettings(traffic_fraction=0.5, duration_days=14, seed=0)


@pytest.fixture(scope="module")
def truth() -> SyntheticTruth:
    return synthetic_truth()


def _evaluate(
    truth: SyntheticTruth,
    control: Any,
    treatment: Any,
    workdir: Path | None = None,
    **faults: Any,
) -> OnlineOutcome:
    base = SimConfig(traffic=TrafficConfig(daily_users=4_000), pre_days=5, oracle_daily_users=0,
                     faults=FaultConfig(**faults))  # fmt: skip
    agent = EvaluationAgent(sim=base, truth=truth, workdir=workdir)
    return agent.evaluate(control, treatment, SETTINGS, f"{control} -> {treatment}")


def test_ramp_schedule_caps_steps_below_the_final_share() -> None:
    assert ramp_schedule(((0, 0.01), (1, 0.1)), 1.0) == ((0, 0.01), (1, 0.1), (2, 1.0))
    assert ramp_schedule(((0, 0.01), (1, 0.1)), 0.1) == ((0, 0.01), (1, 0.1))
    assert ramp_schedule(((0, 0.2),), 0.1) == ((0, 0.1),)


def test_policy_names_same_object_is_an_a_a_test() -> None:
    model = make_model("pop")
    a, b, objects = policy_names(model, model)
    assert a == b and objects == {a: model}
    assert policy_names("pop", "ease") == ("pop", "ease", {})


def test_agent_is_an_online_evaluator() -> None:
    agent: OnlineEvaluator = EvaluationAgent()
    assert callable(agent.evaluate)


def test_stops_early_on_srm(truth: SyntheticTruth) -> None:
    out = _evaluate(truth, "pop", "ease", enabled=frozenset({"srm-assignment"}))
    stop = out.attribution.stop
    assert out.decision == "no_ship"
    assert (stop.reason, stop.early) == ("srm", True)
    assert stop.day < 5
    n = out.attribution.samples
    assert n.used < n.planned and n.sessions_used < n.sessions_planned
    assert n.sessions_saved_share > n.saved_share  # units arrive up front, sessions do not
    assert "sample-ratio" in out.attribution.explanation


def test_stops_early_on_a_guardrail_harm_behind_a_primary_gain(truth: SyntheticTruth) -> None:
    out = _evaluate(truth, "pop", "ease", treatment_churn_logit=-3.0)
    a = out.attribution
    assert out.decision == "no_ship"
    assert (a.stop.reason, a.stop.early) == ("guardrail_harm", True)
    assert a.analysis.metrics["consumption_per_user"].ci_low > 0  # the hidden gain
    assert a.analysis.guardrails[0].harmful


def test_ships_a_clear_improvement_and_analyze_reproduces_it(
    truth: SyntheticTruth, tmp_path: Path
) -> None:
    out = _evaluate(truth, "pop", make_model("ease"), workdir=tmp_path)
    a = out.attribution
    assert out.decision == "ship"
    assert a.stop.reason == "decisive_ship" and a.stop.day >= a.plan.min_ship_day
    assert [look.day for look in a.looks] == list(range(a.stop.day + 1))
    assert a.samples.used == sum(a.analysis.units.values())
    assert 0 < a.samples.sessions_used <= a.samples.sessions_planned
    assert f"served the treatment {a.samples.sessions_used:,} sessions" in a.explanation
    report = a.report()
    assert report["decision"] == "ship" and report["analysis"]["decision"] == "ship"
    assert json.loads(json.dumps(report))["stop"]["reason"] == "decisive_ship"
    assert out.tables is not None

    from recloop.cli import app  # the issue-10 proof: the CLI on the simulation's file

    args = ["analyze", "--source", out.tables, "--experiment", a.experiment, "--sequential",
            "--as-of", str(a.stop.day), "--alpha", str(a.plan.alpha), "--json"]  # fmt: skip
    for metric in a.plan.primary:
        args += ["--primary", metric]
    for guardrail in a.plan.guardrails:
        args += ["--guardrail", guardrail]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    agent = a.analysis.report()
    assert cli["decision"] == agent["decision"] == out.decision
    assert cli["srm"] == agent["srm"]
    for name, metric in agent["metrics"].items():
        for key in ("effect", "relative_effect", "ci_low", "ci_high", "p_value"):
            assert cli["metrics"][name][key] == pytest.approx(metric[key], rel=1e-12), (name, key)
    assert cli["guardrails"] == agent["guardrails"]
    again = evaluate_source(out.tables, a.experiment, a.plan, horizon_days=14)
    assert again.decision == out.decision and again.stop == a.stop
    day0 = analyze(out.tables, a.experiment, as_of=0, inference="group-sequential")
    assert day0.look.ramp_share == 0.01 and day0.srm is not None and not day0.srm.tested
    assert any("SRM check is not trusted" in note for note in day0.notes)


def test_an_a_a_test_stops_as_futile_after_the_first_week(truth: SyntheticTruth) -> None:
    out = _evaluate(truth, "ease", "ease")
    a = out.attribution
    assert out.decision == "inconclusive"
    assert (a.stop.reason, a.stop.early) == ("futility", True)
    assert a.plan.min_ship_day <= a.stop.day < a.stop.horizon_days - 1
    plan = a.plan
    assert plan.min_effect is not None
    bounds = [upper_lift_bound(m, plan.futility_level)
              for m in (a.analysis.metrics["consumption_per_user"],
                        a.analysis.settled["consumption_per_user"])]  # fmt: skip
    assert min(b for b in bounds if b is not None) < plan.min_effect  # the stop look's evidence
    assert a.looks[-1].decision == "inconclusive" and len(a.looks) == a.stop.day + 1
    assert a.samples.sessions_saved_share > 0
    lowest = min(b for b in bounds if b is not None)
    assert f"at most {lowest:+.1%}" in a.explanation and "against a minimum of +5.0%" in (
        a.explanation
    )


def test_an_a_a_test_runs_to_the_horizon_without_futility(truth: SyntheticTruth) -> None:
    base = SimConfig(traffic=TrafficConfig(daily_users=4_000), pre_days=5, oracle_daily_users=0)
    agent = EvaluationAgent(sim=base, truth=truth)
    settings = SETTINGS.model_copy(update={"min_effect": 0.0})  # the manifest's [online] says
    out = agent.evaluate("ease", "ease", settings, "ease -> ease")
    assert out.decision != "ship" and out.attribution.plan.min_effect is None
    assert out.attribution.stop.reason == "horizon"
    n = out.attribution.samples
    assert n.used == n.planned and n.sessions_used == n.sessions_planned > n.used / 2


def test_does_not_ship_novelty_only(truth: SyntheticTruth) -> None:
    out = _evaluate(truth, "ease", "ease", enabled=frozenset({"novelty-only"}))
    a = out.attribution
    assert out.decision != "ship"
    assert a.analysis.novelty  # the stop look carries the diagnoses the daily looks skip
    assert a.analysis.metrics["consumption_per_user"].ci_low > 0  # the lift is real...
    settled = a.analysis.settled["consumption_per_user"]
    assert not settled.ci_low > 0  # ...but not after each unit's first sessions
    assert a.analysis.rule is not None and a.analysis.rule.verdict == "ship"
    assert a.analysis.reasons[0] == "novelty_not_settled"


def test_tables_mode_needs_evaluate_tables() -> None:
    with pytest.raises(ValueError, match="evaluate_tables"):
        EvaluationAgent().evaluate("pop", "ease", OnlineSettings(mode="tables"))


def test_plan_settings_are_group_sequential_with_the_burn_in() -> None:
    settings = EvaluationPlan(burn_in_exposures=4).settings(alpha=0.1, horizon_days=14)
    assert settings.inference == "group-sequential" and settings.alpha == 0.1
    assert settings.horizon_days == 14 and settings.burn_in_exposures == 4
    assert settings.novelty_veto and settings.srm_min_expected == 100
