"""Steps that raise inside recloop: retried (the count kept in the ledger), then closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recloop.agents.posterior import PLAYBOOK_AGENT
from recloop.knowledge import workspace_store
from recloop.ledger import Ledger
from recloop.loop import cascade_step
from recloop.loop.runner import RunSettings, run_loop
from recloop.loop.step_errors import STEP_ATTEMPTS, STEP_ERROR


class FailingSemantic:
    """`run_stage` whose semantic stage raises as scripted (then runs for real)."""

    def __init__(self, script: list[BaseException | None]) -> None:
        self.script = script
        self.runs: list[str] = []
        self.real = cascade_step.run_stage

    def __call__(self, stage: Any, submission: Any, context: Any) -> Any:
        self.runs.append(stage.name)
        if stage.name == "semantic" and self.script:
            fault = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            if fault is not None:
                raise fault
        return self.real(stage, submission, context)


def _run(workspace: Path, helpers: Any, experiments: int = 1) -> Any:
    return run_loop(
        workspace,
        RunSettings(experiments=experiments),
        evaluator_factory=lambda: helpers.Scripted("ship"),
        auto_approver="demo-policy",
    )


def _errors(workspace: Path) -> list[dict[str, Any]]:
    with Ledger.open(workspace) as ledger:
        return [e.payload for e in ledger.audit_log(action=STEP_ERROR)]


def test_a_step_that_fails_once_is_retried_and_the_experiment_goes_on(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, helpers: Any
) -> None:
    stage = FailingSemantic([OSError("disk full"), None])
    monkeypatch.setattr(cascade_step, "run_stage", stage)
    report = _run(workspace, helpers)
    assert report.launched == ["ease-ranking-t0"]
    assert stage.runs == ["structural", "semantic", "semantic", "local", "offline"]
    errors = _errors(workspace)
    assert [(e["state"], e["attempt"]) for e in errors] == [("structural", 1)]
    assert "disk full" in errors[0]["error"]
    helpers.check_invariants(workspace)


def test_a_step_that_always_fails_closes_after_its_attempts_even_across_a_restart(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, helpers: Any
) -> None:
    killed = FailingSemantic([OSError("disk full"), KeyboardInterrupt("killed mid-retry")])
    monkeypatch.setattr(cascade_step, "run_stage", killed)
    with pytest.raises(KeyboardInterrupt):
        _run(workspace, helpers)
    assert len(_errors(workspace)) == 1  # the first failure is on record before the kill

    again = FailingSemantic([OSError("disk full")])
    monkeypatch.setattr(cascade_step, "run_stage", again)
    report = _run(workspace, helpers, experiments=0)
    assert report.resumed == ["ease-ranking-t0"] and report.launched == []
    assert again.runs == ["semantic"] * (STEP_ATTEMPTS - 1)  # the count was not reset
    assert [e["attempt"] for e in _errors(workspace)] == list(range(1, STEP_ATTEMPTS + 1))
    with Ledger.open(workspace) as ledger:
        experiment = ledger.experiments()[0]
        assert experiment.state == "closed"
        closing = ledger.history(experiment)[-1].payload["payload"]
        assert ledger.playbook_versions(PLAYBOOK_AGENT) == []  # not the idea's fault: not learned
    assert closing["cause"] == "harness-error" and closing["stage"] == "structural"
    assert closing["attempts"] == STEP_ATTEMPTS and "disk full" in closing["sentence"]
    assert not any(f.counts for f in workspace_store(workspace).failures())
    helpers.check_invariants(workspace)
