"""`recloop analyze` as a person runs it, on a Typer app the command registers itself on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from recloop.stats.analysis import analyze
from recloop.stats.commands import parse_as_of, register


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


def _run(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["analyze", *args])


def _words(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_json_is_one_object_with_the_promised_keys(app: typer.Typer, golden_db: Path) -> None:
    result = _run(app, "--source", str(golden_db), "--experiment", "golden", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["decision"] in ("ship", "no_ship", "inconclusive")
    assert {"p_value", "flag"} <= set(report["srm"])
    assert {"effect", "relative_effect", "ci_low", "ci_high", "p_value"} <= set(
        report["metrics"]["consumption_per_user"]
    )
    assert report["settings"]["guardrails"][0]["metric"] == "return_rate"
    assert report == json.loads(json.dumps(analyze(golden_db, "golden").report()))


def test_options_reach_the_analysis(app: typer.Typer, scenario: Any) -> None:
    path = str(scenario("pop-ease"))
    args = ["--source", path, "--experiment", "exp-1", "--primary", "consumption_per_user",
            "--primary", "clicks_per_user", "--guardrail", "return_rate:0.05", "--guardrail",
            "latency_ms:5:absolute", "--as-of", "3", "--sequential", "--json"]  # fmt: skip
    report = json.loads(_run(app, *args).stdout)
    assert report["settings"]["primary"] == ["consumption_per_user", "clicks_per_user"]
    assert [g["metric"] for g in report["guardrails"]] == ["return_rate", "latency_ms"]
    assert report["look"]["day"] == 3 and report["settings"]["inference"] == "group-sequential"
    direct = analyze(path, "exp-1", ["consumption_per_user", "clicks_per_user"],
                     ["return_rate:0.05", "latency_ms:5:absolute"], as_of=3,
                     inference="group-sequential")  # fmt: skip
    assert report["decision"] == direct.decision
    assert (
        report["metrics"]["clicks_per_user"]["ci_low"] == direct.metrics["clicks_per_user"].ci_low
    )
    always = json.loads(_run(app, *args, "--always-valid", "--horizon-days", "9",
                             "--burn-in", "2").stdout)  # fmt: skip
    assert always["settings"]["inference"] == "sequential"
    assert always["settings"]["burn_in_exposures"] == 2
    none = json.loads(_run(app, "--source", path, "--experiment", "exp-1", "--guardrail",
                           "none", "--json").stdout)  # fmt: skip
    assert none["guardrails"] == [] and none["decision"] == "ship"


def test_people_get_tables_and_the_explanation(app: typer.Typer, scenario: Any) -> None:
    result = _run(app, "--source", str(scenario("srm-assignment")), "--experiment", "exp-1")
    assert result.exit_code == 0, result.output
    text = _words(result.stdout)
    assert text.startswith("NO-SHIP exp-1")
    for part in ("Effects (fixed inference, 95% intervals)", "Guardrails (non-inferiority)",
                 "Diagnoses", "Sample ratio MISMATCH", "consumption_per_user",
                 "after 8 sessions"):  # fmt: skip
        assert part in text, part


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "{tmp}/none.duckdb"], "no such file or folder"),
        (["--source", "{golden}", "--experiment", "nope"], "no experiment named 'nope'"),
        (["--source", "{golden}", "--primary", "ctrr"], "did you mean 'ctr'"),
        (["--source", "{golden}", "--guardrail", "return_rate"], "METRIC:MARGIN"),
        (["--source", "{golden}", "--as-of", "-2"], "negative"),
        (["--source", "{golden}", "--treatment-share", "1.5"], "treatment_share"),
        (["--source", "mysql://u@h/db"], "not supported"),
        (["--source", "{broken}"], "events.ts: expected a timestamp, found VARCHAR"),
    ],
)
def test_errors_exit_2_with_a_message(
    app: typer.Typer, golden_db: Path, mutated: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    broken = mutated("ALTER TABLE events ALTER ts TYPE VARCHAR")
    filled = [a.format(tmp=tmp_path, golden=golden_db, broken=broken) for a in args]
    if "--experiment" not in filled:
        filled += ["--experiment", "golden"]
    result = _run(app, *filled)
    assert result.exit_code == 2
    assert message in _words(result.stderr), result.stderr


def test_as_of_is_a_day_or_a_time() -> None:
    assert parse_as_of("3") == 3 and parse_as_of(None) is None
    assert parse_as_of("2026-01-09T12:00") == "2026-01-09T12:00"
