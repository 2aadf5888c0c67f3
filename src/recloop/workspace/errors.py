"""What can go wrong when recloop touches a workspace's git, its files or runs its code.

    WorkspaceError                 base of the errors below
    ├── GitError                   a git command failed; carries the command, exit code, stderr
    ├── PatchRejectedError         a change was refused before it touched the worktree; carries
    │                              every `Rejection` (cause code, path, reason), first one first
    └── SandboxFailedError         a sandboxed run did not end `ok`; carries the `SandboxResult`

Cause codes of a refused change (stable, machine-readable; `Rejection.cause`):

    absolute-path      a path in the patch is absolute (`/etc/passwd`, `a//etc/x`)
    path-traversal     a path has a `..` segment
    invalid-path       an empty path, an empty segment, `.` or a control character in a name
    git-internal       a path inside `.git`
    outside-editable   a changed path no editable glob matches
    protected-path     a changed or created path a protected glob matches
    protected-delete   a protected file would be deleted
    protected-rename   a protected file would be renamed away
    symlink            a symlink would be created (mode 120000) or a path goes through one
    unsupported-mode   a file mode other than a regular or executable file (e.g. a submodule)
    binary             a binary patch, "Binary files differ", or binary file content
    file-too-large     a file would be larger than the size limit after the change
    empty-patch        the patch changes nothing
    malformed-patch    git cannot parse the patch, or reads it differently from recloop
    does-not-apply     `git apply --check` refuses it (context does not match, file missing...)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from recloop.workspace.sandbox import SandboxResult

Cause = Literal[
    "absolute-path",
    "path-traversal",
    "invalid-path",
    "git-internal",
    "outside-editable",
    "protected-path",
    "protected-delete",
    "protected-rename",
    "symlink",
    "unsupported-mode",
    "binary",
    "file-too-large",
    "empty-patch",
    "malformed-patch",
    "does-not-apply",
]
CAUSES: tuple[str, ...] = get_args(Cause)


class WorkspaceError(Exception):
    """Base of recloop's workspace errors."""


class GitError(WorkspaceError):
    """A git command failed; the message holds the command and git's own stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stderr = stderr.strip()
        super().__init__(f"git {' '.join(args)} failed (exit {returncode}): {self.stderr}")


@dataclass(frozen=True)
class Rejection:
    """One reason a change is refused: a cause code, the path concerned and a sentence."""

    cause: Cause
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"[{self.cause}] {where}{self.reason}"


class PatchRejectedError(WorkspaceError):
    """A change was refused; `cause` is the first rejection's code, `rejections` lists all."""

    def __init__(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            raise ValueError("a rejected patch needs at least one rejection")
        self.rejections = tuple(rejections)
        lines = [str(r) for r in self.rejections]
        super().__init__("patch refused: " + "; ".join(lines))

    @property
    def cause(self) -> Cause:
        return self.rejections[0].cause

    @property
    def causes(self) -> set[str]:
        return {r.cause for r in self.rejections}


class SandboxFailedError(WorkspaceError):
    """A sandboxed run ended with a status other than ok; `result` says how and costs."""

    def __init__(self, result: SandboxResult) -> None:
        self.result = result
        super().__init__(f"sandboxed run failed: {result.status}: {result.detail}")
