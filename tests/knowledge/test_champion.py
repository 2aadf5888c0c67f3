"""The champion: commit and generation read from git; commits compared by prefix."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from recloop.knowledge.champion import Champion, workspace_champion


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_champion_of_a_git_workspace_counts_changes(git_workspace: Path) -> None:
    first = workspace_champion(git_workspace)
    assert first is not None and first.generation == 1 and len(first.commit) == 40
    (git_workspace / "a.txt").write_text("two\n")
    git(git_workspace, "commit", "-qam", "launch")
    second = workspace_champion(git_workspace)
    assert second is not None and second.generation == 2 and second.commit != first.commit


def test_no_git_no_champion(tmp_path: Path) -> None:
    assert workspace_champion(tmp_path) is None


def test_commits_compare_by_prefix() -> None:
    champion = Champion(commit="0123456789abcdef" * 2 + "01234567", generation=3)
    assert champion.is_commit("0123456")
    assert champion.is_commit(champion.commit.upper())
    assert not champion.is_commit("012345")  # too short to mean anything
    assert not champion.is_commit("0123457")
    assert champion.short == "0123456789"
    with pytest.raises(ValidationError):
        Champion(commit="not-hex", generation=0)
    with pytest.raises(ValidationError):
        Champion(commit="abcdef0", generation=-1)
