"""`recloop evaluate`: the Evaluation agent on a real experiment's tables, as a person runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from recloop.agents.evaluate import evaluate_source
from recloop.agents.online import EvaluationPlan
from recloop.cli import app
from recloop.sim import SimConfig, TrafficConfig, simulate, synthetic_truth


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 8-day test of popularity against EASE (a large gain, a fading novelty)."""
    config = SimConfig(traffic=TrafficConfig(daily_users=1_000), days=8, pre_days=3,
                       oracle_daily_users=0, policy_a="pop", policy_b="ease")  # fmt: skip
    path = tmp_path_factory.mktemp("evaluate") / "test.duckdb"
    simulate(config, out=path, truth=synthetic_truth())
    path.chmod(0o444)
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["evaluate", *args])


def test_json_is_the_agents_own_report(tables: Path) -> None:
    args = ["--source", str(tables), "--experiment", "exp-1", "--horizon-days", "12",
            "--change", "pop -> ease", "--json"]  # fmt: skip
    result = _run(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    direct = evaluate_source(tables, "exp-1", EvaluationPlan(), horizon_days=12,
                             change_summary="pop -> ease")  # fmt: skip
    assert report == json.loads(json.dumps(direct.report()))
    assert report["stop"]["reason"] == "data_ends"  # 8 days of tables, 12 planned
    assert len(report["looks"]) == 8 and report["plan"]["min_effect"] == 0.05


def test_people_get_the_looks_the_attribution_and_the_stop(tables: Path) -> None:
    result = _run("--source", str(tables), "--experiment", "exp-1", "--min-effect", "0")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "Daily looks" in text and "Guardrails (non-inferiority)" in text
    direct = evaluate_source(tables, "exp-1", EvaluationPlan(min_effect=None))
    stop = direct.stop
    assert f"test day {stop.day} of 8: {stop.message}" in text


def test_bad_tables_exit_2_with_a_message(tmp_path: Path) -> None:
    result = _run("--source", str(tmp_path / "missing.duckdb"), "--experiment", "exp-1")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output
