"""`recloop bench cascade` as a person runs it, on a tiny app built here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.cascade.commands import register


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


def test_bench_cascade_json_on_two_cases(
    app: typer.Typer, ml100k_root: Path, tmp_path: Path
) -> None:
    args = ["bench", "cascade", "--json", "--case", "syntax-error", "--case", "more-neighbours"]
    result = CliRunner().invoke(app, [*args, "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n_bad"], report["n_good"]) == (1, 1)
    assert report["effective_pass_rate"] == 1.0 and report["silent_failure_rate"] == 0.0
    assert report["rejections_per_stage"]["structural"] == 1
    assert report["offline_only_seconds_on_rejected"] > report["cascade_seconds_on_rejected"]
    assert report["median_rejection_share"] < 1.0
    assert [c["name"] for c in report["cases"]] == ["syntax-error", "more-neighbours"]
    assert list(tmp_path.iterdir()) == []  # the corpus workspace is removed


def test_an_unknown_case_is_an_error(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["bench", "cascade", "--case", "nope"])
    assert result.exit_code == 1
    assert "unknown corpus case(s): nope" in result.output


def test_register_joins_an_existing_bench_group() -> None:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register(app)
    assert [c.name for c in bench.registered_commands] == ["cascade"]
    assert len(app.registered_groups) == 1


def test_help_names_the_figures(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["bench", "cascade", "--help"])
    assert result.exit_code == 0
    assert "planted-fault corpus" in result.output


def test_the_table_lists_every_headline_figure() -> None:
    import time

    from rich.console import Console

    from recloop.cascade.bench import summarize
    from recloop.cascade.commands import figures_table
    from recloop.cascade.settings import CascadeSettings

    report = summarize([], CascadeSettings(), champion_seconds=0.0, started=time.perf_counter())
    console = Console(record=True, width=100)
    console.print(figures_table(report))
    text = console.export_text()
    for label in ("silent failure rate", "compute saved", "median rejection / offline"):
        assert label in text
