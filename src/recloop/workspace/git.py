"""Candidates: a branch plus commits on top of the champion, each in its own git worktree.

The champion is the workspace's main branch. A candidate named `x` is the branch `recloop/x`
checked out in `<workspace>/.recloop/worktrees/x`, created from the champion's commit. recloop
never touches the team's working copy: creating, committing, diffing and removing candidates
only writes the candidate's own worktree and git's shared store (objects, refs, worktree records,
and `/.recloop/` in `.git/info/exclude` so the folder is ignored without editing `.gitignore`).

Every git call goes through `run_git`: real git, no hooks, no external diff or textconv drivers,
no fsmonitor, C locale, and a `GitError` with git's stderr when it fails.
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from recloop.workspace.errors import GitError

RECLOOP_DIR = ".recloop"
WORKTREES_DIR = f"{RECLOOP_DIR}/worktrees"
BRANCH_PREFIX = "recloop/"
AUTHOR_NAME = "recloop"
AUTHOR_EMAIL = "recloop@localhost"
GIT_TIMEOUT_SECONDS = 120.0

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Overrides that keep repository config from running programs when recloop calls git.
_SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "commit.gpgsign=false",
    "diff.external=",
    "core.pager=cat",
)
# Inherited variables that would point git at another repository, index or config.
_GIT_ENV_DROP = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
)


def run_git(
    args: Sequence[str],
    cwd: str | Path,
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run `git args...` in `cwd` and return stdout; raise `GitError` with stderr on failure."""
    full_env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    full_env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})})
    command = ["git"]
    for setting in _SAFE_CONFIG:
        command += ["-c", setting]
    try:
        proc = subprocess.run(
            [*command, *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=full_env,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError(args, 127, f"cannot run git: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(args, -1, f"timed out after {GIT_TIMEOUT_SECONDS:g} s") from exc
    if proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


@dataclass(frozen=True)
class Candidate:
    """A candidate as git records it: its name, branch, worktree folder and commits."""

    name: str
    branch: str
    path: Path
    head: str  # the commit checked out in the worktree
    base: str  # where the candidate forked from the champion (merge base)

    @property
    def changed(self) -> bool:
        """Whether the candidate has commits of its own on top of its base."""
        return self.head != self.base


@dataclass(frozen=True)
class PruneReport:
    """What `Candidates.prune` cleaned up after a crash."""

    folders: tuple[Path, ...]
    branches: tuple[str, ...]


class Candidates:
    """The candidates of one workspace (a git repository whose main branch is the champion)."""

    def __init__(self, root: str | Path, champion: str = "main") -> None:
        self.root = Path(root).resolve()
        self.champion = champion
        top = run_git(["rev-parse", "--show-toplevel"], self.root).decode().strip()
        if Path(top).resolve() != self.root:
            raise GitError(
                ["rev-parse", "--show-toplevel"],
                1,
                f"{self.root} is not the top of a git working tree (that is {top})",
            )

    @property
    def worktrees_dir(self) -> Path:
        return self.root / WORKTREES_DIR

    def champion_commit(self) -> str:
        """The commit the champion branch points at."""
        return self._rev(f"refs/heads/{self.champion}")

    def create(self, name: str) -> Candidate:
        """Make branch `recloop/<name>` at the champion and check it out in its own worktree."""
        _check_name(name)
        path = self.worktrees_dir / name
        if path.exists():
            raise GitError(
                ["worktree", "add"],
                1,
                f"candidate folder {path} already exists (after a crash, prune() cleans it up)",
            )
        self.ignore_recloop_dir()
        path.parent.mkdir(parents=True, exist_ok=True)
        base = self.champion_commit()
        run_git(
            ["worktree", "add", "--quiet", "-b", BRANCH_PREFIX + name, str(path), base],
            self.root,
        )
        return self.get(name)

    def get(self, name: str) -> Candidate:
        """The candidate called `name`; `GitError` if there is none."""
        found = self._candidates(name)
        if not found:
            raise GitError(["worktree", "list"], 1, f"no candidate named {name!r}")
        return found[0]

    def list(self) -> builtins.list[Candidate]:
        """Every candidate with a live worktree under `.recloop/worktrees/`, by name."""
        return self._candidates()

    def _candidates(self, name: str | None = None) -> builtins.list[Candidate]:
        champion = self.champion_commit()
        found = []
        for record in self._worktree_records():
            path = Path(record["worktree"])
            branch = record.get("branch", "").removeprefix("refs/heads/")
            if path.parent != self.worktrees_dir or not branch.startswith(BRANCH_PREFIX):
                continue
            if "prunable" in record or not path.is_dir() or name not in (None, path.name):
                continue
            head = record["HEAD"]
            base = self._merge_base(champion, head)
            found.append(Candidate(path.name, branch, path, head, base))
        return sorted(found, key=lambda c: c.name)

    def diff(self, name: str, context: int = 3) -> str:
        """The candidate's committed change as a unified diff against its champion base."""
        candidate = self.get(name)
        out = run_git(
            [
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--full-index",
                "--binary",
                f"-U{context}",
                candidate.base,
                candidate.head,
            ],
            self.root,
        )
        return out.decode("utf-8", "surrogateescape")

    def commit(self, name: str, message: str) -> str:
        """Commit everything changed in the candidate's worktree as recloop; return the commit."""
        if not message.strip():
            raise ValueError("a commit needs a message")
        path = self.get(name).path
        run_git(["add", "--all"], path)
        staged = run_git(["diff", "--cached", "--name-only", "-z"], path)
        if not staged:
            raise GitError(["commit"], 1, f"nothing to commit in candidate {name!r}")
        identity = {
            "GIT_AUTHOR_NAME": AUTHOR_NAME,
            "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR_NAME,
            "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        }
        run_git(
            ["commit", "--quiet", "--no-verify", "-F", "-"],
            path,
            input=message.encode(),
            env=identity,
        )
        return self._rev("HEAD", cwd=path)

    def remove(self, name: str) -> None:
        """Delete the candidate's worktree (even with uncommitted changes) and its branch."""
        _check_name(name)
        path = self.worktrees_dir / name
        branch = BRANCH_PREFIX + name
        registered = path in {Path(r["worktree"]) for r in self._worktree_records()}
        if not (registered or path.exists() or self._branch_exists(branch)):
            raise GitError(["worktree", "remove"], 1, f"no candidate named {name!r}")
        if registered:
            run_git(["worktree", "remove", "--force", "--force", str(path)], self.root)
        if path.exists():
            shutil.rmtree(path)
        run_git(["worktree", "prune"], self.root)
        if self._branch_exists(branch):
            run_git(["branch", "--quiet", "-D", branch], self.root)

    def prune(self) -> PruneReport:
        """Clean up after a crash: stale worktree records, orphan folders and orphan branches.

        A folder under `.recloop/worktrees/` that git does not record as a worktree is deleted,
        and so is a `recloop/` branch that no worktree has checked out.
        """
        for record in self._worktree_records():
            path = Path(record["worktree"])
            if path.parent == self.worktrees_dir and "locked" in record and not path.exists():
                run_git(["worktree", "unlock", str(path)], self.root)
        run_git(["worktree", "prune"], self.root)
        records = self._worktree_records()
        registered = {Path(r["worktree"]) for r in records}
        folders = []
        if self.worktrees_dir.is_dir():
            for entry in sorted(self.worktrees_dir.iterdir()):
                if entry not in registered:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                    folders.append(entry)
        checked_out = {r.get("branch", "").removeprefix("refs/heads/") for r in records}
        branches = [b for b in self._candidate_branches() if b not in checked_out]
        for branch in branches:
            run_git(["branch", "--quiet", "-D", branch], self.root)
        return PruneReport(tuple(folders), tuple(branches))

    # -- git plumbing ------------------------------------------------------------------------

    def _rev(self, ref: str, cwd: Path | None = None) -> str:
        args = ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
        try:
            return run_git(args, cwd or self.root).decode().strip()
        except GitError as exc:
            raise GitError(args, exc.returncode, exc.stderr or f"no commit at {ref}") from None

    def _merge_base(self, a: str, b: str) -> str:
        return run_git(["merge-base", a, b], self.root).decode().strip()

    def _branch_exists(self, branch: str) -> bool:
        out = run_git(["for-each-ref", "--format=%(refname)", f"refs/heads/{branch}"], self.root)
        return bool(out.strip())

    def _candidate_branches(self) -> builtins.list[str]:
        out = run_git(
            ["for-each-ref", "--format=%(refname:strip=2)", f"refs/heads/{BRANCH_PREFIX}"],
            self.root,
        )
        return [line for line in out.decode().splitlines() if line]

    def _worktree_records(self) -> builtins.list[dict[str, str]]:
        """`git worktree list --porcelain -z`, one dict per worktree (flags map to "")."""
        out = run_git(["worktree", "list", "--porcelain", "-z"], self.root)
        records: builtins.list[dict[str, str]] = []
        current: dict[str, str] = {}
        for field in out.decode("utf-8", "surrogateescape").split("\0"):
            if not field:
                if current:
                    records.append(current)
                current = {}
                continue
            key, _, value = field.partition(" ")
            current[key] = value
        if current:
            records.append(current)
        for record in records:
            record["worktree"] = str(Path(record["worktree"]).resolve())
        return records

    def ignore_recloop_dir(self) -> None:
        """Add `/.recloop/` to `.git/info/exclude` (not `.gitignore`: the team's files stay)."""
        common = run_git(["rev-parse", "--git-common-dir"], self.root).decode().strip()
        exclude = (self.root / common / "info" / "exclude").resolve()
        line = f"/{RECLOOP_DIR}/"
        text = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
        if line not in text.splitlines():
            exclude.parent.mkdir(parents=True, exist_ok=True)
            sep = "" if not text or text.endswith("\n") else "\n"
            exclude.write_text(f"{text}{sep}{line}\n", encoding="utf-8")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            f"candidate name {name!r} must be 1-63 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
