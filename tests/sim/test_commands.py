"""`recloop sim` as a person runs it, on a Typer app the command registers itself on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from recloop.sim.commands import parse_faults, parse_ramp, register

SMALL = ["--traffic", "300", "--days", "3", "--pre-days", "1", "--oracle-traffic", "300"]


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


def _words(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_json_prints_one_object_with_arms_truth_and_serving(
    app: typer.Typer, tmp_path: Path
) -> None:
    out = tmp_path / "sim.duckdb"
    result = CliRunner().invoke(
        app, ["sim", *SMALL, "--policy-b", "random", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["arms"]) == {"control", "treatment"}
    assert report["truth"]["metrics"]["clicks_per_user"]["effect"] < 0  # random is worse
    assert set(report["serving"]) == {"pop", "random"}
    assert report["sessions"] > 0 and report["out"] == str(out)
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM assignments").fetchone()[0] > 0  # type: ignore[index]


def test_tables_and_truth_are_printed_for_people(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sim", *SMALL, "--parquet", str(tmp_path / "pq")])
    assert result.exit_code == 0, result.output
    text = _words(result.stdout)
    assert "observed in the tables" in text and "True effects" in text
    assert (tmp_path / "pq" / "events.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy-a", "bandit"], "unknown policy 'bandit'"),
        (["--world", "ml-25m"], "unknown world 'ml-25m'"),
        (["--faults", "srm-logging,gremlins"], "unknown fault gremlins"),
        (["--ramp", "0:0.5,1:0.1"], "ramp shares must not decrease"),
        (["--ramp", "half"], "is not DAY:SHARE"),
        (["--treatment-share", "1.5"], "treatment_share"),
        (["--days", "0"], "greater than or equal to 1"),
    ],
)
def test_bad_input_gets_a_clear_error(app: typer.Typer, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sim", *SMALL, *args])
    assert result.exit_code == 2
    assert message in _words(result.output)


def test_an_existing_out_file_is_refused(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "taken.duckdb"
    out.write_text("x")
    result = CliRunner().invoke(app, ["sim", *SMALL, "--oracle-traffic", "0", "--out", str(out)])
    assert result.exit_code == 2
    assert "exists" in _words(result.output)


def test_parsers() -> None:
    assert parse_ramp("0:0.01, 2:0.1,4:0.5") == ((0, 0.01), (2, 0.1), (4, 0.5))
    assert parse_faults("bots, seasonal-shock") == {"bots", "seasonal-shock"}
    assert parse_faults("") == frozenset()
