"""The experiment state machine: its transitions, idempotent steps, and the champion's moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recloop.ledger import Ledger
from recloop.loop import cascade_step
from recloop.loop.runner import RunSettings, run_loop

CHAIN = [
    "forbidden_check",
    "developed",
    "structural",
    "semantic",
    "local",
    "offline",
    "awaiting_approval",
    "online",
    "decided",
    "launched",
]


def test_an_experiment_walks_every_state_to_its_launch(workspace: Path, helpers: Any) -> None:
    Scripted, check_invariants, main_commit = (
        helpers.Scripted,
        helpers.check_invariants,
        helpers.main_commit,
    )
    start = main_commit(workspace)
    evaluator = Scripted("ship")
    report = run_loop(
        workspace,
        RunSettings(experiments=1),
        evaluator_factory=lambda: evaluator,
        auto_approver="demo-policy",
    )
    assert report.launched == report.started == ["ease-ranking-t0"]
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert [h.payload["to"] for h in ledger.history(experiment)] == CHAIN
        launched = ledger.history(experiment)[-1].payload["payload"]["commit"]
        approvals = ledger.approvals(experiment=experiment)
        assert {(a.gate, a.status, a.decided_by) for a in approvals} == {
            ("online", "approved", "demo-policy"),
            ("launch", "approved", "demo-policy"),
        }
    assert main_commit(workspace) == launched != start
    assert run_git_parent(workspace, launched) == start
    check_invariants(workspace)


def run_git_parent(root: Path, commit: str) -> str:
    from recloop.workspace.git import run_git

    return run_git(["rev-parse", f"{commit}^"], root).decode().strip()


def test_the_champion_does_not_move_without_a_ship(workspace: Path, helpers: Any) -> None:
    Scripted, check_invariants, main_commit = (
        helpers.Scripted,
        helpers.check_invariants,
        helpers.main_commit,
    )
    start = main_commit(workspace)
    run_loop(
        workspace,
        RunSettings(experiments=1),
        evaluator_factory=lambda: Scripted("no_ship"),
        auto_approver="demo-policy",
    )
    assert main_commit(workspace) == start
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert experiment.state == "closed"
        assert ledger.history(experiment)[-1].payload["payload"]["cause"] == "no-ship"
        assert ledger.audit_log(action="champion.move") == []
    check_invariants(workspace)


def test_a_step_repeated_after_a_crash_finds_its_own_work(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, helpers: Any
) -> None:
    Scripted, check_invariants = helpers.Scripted, helpers.check_invariants
    """The transition after the structural stage fails once (a crash after the work): the
    repeat reads the recorded stage run instead of running the stage again."""
    runs: list[str] = []
    real_run, real_transition = cascade_step.run_stage, Ledger.transition
    crashed: list[bool] = []

    def counting_run(stage, submission, context):  # type: ignore[no-untyped-def]
        runs.append(stage.name)
        return real_run(stage, submission, context)

    def crashing_transition(self, experiment, from_state, to_state, *a, **k):  # type: ignore[no-untyped-def]
        if to_state == "structural" and not crashed:
            crashed.append(True)
            raise KeyboardInterrupt("killed between the work and the write")
        return real_transition(self, experiment, from_state, to_state, *a, **k)

    monkeypatch.setattr(cascade_step, "run_stage", counting_run)
    monkeypatch.setattr(Ledger, "transition", crashing_transition)
    with pytest.raises(KeyboardInterrupt):
        run_loop(
            workspace,
            RunSettings(experiments=1),
            evaluator_factory=lambda: Scripted("ship"),
            auto_approver="demo-policy",
        )
    report = run_loop(
        workspace,
        RunSettings(experiments=0),
        evaluator_factory=lambda: Scripted("ship"),
        auto_approver="demo-policy",
    )
    assert report.resumed == ["ease-ranking-t0"] and report.started == []
    assert runs.count("structural") == 1
    assert runs == ["structural", "semantic", "local", "offline"]
    check_invariants(workspace)
