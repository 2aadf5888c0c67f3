"""What the cascade judges: a named change to the champion, as a unified diff.

The Develop step (an agent, a search, a person) produces a patch against the champion's commit;
`Submission` carries it with the candidate's name and, when known, the proposal it came from.
The structural stage applies it to a fresh worktree and commits it; later stages find that
worktree by name, so each stage can run on its own (a resumed loop calls them one by one).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recloop.workspace.unidiff import parse_patch, strip_first

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as `recloop.workspace.git` requires
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


class Submission(BaseModel):
    """A candidate change: its name (the git branch is `recloop/<name>`), the patch, its origin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    patch: str
    proposal_family: str | None = None
    proposal_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _branch_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"candidate name {name!r} must be 1-63 lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        return name

    @property
    def changed_files(self) -> list[str]:
        """The paths the patch names, as git will read them (`a/`, `b/` prefixes stripped)."""
        return changed_files(self.patch)


def changed_files(patch: str) -> list[str]:
    """Every path a unified diff names (old and new names), without `a/`/`b/`, first seen first."""
    out: dict[str, None] = {}
    for section in parse_patch(patch.encode("utf-8", "surrogateescape")):
        for name in (section.old_name, section.new_name):
            if name is not None:
                out.setdefault(strip_first(name), None)  # what `git apply -p1` reads
        for name in (section.rename_from, section.rename_to, section.copy_from, section.copy_to):
            if name is not None:
                out.setdefault(name, None)
    return list(out)


def changed_lines(patch: str) -> tuple[int, int]:
    """(added, removed) lines of a unified diff, counted from each hunk's header."""
    added = removed = 0
    old_left = new_left = 0
    for line in patch.splitlines():
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag == "+":
                added, new_left = added + 1, new_left - 1
            elif tag == "-":
                removed, old_left = removed + 1, old_left - 1
            elif tag != "\\":
                old_left, new_left = old_left - 1, new_left - 1
            continue
        match = _HUNK.match(line)
        if match:
            old_left = int(match.group(1) or "1")
            new_left = int(match.group(2) or "1")
    return added, removed
