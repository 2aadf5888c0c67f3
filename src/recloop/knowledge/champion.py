"""The champion a forbidden direction is judged against: its commit and its generation.

A direction found on one champion may be fine once the champion moves, so directions are
scoped to a champion commit and may expire after N champion changes. `generation` counts the
changes: recloop takes the number of commits on the main branch's first-parent line
(`git rev-list --count --first-parent main`), which grows by one for every launch merged into
main and for every commit the team makes there. `workspace_champion` reads both from git.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git
from recloop.workspace.manifest import load_manifest
from recloop.workspace.problems import ManifestError

SHORT_COMMIT = 10


class Champion(BaseModel):
    """The current champion: the commit it is and how many times it has changed so far."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str = Field(min_length=4, pattern=r"^[0-9a-f]+$")
    generation: int = Field(default=0, ge=0)

    def is_commit(self, commit: str) -> bool:
        """Whether `commit` (full or abbreviated, at least 7 hex digits) names this champion."""
        commit = commit.lower()
        shorter, longer = sorted((commit, self.commit), key=len)
        return len(shorter) >= 7 and longer.startswith(shorter)

    @property
    def short(self) -> str:
        return self.commit[:SHORT_COMMIT]


def workspace_champion(workspace: str | Path) -> Champion | None:
    """The champion of a workspace's git repository (its manifest's main branch, `main` when the
    manifest cannot be read); None when there is no such repository or branch."""
    try:
        branch = load_manifest(workspace).main_branch
    except ManifestError:
        branch = "main"
    ref = f"refs/heads/{branch}"
    try:
        commit = run_git(["rev-parse", "--verify", "--quiet", ref], workspace).decode().strip()
        count = run_git(["rev-list", "--count", "--first-parent", ref], workspace).decode()
    except (GitError, OSError):
        return None
    return Champion(commit=commit, generation=int(count.strip()))
