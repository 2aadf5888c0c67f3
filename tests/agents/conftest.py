"""Fixtures of the agents' tests: a fresh example workspace, its candidates, its own checks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recloop.agents.brainstorm import BrainstormContext
from recloop.agents.develop import CatalogueDeveloper, DevelopResult
from recloop.knowledge.champion import workspace_champion
from recloop.knowledge.forbidden import ForbiddenDirection
from recloop.knowledge.proposal import Family, ParamValue, Proposal
from recloop.workspace.example import create_example
from recloop.workspace.git import BRANCH_PREFIX, Candidate, Candidates, run_git
from recloop.workspace.manifest import Manifest, load_manifest

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RUFF = Path(sys.executable).with_name("ruff")


@dataclass(frozen=True)
class Example:
    """The example workspace of a test: its root, manifest and candidates."""

    root: Path
    manifest: Manifest
    candidates: Candidates

    def context(self, directions: tuple[ForbiddenDirection, ...] = ()) -> BrainstormContext:
        champion = workspace_champion(self.root)
        assert champion is not None
        return BrainstormContext(self.root, self.manifest, champion, NOW, directions)

    def develop(
        self, family: Family, params: dict[str, ParamValue], name: str
    ) -> tuple[Candidate, DevelopResult]:
        """A new candidate `name` with the catalogue's change of `family` committed on it."""
        candidate = self.candidates.create(name)
        proposal = Proposal(family=family, hypothesis="a test", parameters=params)
        result = CatalogueDeveloper(self.root, self.manifest).develop(proposal, candidate)
        return candidate, result

    def launch(self, name: str) -> None:
        """Make candidate `name` the champion (fast-forward main, as a launch would)."""
        run_git(["merge", "--ff-only", "--quiet", BRANCH_PREFIX + name], self.root)

    @staticmethod
    def diff_paths(diff: str) -> set[str]:
        """Every path a unified git diff names, old and new."""
        return {line[6:] for line in diff.splitlines() if line.startswith(("--- a/", "+++ b/"))}

    def run_in(self, folder: Path, code: str) -> str:
        """Run Python `code` in a checkout (the team's code on the path); its stdout."""
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()


@pytest.fixture
def example(tmp_path: Path) -> Example:
    root = create_example(tmp_path / "movies").path
    manifest = load_manifest(root)
    return Example(root, manifest, Candidates(root, champion=manifest.main_branch))


@dataclass(frozen=True)
class CheckRun:
    """The workspace's own test suite and linter, run in a checkout."""

    tests_ok: bool
    lint_ok: bool
    output: str


def _run_checks(folder: Path) -> CheckRun:
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lint = subprocess.run(
        [str(RUFF), "check", "--no-cache", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = "\n".join([tests.stdout[-3000:], tests.stderr[-2000:], lint.stdout[-3000:]])
    return CheckRun(tests.returncode == 0, lint.returncode == 0, output)


@pytest.fixture
def workspace_checks() -> Callable[[Path], CheckRun]:
    """Run the workspace's own tests (pytest) and its ruff configuration in a folder."""
    return _run_checks
