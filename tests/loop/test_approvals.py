"""The autonomy gates: levels against the policy, parking, and approve/reject from the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from recloop.ledger import Ledger
from recloop.loop.approvals import higher_level, needs_approval
from recloop.loop.commands import register
from recloop.loop.runner import RunSettings, run_loop
from recloop.workspace.manifest import AutonomyPolicy


@pytest.mark.parametrize(
    ("online_from", "level", "needed"),
    [
        ("L3", "L1", False),
        ("L3", "L2", False),
        ("L3", "L3", True),
        ("L3", "L4", True),
        ("L1", "L1", True),
        ("never", "L4", False),
    ],
)
def test_the_online_gate_follows_the_level(online_from: Any, level: str, needed: bool) -> None:
    policy = AutonomyPolicy(approve_online_from=online_from)
    assert needs_approval(policy, "online", level) is needed


def test_launches_need_a_person_by_default() -> None:
    assert needs_approval(AutonomyPolicy(), "launch", "L1")
    assert not needs_approval(AutonomyPolicy(approve_launch=False), "launch", "L4")
    assert higher_level("L1", "L3", None) == "L3"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_nothing_passes_a_gate_without_its_approval(workspace: Path, helpers: Any) -> None:
    start = helpers.main_commit(workspace)
    evaluator = helpers.Scripted("ship")
    settings = RunSettings(experiments=1)
    report = run_loop(workspace, settings, evaluator_factory=lambda: evaluator)
    assert report.parked == ["ease-ranking-t0"]  # an L4 change waits at the online gate
    assert evaluator.calls == []
    runner, app, ws = CliRunner(), _app(), ["--workspace", str(workspace)]
    listed = runner.invoke(app, ["approvals", *ws])
    assert "ease-ranking-t0" in listed.output and "gate=online" in listed.output
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert experiment.state == "awaiting_approval" and ledger.online_tests(experiment) == []

    approved = runner.invoke(app, ["approve", "ease-ranking-t0", "--by", "ana", *ws])
    assert approved.exit_code == 0, approved.output
    run_loop(workspace, RunSettings(experiments=0), evaluator_factory=lambda: evaluator)
    assert evaluator.calls == ["ease-ranking-t0"]
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert experiment.state == "decided"  # tested online; the launch waits for a person
        assert [a.gate for a in ledger.approvals(status="pending")] == ["launch"]
    assert helpers.main_commit(workspace) == start

    refused = runner.invoke(app, ["reject", "ease-ranking-t0", "--by", "bo", *ws])
    assert refused.exit_code != 0  # a rejection says why
    rejected = runner.invoke(
        app, ["reject", "ease-ranking-t0", "--by", "bo", "--reason", "not this quarter", *ws]
    )
    assert rejected.exit_code == 0, rejected.output
    run_loop(workspace, RunSettings(experiments=0), evaluator_factory=lambda: evaluator)
    assert helpers.main_commit(workspace) == start
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert experiment.state == "closed"
        actions = [(e.action, e.actor) for e in ledger.audit_log(experiment=experiment)]
        assert ("approval.approved", "ana") in actions
        assert ("approval.rejected", "bo") in actions
        closing = ledger.history(experiment)[-1]
        assert closing.actor == "bo" and closing.payload["payload"]["cause"] == "rejected-by-person"
    helpers.check_invariants(workspace)


def test_approving_what_is_not_waiting_is_an_error(workspace: Path) -> None:
    Ledger.open(workspace).close()
    result = CliRunner().invoke(
        _app(), ["approve", "nope", "--by", "ana", "--workspace", str(workspace)]
    )
    assert result.exit_code == 2 and "no experiment" in result.output


APPROVER = Path(__file__).with_name("approver.py")


@pytest.mark.parametrize(
    ("answers", "end"),
    [(["online=approve", "launch=approve"], "launched"), (["online=reject"], "closed")],
)
def test_a_run_that_waits_picks_up_answers_from_another_process(
    workspace: Path, helpers: Any, answers: list[str], end: str
) -> None:
    """A person answers with `recloop approve`/`reject` while the run waits: the run moves the
    experiment on (or finalizes its closing) promptly, instead of leaving it parked."""
    start = helpers.main_commit(workspace)
    key, ws = "ease-ranking-t0", str(workspace)
    person = subprocess.Popen([sys.executable, str(APPROVER), ws, key, *answers])
    try:
        settings = RunSettings(experiments=1, wait_approvals=4.0, poll_seconds=0.1)
        report = run_loop(workspace, settings, evaluator_factory=lambda: helpers.Scripted("ship"))
        assert person.wait(timeout=60) == 0
    finally:
        if person.poll() is None:
            person.kill()
            person.wait()
    assert report.parked == [] and report.finished == [key]
    assert report.launched == ([key] if end == "launched" else [])
    assert (helpers.main_commit(workspace) != start) is (end == "launched")
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        given = {a.gate: a for a in ledger.approvals(experiment=experiment)}
        moves = {h.payload["to"]: h.at for h in ledger.history(experiment)}
    assert experiment.state == end
    assert {a.decided_by for a in given.values()} == {"ana"}
    for gate, state in (("online", "online"), ("launch", "launched")):
        if state in moves:
            decided_at = given[gate].decided_at
            assert decided_at is not None
            assert (moves[state] - decided_at).total_seconds() < 5  # picked up at once
    helpers.check_invariants(workspace)


def test_a_run_waits_for_answers_only_as_long_as_it_is_told(workspace: Path, helpers: Any) -> None:
    settings = RunSettings(experiments=1, wait_approvals=0.02, poll_seconds=0.1)
    notes: list[str] = []
    started = time.monotonic()
    report = run_loop(
        workspace, settings, evaluator_factory=lambda: helpers.Scripted(), notify=notes.append
    )
    waited = time.monotonic() - started
    assert report.parked == ["ease-ranking-t0"]
    assert any(n.startswith("waiting up to 0.02 min") for n in notes)
    assert any("no answer came in time" in n for n in notes)
    assert waited >= 1.2
