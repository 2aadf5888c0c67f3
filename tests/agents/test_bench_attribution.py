"""The attribution benchmark: rates from a hand-checkable table, and a tiny real run."""

from __future__ import annotations

from typing import Any

import pytest

from recloop.agents.bench_attribution import BenchCase, fixed_horizon_samples, run_bench, summarize
from recloop.agents.bench_scenarios import MIX, designs, label_truth


def _case(index: int, kind: str, truth: str, decision: str, **extra: Any) -> BenchCase:
    row: dict[str, Any] = {
        "index": index, "kind": kind, "truth": truth, "true_effect": 0.0, "true_guardrail": 0.0,
        "decision": decision, "stop_reason": "horizon", "stop_day": 13, "samples_used": 100,
        "samples_planned": 100, "sessions_used": 400, "sessions_planned": 400,
        "cuped_reduction": 0.2,
    }  # fmt: skip
    return BenchCase(**(row | extra))


TABLE = [
    _case(0, "aa", "null", "inconclusive"),
    _case(1, "aa", "null", "ship"),  # a false ship
    _case(
        2,
        "large+",
        "beneficial",
        "ship",
        true_effect=0.2,
        samples_used=50,
        sessions_used=100,
        fixed_ships=(False, False, True, True),
        units_by_day=(10, 40, 80, 100),
        sessions_by_day=(20, 100, 200, 400),
    ),
    _case(
        3,
        "large+",
        "beneficial",
        "inconclusive",
        true_effect=0.2,
        fixed_ships=(False, False, False, True),
        units_by_day=(10, 40, 80, 100),
        sessions_by_day=(20, 100, 200, 400),
    ),
    _case(4, "srm", "beneficial", "no_ship", stop_reason="srm", samples_used=20),
    _case(5, "srm", "beneficial", "ship"),  # missed SRM: also a false ship
    _case(6, "novelty", "null", "inconclusive"),
    _case(7, "guardrail", "guardrail_harm", "no_ship", stop_reason="guardrail_harm"),
    _case(8, "large-", "harmful", "no_ship", cuped_reduction=0.0),
]


def test_rates_from_a_hand_checked_table() -> None:
    s = summarize(TABLE)
    assert s["n"] == 9
    assert s["confusion"]["null"] == {"ship": 1, "no_ship": 0, "inconclusive": 2}
    assert s["confusion"]["beneficial"] == {"ship": 2, "no_ship": 1, "inconclusive": 1}
    # not beneficial: 0, 1, 4, 5 (SRM), 6 (novelty), 7, 8 -> 7 tests, ships 1 and 5
    assert s["false_ship_rate"] == pytest.approx(2 / 7)
    assert s["srm_detection_rate"] == pytest.approx(1 / 2)
    assert s["novelty_only_ship_rate"] == 0.0
    assert s["guardrail_harm_ship_rate"] == 0.0
    assert s["power"]["large+"]["power"] == 0.5
    assert s["power"]["large+"]["samples_used"] == 75.0
    assert s["samples_used_share"] == pytest.approx((100 * 7 + 50 + 20) / 900)
    assert s["cuped_variance_reduction"] == pytest.approx(0.2 * 8 / 9)
    # fixed looks ship 0, 0, 1/2, 2/2 by day: power 0.5 is first reached on day 2 (80 units)
    assert s["power"]["large+"]["fixed_horizon_samples"] == 80.0
    assert s["power"]["large+"]["saving_vs_fixed"] == pytest.approx(1 - 75 / 80)
    assert s["power"]["large+"]["fixed_reaches_power"]
    # stop days 13 and 13 (day + 1 = 14) against the fixed look's day 2 (3 days)
    assert s["power"]["large+"]["day_saving_vs_fixed"] == pytest.approx(1 - 14 / 3)
    # sessions: (100 + 400) / 2 used against the fixed look's 200 on day 2
    assert s["power"]["large+"]["sessions_used"] == 250.0
    assert s["power"]["large+"]["session_saving_vs_fixed"] == pytest.approx(1 - 250 / 200)
    assert s["mean_session_saving_vs_fixed_at_equal_power"] == pytest.approx(1 - 250 / 200)
    assert s["sessions_used_share"] == pytest.approx((400 * 8 + 100) / 3600)
    assert s["stops"]["srm"] == {"horizon": {"n": 1, "mean_day": 13.0},
                                 "srm": {"n": 1, "mean_day": 13.0}}  # fmt: skip
    assert s["stops"]["large+"] == {"horizon": {"n": 2, "mean_day": 13.0}}


def test_fixed_horizon_samples_interpolate_and_bound() -> None:
    rows = [TABLE[2], TABLE[3]]  # fixed power by day: 0, 0, 0.5, 1 (units 10, 40, 80, 100)

    def got(rows: list[BenchCase], power: float) -> tuple[float, float, float, bool]:
        f = fixed_horizon_samples(rows, power)
        return f.units, f.sessions, f.days, f.reached

    assert got(rows, 0.75) == (90.0, 300.0, 3.5, True)  # half-way, day 2 to day 3
    assert got(rows, 0.25) == (60.0, 150.0, 2.5, True)  # half-way, day 1 to day 2
    late = [_case(9, "large+", "beneficial", "ship", fixed_ships=(False, True, True),
                  units_by_day=(5, 9, 12), sessions_by_day=(6, 10, 20))]  # fmt: skip
    assert got(late, 1.0) == (9.0, 10.0, 2.0, True)
    never = [_case(9, "large+", "beneficial", "ship", fixed_ships=(False, False),
                   units_by_day=(5, 9), sessions_by_day=(6, 10))]  # fmt: skip
    assert got(never, 0.5) == (9.0, 10.0, 2.0, False)  # the horizon: a lower bound


def test_every_test_against_one_fixed_design_of_equal_power() -> None:
    by_day = {"units_by_day": (10, 40, 80, 100), "sessions_by_day": (20, 100, 200, 400)}
    cases = [
        *(TABLE[2], TABLE[3]),  # large+: power 0.5, fixed looks reach it on day 2 (3 days)
        _case(10, "aa", "null", "inconclusive", stop_reason="futility", stop_day=1,
              samples_used=40, sessions_used=100, **by_day),
        _case(11, "large-", "harmful", "no_ship", stop_day=3, **by_day),
        _case(12, "srm", "beneficial", "no_ship", stop_reason="srm"),  # no by-day figures
    ]  # fmt: skip
    s = summarize(cases)["all_tests_vs_fixed_design"]
    assert (s["n"], s["fixed_days"], s["reached"]) == (4, 3.0, True)
    # each of the 4 measured tests would run 3 days: 80 units, 200 sessions
    assert s["unit_saving"] == pytest.approx(1 - (50 + 100 + 40 + 100) / (4 * 80))
    assert s["session_saving"] == pytest.approx(1 - (100 + 400 + 100 + 400) / (4 * 200))
    assert s["day_saving"] == pytest.approx(1 - (14 + 14 + 2 + 4) / (4 * 3))
    medium = _case(13, "medium+", "beneficial", "ship", fixed_ships=(False, False, False, False),
                   **by_day)  # fmt: skip
    longest = summarize([*cases, medium])["all_tests_vs_fixed_design"]
    assert (longest["fixed_days"], longest["reached"]) == (4, False)  # the horizon: a bound
    assert summarize(TABLE[:2])["all_tests_vs_fixed_design"] is None


def test_rates_are_none_without_cases() -> None:
    s = summarize([])
    assert s["false_ship_rate"] is None and s["srm_detection_rate"] is None


def test_designs_cycle_through_the_mix() -> None:
    made = designs(len(MIX) + 1)
    assert [d.kind for d in made] == [*MIX, MIX[0]]
    assert made[6].faults.enabled == {"srm-assignment"}
    novelty = designs(3, seed=1, kinds=["novelty", "medium+"])  # the same tests as a full run
    assert [(d.index, d.kind) for d in novelty] == [(5, "novelty"), (9, "medium+"), (15, "novelty")]
    assert novelty[2].seed == designs(16, seed=1)[15].seed
    with pytest.raises(ValueError, match="unknown designs"):
        designs(1, kinds=["huge+"])  # type: ignore[list-item]


def test_truth_labels() -> None:
    def truth(settled: float, guard: float) -> dict[str, Any]:
        return {"metrics": {
            "p": {"control": 1.0, "effect_without_novelty": settled, "se_without_novelty": 0.01},
            "g": {"relative_effect": guard},
        }}  # fmt: skip

    assert label_truth(truth(0.05, 0.0), "p", "g", 0.03)[0] == "beneficial"
    assert label_truth(truth(0.01, 0.0), "p", "g", 0.03)[0] == "null"
    assert label_truth(truth(-0.05, 0.0), "p", "g", 0.03)[0] == "harmful"
    assert label_truth(truth(0.05, -0.05), "p", "g", 0.03)[0] == "guardrail_harm"


def test_a_tiny_real_run() -> None:
    cases = run_bench(2, workers=1, daily_users=1_000)
    assert cases[1].stop_reason == "futility"  # small+ at 1,000 daily users: below +5% anyway
    assert run_bench(2, workers=1, daily_users=1_000, min_effect=None)[1].stop_reason == "horizon"
    assert [c.kind for c in cases] == ["aa", "small+"]
    assert cases[0].truth == "null" and cases[0].decision != "ship"
    assert all(0 < c.samples_used <= c.samples_planned for c in cases)
    assert all(0 < c.sessions_used <= c.sessions_planned for c in cases)
    assert all(len(c.sessions_by_day) == len(c.units_by_day) == 14 for c in cases)
    assert (len(cases[0].fixed_ships), len(cases[1].fixed_ships)) == (0, 14)  # + designs only
    assert list(cases[1].sessions_by_day) == sorted(cases[1].sessions_by_day)
    assert summarize(cases)["n"] == 2


def test_the_command_runs_chosen_designs_and_prints_both_savings() -> None:
    import json

    from rich.console import Console
    from typer.testing import CliRunner

    from recloop.agents.commands import print_summary
    from recloop.cli import app

    args = ["bench", "attribution", "--n", "1", "--design", "novelty", "--daily-users", "1000",
            "--workers", "1", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["by_kind"].keys() == {"novelty"} and s["cases"][0]["index"] == 5
    assert 0 < s["sessions_used_share"] <= 1
    bad = CliRunner().invoke(app, ["bench", "attribution", "--design", "huge+"])
    assert bad.exit_code != 0 and "unknown designs" in bad.output
    console = Console(record=True, width=200)
    print_summary(console, summarize(TABLE))
    text = console.export_text()
    assert "treatment sessions saved vs fixed horizon at equal power" in text
    assert "-25.0%" in text  # large+: 250 sessions against the fixed look's 200
    assert "guardrail harm 1 (day 13.0)" in text  # the guardrail design's stop
    assert "treatment sessions saved, all tests vs one fixed design of equal power (3.0 days)" in (
        text
    )
