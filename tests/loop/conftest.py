"""Fixtures of the loop's tests: an example workspace (champion measured once per session),
scripted online evaluators, and the ledger invariants every run must keep."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from recloop.ledger import Ledger
from recloop.loop.online import OnlineRequest, OnlineResult
from recloop.workspace.example import create_example
from recloop.workspace.git import Candidates, run_git


class Scripted:
    """An online evaluator that answers one decision (tests only)."""

    def __init__(self, decision: str = "ship") -> None:
        self.decision = decision
        self.calls: list[str] = []

    def evaluate(self, request: OnlineRequest) -> OnlineResult:
        self.calls.append(request.experiment)
        return OnlineResult(
            decision=self.decision,
            report="scripted",  # type: ignore[arg-type]
            primary_metric="consumption_per_user",
            primary_lift=0.1,
        )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, ml100k_root: Path) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    create_example(root)
    return root


@pytest.fixture
def workspace(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("worktrees", "champion"))
    run_git(["worktree", "prune"], root)
    return root


def main_commit(root: Path) -> str:
    return run_git(["rev-parse", "refs/heads/main"], root).decode().strip()


def check_invariants(root: Path) -> None:
    """Each experiment finished once, no stage run twice, no stray worktree, champion = the
    last launch."""
    with Ledger.open(root) as ledger:
        launched_commits = []
        for experiment in ledger.experiments():
            history = ledger.history(experiment)
            targets = [h.payload["to"] for h in history]
            assert len(targets) == len(set(targets)), (experiment.key, targets)
            assert experiment.is_finished, (experiment.key, experiment.state)
            assert sum(t in ("launched", "closed") for t in targets) == 1
            stages = [r.stage for r in ledger.stage_runs(experiment)]
            assert len(stages) == len(set(stages)), (experiment.key, stages)
            assert len(ledger.online_tests(experiment)) <= 1
            assert len(ledger.audit_log(experiment=experiment, action="loop.finalize")) == 1
            (asset,) = ledger.knowledge_assets(experiment=experiment)  # what it taught, once
            assert asset.key == f"experiment:{experiment.key}"
            assert asset.attribution["launched"] is (experiment.state == "launched")
            decision = ledger.get_decision(experiment)
            if decision is not None:
                assert f"online:{decision.outcome}" in asset.tags
                assert f"Online A/B test: {decision.outcome}" in asset.text
            if experiment.state == "launched":
                launched_commits.append(history[-1].payload["payload"]["commit"])
        moves = ledger.audit_log(action="champion.move")
        assert len(moves) == len(launched_commits)
        if launched_commits:
            assert main_commit(root) == moves[-1].payload["to"]
    assert Candidates(root).list() == []


EvaluatorFactory = Callable[[], Scripted]


class Helpers:
    """The conftest's helpers, for test modules (importlib mode cannot import conftest)."""

    Scripted = Scripted
    check_invariants = staticmethod(check_invariants)
    main_commit = staticmethod(main_commit)


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers
