"""`recloop init`, `check` and `map` as a person runs them (on an app built here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.workspace.commands import register


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_init_then_check_then_map(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "movies"
    result = runner.invoke(app, ["init", str(target), "--example", "movielens"])
    assert result.exit_code == 0, result.output
    assert f"created {target}: the movielens example" in result.output

    result = runner.invoke(app, ["check", str(target)])
    assert result.exit_code == 0, result.output
    assert "is a recloop workspace" in result.stdout

    result = runner.invoke(app, ["map", str(target)])
    assert result.exit_code == 0, result.output
    assert "movierec/pipeline.py  [movierec.pipeline," in result.stdout
    assert "import graph (workspace modules):" in result.stdout

    result = runner.invoke(app, ["map", str(target), "--json", "-m", "movierec.rerank"])
    modules = {m["name"] for m in json.loads(result.stdout)["modules"]}
    assert "movierec.rerank" in modules  # --json prints the whole map


def test_init_into_a_non_empty_folder_fails_clearly(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("x")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not empty; choose a new or empty directory" in result.stderr


def test_check_fails_with_exit_code_1_and_says_why(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "recloop.toml").write_text('version = 1\n[recommender]\nentry_point = "x:y"\n')
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "data: missing required table [data]" in result.stderr
    assert "is not a git repository" in result.stderr


def test_map_defaults_to_the_current_folder_and_rejects_unknown_modules(
    app: typer.Typer, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "solo.py").write_text('"""Alone."""\n\ndef f(a: int) -> int:\n    return a\n')
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["map"])
    assert result.exit_code == 0, result.output
    assert "solo.py  [solo, 4 lines]  # Alone." in result.stdout
    assert "  def f(a: int) -> int" in result.stdout
    result = runner.invoke(app, ["map", "-m", "nope"])
    assert result.exit_code == 1 and "no module nope" in result.stderr


def test_map_of_a_missing_folder_is_a_usage_error(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["map", "/no/such/folder"])
    assert result.exit_code == 2
