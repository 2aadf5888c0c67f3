"""`recloop forbidden list|show|add|remove` as a person runs them (on an app built here)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.knowledge.champion import Champion, workspace_champion
from recloop.knowledge.commands import parse_param, register
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import forbid
from recloop.knowledge.ledger_store import workspace_store
from recloop.knowledge.pattern import NumericRange, Pattern, ValueSet
from recloop.knowledge.promotion import record_failure
from recloop.knowledge.store import JsonFileStore

MakeFailure = Callable[..., FailureRecord]


@pytest.fixture(scope="module")
def app(command_app: Callable[..., typer.Typer]) -> typer.Typer:
    return command_app(register)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_add_list_show_remove(app: typer.Typer, runner: CliRunner, git_workspace: Path) -> None:
    ws = str(git_workspace)
    added = runner.invoke(
        app,
        [
            "forbidden", "add", "--workspace", ws, "--by", "alice",
            "--reason", "popularity debiasing is being redone by hand",
            "--family", "popularity-debias", "--param", "alpha=0.2..0.8",
            "--file", "movierec/ranking.py", "--expires-in-days", "14",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    [direction] = workspace_store(git_workspace).list()
    assert added.stdout.startswith(f"forbidden: {direction.id}: family popularity-debias;")
    assert direction.origin == "person" and direction.created_by == "alice"
    assert direction.scope.kind == "workspace"
    assert direction.pattern.params == {"alpha": NumericRange(low=0.2, high=0.8)}

    listed = runner.invoke(app, ["forbidden", "list", "--workspace", ws])
    assert listed.exit_code == 0, listed.output
    assert "1 active forbidden direction(s)" in listed.stdout
    assert f"{direction.id}  active  family popularity-debias; alpha in [0.2, 0.8]" in listed.stdout
    assert "by alice on" in listed.stdout and "why: popularity debiasing" in listed.stdout

    as_json = json.loads(runner.invoke(app, ["forbidden", "list", "-w", ws, "--json"]).stdout)
    assert as_json["champion"]["generation"] == 1
    assert [(d["id"], d["active"]) for d in as_json["directions"]] == [(direction.id, True)]

    removed = runner.invoke(
        app,
        ["forbidden", "remove", direction.id, "-w", ws, "--by", "bob", "--reason", "done"],
    )
    assert removed.exit_code == 0, removed.output
    assert "stay in the store" in removed.stdout

    after = runner.invoke(app, ["forbidden", "list", "-w", ws])
    assert "0 active forbidden direction(s)" in after.stdout
    assert "1 removed, expired or out of scope (--all shows them)" in after.stdout
    everything = runner.invoke(app, ["forbidden", "list", "-w", ws, "--all"])
    assert f"{direction.id}  removed  family popularity-debias" in everything.stdout
    assert "not applying: removed by bob at" in everything.stdout and ": done" in everything.stdout

    shown = runner.invoke(app, ["forbidden", "show", direction.id, "-w", ws])
    assert shown.exit_code == 0, shown.output
    assert "created by alice: popularity debiasing" in shown.stdout
    assert "removed by bob: done" in shown.stdout
    assert "evidence: none" in shown.stdout

    again = runner.invoke(
        app,
        ["forbidden", "add", "-w", ws, "--by", "carol", "--reason", "back on",
         "--family", "popularity-debias", "--param", "alpha=0.2..0.8",
         "--file", "movierec/ranking.py"],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    [back] = workspace_store(git_workspace).list()
    assert back.id == direction.id
    assert [e.action for e in back.history] == ["created", "removed", "reinstated"]
    duplicate = runner.invoke(
        app,
        ["forbidden", "add", "-w", ws, "--by", "dan", "--reason", "x",
         "--family", "popularity-debias", "--param", "alpha=0.2..0.8",
         "--file", "movierec/ranking.py"],
    )  # fmt: skip
    assert duplicate.exit_code == 1 and f"already forbidden as {direction.id}" in duplicate.stderr


def test_champion_scope_and_expiry_by_changes(
    app: typer.Typer, runner: CliRunner, git_workspace: Path
) -> None:
    ws = str(git_workspace)
    result = runner.invoke(
        app,
        ["forbidden", "add", "-w", ws, "--by", "alice", "--reason", "r",
         "--family", "time-decay", "--champion", "current"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        ["forbidden", "add", "-w", ws, "--by", "alice", "--reason", "r",
         "--family", "ease-ranking", "--expire-after-changes", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    champion = workspace_champion(git_workspace)
    assert champion is not None
    scoped, counted = workspace_store(git_workspace).list()
    assert scoped.scope.champion == champion.commit and counted.since == champion

    (git_workspace / "a.txt").write_text("launched\n")
    subprocess.run(["git", "commit", "-qam", "launch"], cwd=git_workspace, check=True)
    listed = runner.invoke(app, ["forbidden", "list", "-w", ws, "--all"])
    assert f"{scoped.id}  lapsed" in listed.stdout
    assert f"it was scoped to champion {champion.short}" in listed.stdout
    assert f"the champion changed 1 time(s) since {champion.short}" in listed.stdout
    assert "0 forbidden direction(s)" not in listed.stdout


def test_show_lists_the_evidence(
    app: typer.Typer,
    runner: CliRunner,
    tmp_path: Path,
    make_failure: MakeFailure,
    now: datetime,
    champion: Champion,
) -> None:
    store = workspace_store(tmp_path)
    failures = [make_failure(), make_failure()]
    for failure in failures:
        changed = record_failure(store, failure, now=now, champion=champion)
    [direction] = changed
    shown = runner.invoke(app, ["forbidden", "show", direction.id, "-w", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    for failure in failures:
        assert f"{failure.id} structural/undefined-name: attempt" in shown.stdout
    listed = runner.invoke(app, ["forbidden", "list", "-w", str(tmp_path), "--all"])
    assert "champion unknown (no git repository or main branch)" in listed.stdout
    assert "rule repeated-early-failure" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "vibes"], "unknown family 'vibes'"),
        (["--param", "alpha"], "write NAME=VALUE or NAME=LOW..HIGH"),
        (["--param", "alpha=9..1"], "LOW..HIGH needs two numbers, low first"),
        ([], "must name a family, a parameter, a file or a symbol"),
        (["--family", "time-decay", "--champion", "current"], "the workspace has no git champion"),
        (["--family", "time-decay", "--champion", "xyz"], "give a commit (7 to 64 hex digits)"),
        (["--family", "time-decay", "--expire-after-changes", "2"], "and git has none"),
        (["--family", "time-decay", "--evidence", "fr-12345678"], "no failure record fr-12345678"),
        (["--file", "../x.py"], "must be a relative path inside the workspace"),
    ],
)
def test_add_refuses_bad_input_clearly(
    app: typer.Typer, runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["forbidden", "add", "-w", str(tmp_path), "--by", "a", "--reason", "r", *args]
    )
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert workspace_store(tmp_path).list() == []


def test_remove_and_show_unknown_ids(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    for command in (
        ["remove", "fd-00000000", "--by", "a", "--reason", "r"],
        ["show", "fd-00000000"],
    ):
        result = runner.invoke(app, ["forbidden", *command, "-w", str(tmp_path)])
        assert result.exit_code == 1
        assert "no forbidden direction fd-00000000" in result.stderr


def test_a_corrupt_store_is_an_error_not_a_crash(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / ".recloop").mkdir()
    (tmp_path / ".recloop" / "knowledge.json").write_text("{")
    result = runner.invoke(app, ["forbidden", "list", "-w", str(tmp_path)])
    assert result.exit_code == 1 and "is not valid JSON" in result.stderr


@pytest.mark.parametrize(
    ("text", "name", "condition"),
    [
        ("neighbours=100..300", "neighbours", NumericRange(low=100, high=300)),
        ("kernel=Exp", "kernel", ValueSet(labels=('"exp"',))),
        ("flag=true", "flag", ValueSet(labels=("true",))),
        ("w=0", "w", NumericRange(low=0, high=0)),
    ],
)
def test_parse_param(text: str, name: str, condition: object) -> None:
    assert parse_param(text) == (name, condition)


def test_a_single_number_forbids_its_log_bucket() -> None:
    name, region = parse_param("neighbours=200")
    assert name == "neighbours" and isinstance(region, NumericRange)
    assert (region.low, region.high) == (pytest.approx(2**7.25), pytest.approx(2**7.75))


def test_an_old_json_store_is_imported_and_the_command_says_so(
    app: typer.Typer, runner: CliRunner, tmp_path: Path, now: datetime
) -> None:
    direction = forbid(Pattern(family="time-decay"), origin="person", by="a", reason="r", now=now)
    JsonFileStore(tmp_path / ".recloop" / "knowledge.json").add(direction)
    listed = runner.invoke(app, ["forbidden", "list", "-w", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    assert "imported 0 failure record(s) and 1 forbidden direction(s)" in listed.stderr
    payload = json.loads(listed.stdout)
    assert payload["store"].endswith(".recloop/ledger.db")
    assert [d["id"] for d in payload["directions"]] == [direction.id]
    again = runner.invoke(app, ["forbidden", "list", "-w", str(tmp_path)])
    assert again.exit_code == 0 and "imported" not in again.stderr
