"""`recloop llm calls|show|replay` on a workspace whose ledger holds calls recorded through the
real client and the scripted server (the commands on an app built here, run by CliRunner)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.agents.llm import LLMClient, LLMConfig, LLMUnavailable, ScriptedLLMServer
from recloop.agents.llm.commands import register, replay_server
from recloop.agents.llm.scripted import ScriptedReply
from recloop.ledger import URL_ENV, Ledger

from .conftest import new_experiment

MakeConfig = Callable[..., LLMConfig]
MARKUP = "keep [bold]this[/bold] literal"


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workspace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_config: MakeConfig,
    server: ScriptedLLMServer,
) -> Path:
    """A workspace whose ledger holds: two brainstorm calls and one failed develop call of
    experiment e-1, and one call of no experiment; and an experiment e-2 with none."""
    monkeypatch.delenv(URL_ENV, raising=False)
    server.push(
        ScriptedReply(content="idea one", tokens_in=100, tokens_out=10),
        ScriptedReply(content="idea two", tokens_in=200, tokens_out=20),
        ScriptedReply.failure(503, "overloaded"),
        ScriptedReply(content=MARKUP, tokens_in=7, tokens_out=3),
    )
    with Ledger.open(tmp_path) as ledger, LLMClient(make_config(), ledger) as client:
        new_experiment(ledger, "e-1")
        new_experiment(ledger, "e-2")
        for question in ("first?", "second?"):
            client.chat(ask(question), agent="llm-brainstormer", experiment="e-1")
        with pytest.raises(LLMUnavailable):
            client.chat(ask("a diff?"), agent="llm-developer", experiment="e-1")
        client.chat(ask(MARKUP), agent="reflector")
    return tmp_path


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def invoke(runner: CliRunner, app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["llm", *args])
    return result.exit_code, result.stdout, result.stderr


def test_calls_json_has_every_call_and_totals_per_agent(
    runner: CliRunner, app: typer.Typer, workspace: Path
) -> None:
    code, stdout, _ = invoke(runner, app, "calls", "--workspace", str(workspace), "--json")
    assert code == 0
    report = json.loads(stdout)
    assert set(report) == {"calls", "totals"}
    calls = report["calls"]
    assert [c["agent"] for c in calls] == [
        "llm-brainstormer",
        "llm-brainstormer",
        "llm-developer",
        "reflector",
    ]
    assert [c["experiment"] for c in calls] == ["e-1", "e-1", "e-1", None]
    assert [c["id"] for c in calls] == sorted(c["id"] for c in calls)
    assert set(calls[0]) == {
        "id", "at", "agent", "experiment", "model", "tokens_in", "tokens_out",
        "cost_usd", "latency_seconds", "error",
    }  # fmt: skip
    assert calls[2]["error"] is not None and "overloaded" in calls[2]["error"]
    totals = {t["agent"]: t for t in report["totals"]}
    assert totals["llm-brainstormer"] == {
        "agent": "llm-brainstormer",
        "calls": 2,
        "errors": 0,
        "tokens_in": 300,
        "tokens_out": 30,
        "cost_usd": pytest.approx(300 * 1e-6 + 30 * 2e-6),
    }
    assert (totals["llm-developer"]["calls"], totals["llm-developer"]["errors"]) == (1, 1)


def test_calls_filter_by_experiment_and_agent(
    runner: CliRunner, app: typer.Typer, workspace: Path
) -> None:
    ws = str(workspace)
    _, by_experiment, _ = invoke(runner, app, "calls", "-w", ws, "--experiment", "e-1", "--json")
    assert len(json.loads(by_experiment)["calls"]) == 3
    _, by_agent, _ = invoke(
        runner, app, "calls", "-w", ws, "--experiment", "e-1", "--agent", "llm-developer", "--json"
    )
    assert [c["agent"] for c in json.loads(by_agent)["calls"]] == ["llm-developer"]
    code, stdout, _ = invoke(runner, app, "calls", "-w", ws, "--experiment", "e-2")
    assert code == 0 and "No LLM call is recorded for that filter." in stdout


def test_calls_table_shows_rows_and_totals(
    runner: CliRunner, app: typer.Typer, workspace: Path
) -> None:
    code, stdout, _ = invoke(runner, app, "calls", "--workspace", str(workspace))
    assert code == 0
    assert "4 LLM call(s)" in stdout and "Totals per agent" in stdout
    assert "scripted-model" in stdout and "e-1" in stdout
    (failed,) = [line for line in stdout.splitlines() if "yes (below)" in line]
    assert failed.split("│")[3].strip() == "llm-developer"
    (error,) = [line for line in stdout.splitlines() if line.startswith("error of call")]
    assert error.startswith("error of call 3: ") and error.endswith("503 - overloaded")
    totals = stdout.split("Totals per agent")[1]
    brainstorm = next(line for line in totals.splitlines() if "llm-brainstormer" in line)
    assert [cell.strip() for cell in brainstorm.split("│")[2:6]] == ["2", "0", "300", "30"]


def test_show_renders_prompt_response_and_error_literally(
    runner: CliRunner, app: typer.Typer, workspace: Path
) -> None:
    with Ledger.open(workspace) as ledger:
        first, _, failed, last = ledger.llm_calls()
    code, stdout, _ = invoke(runner, app, "show", str(first.id), "-w", str(workspace))
    assert code == 0
    assert f"LLM call {first.id}" in stdout
    assert "first?" in stdout and "idea one" in stdout and "e-1" in stdout
    assert "json_mode=False" in stdout and "error" not in stdout
    _, shown, _ = invoke(runner, app, "show", str(failed.id), "-w", str(workspace))
    assert "error" in shown and "overloaded" in shown and "(empty)" in shown
    _, literal, _ = invoke(runner, app, "show", str(last.id), "-w", str(workspace))
    assert MARKUP in literal  # rich markup in a prompt is text, not styling


def test_unknown_ids_experiments_and_missing_ledgers_are_clear_errors(
    runner: CliRunner, app: typer.Typer, workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ws = str(workspace)
    code, _, stderr = invoke(runner, app, "show", "9999", "-w", ws)
    assert code == 1 and "no LLM call 9999 in the ledger" in stderr
    code, _, stderr = invoke(runner, app, "calls", "-w", ws, "--experiment", "nope")
    assert code == 1 and "no experiment 'nope' in the ledger" in stderr
    code, _, stderr = invoke(runner, app, "replay", "-w", ws, "--experiment", "nope")
    assert code == 1 and "no experiment 'nope'" in stderr
    empty = tmp_path_factory.mktemp("empty")
    code, _, stderr = invoke(runner, app, "calls", "-w", str(empty))
    assert code == 1 and "no ledger at" in stderr
    assert not (empty / ".recloop").exists()  # an audit does not create a ledger


@pytest.fixture
def replaying(workspace: Path) -> Iterator[ScriptedLLMServer]:
    server, _ = replay_server(workspace, "e-1")
    with server:
        yield server


def test_replay_server_serves_the_experiments_calls(
    replaying: ScriptedLLMServer, make_config: MakeConfig
) -> None:
    with LLMClient(make_config(base_url=replaying.base_url)) as client:
        assert client.chat(ask("second?"), agent="llm-brainstormer").text == "idea two"
        assert client.chat(ask("first?"), agent="llm-brainstormer").text == "idea one"
        with pytest.raises(LLMUnavailable, match="overloaded"):
            client.chat(ask("a diff?"), agent="llm-developer")
        with pytest.raises(LLMUnavailable, match="diverged"):
            client.chat(ask(MARKUP), agent="reflector")  # another experiment's call


def test_replay_server_refusals(workspace: Path) -> None:
    with pytest.raises(typer.Exit):
        replay_server(workspace, "e-2")  # no recorded call
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(typer.Exit):
            replay_server(workspace, "e-1", port=port)
    server, replay = replay_server(workspace, "e-1")
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
    assert len(replay.unserved) == 3
