"""Example workspaces: `recloop init DIR --example movielens` makes a team's repository to work on.

An example is a small but realistic recommender codebase (config file, data preparation,
candidate generation, ranking, business rules, its own tests, a README and `recloop.toml`) kept
under `templates/<name>/` as package data. It is copied into a new or empty folder that becomes a
git repository on branch `main` with one commit, so it can serve as a workspace right away.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from recloop.workspace.errors import GitError, WorkspaceError
from recloop.workspace.git import run_git

EXAMPLES = ("movielens",)
MAIN_BRANCH = "main"
GITIGNORE = ".recloop/\n__pycache__/\n*.py[cod]\n.pytest_cache/\n"
FALLBACK_IDENTITY = {"user.name": "recloop", "user.email": "recloop@localhost"}
_NOT_COPIED = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


class InitError(WorkspaceError):
    """An example workspace could not be created; the message says why."""


@dataclass(frozen=True)
class CreatedWorkspace:
    """What `create_example` made."""

    path: Path
    example: str
    commit: str
    files: tuple[str, ...]  # the committed files, POSIX paths relative to `path`


def create_example(target: str | Path, example: str = "movielens") -> CreatedWorkspace:
    """Copy an example into `target` (new or empty) and commit it on `main` in a new git repo.

    On failure nothing is left behind: a folder created here is removed, and a folder that was
    empty is emptied again.
    """
    if example not in EXAMPLES:
        raise InitError(f"unknown example {example!r}; choose one of {', '.join(EXAMPLES)}")
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} exists and is not a directory; choose a new or empty directory")
    if target.is_dir() and any(target.iterdir()):
        raise InitError(f"{target} is not empty; choose a new or empty directory")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        files = _copy_tree(resources.files("recloop.workspace") / "templates" / example, target)
        (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        commit = _commit_everything(target, f"Start the {example} recommender")
    except BaseException as exc:
        _undo(target, created)
        if isinstance(exc, GitError):
            raise InitError(f"could not create the git repository in {target}: {exc}") from exc
        raise
    return CreatedWorkspace(target, example, commit, tuple(sorted([*files, ".gitignore"])))


def _copy_tree(source: Traversable, target: Path, prefix: str = "") -> list[str]:
    copied: list[str] = []
    for child in sorted(source.iterdir(), key=lambda c: c.name):
        if child.name in _NOT_COPIED or child.name.endswith((".pyc", ".pyo")):
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            (target / child.name).mkdir()
            copied += _copy_tree(child, target / child.name, f"{rel}/")
        else:
            (target / child.name).write_bytes(child.read_bytes())
            copied.append(rel)
    return copied


def _commit_everything(root: Path, message: str) -> str:
    run_git(["init", "--quiet", f"--initial-branch={MAIN_BRANCH}"], root)
    for key, value in FALLBACK_IDENTITY.items():
        try:
            run_git(["config", key], root)
        except GitError:  # not configured anywhere: set it for this repository only
            run_git(["config", "--local", key, value], root)
    run_git(["add", "--all"], root)
    run_git(["commit", "--quiet", "--no-verify", "-m", message], root)
    return run_git(["rev-parse", "HEAD"], root).decode().strip()


def _undo(target: Path, created: bool) -> None:
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():  # the folder was empty: everything in it is ours
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
