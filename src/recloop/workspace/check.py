"""`recloop check`: can recloop work on this folder, and if not, what exactly is wrong?

A workspace passes when its manifest is valid; the entry point's module exists and defines the
factory at module level (read from the AST, nothing imported); every editable and protected glob
matches a file of the main branch and something is left editable; the search spaces name keys of
the config file whose current values lie in range; the editable code imports no undeclared
third-party package and parses; and the folder is the top of a git repository whose main branch
exists, is checked out and has no uncommitted changes (candidates are made from main's last
commit, so uncommitted work would be invisible to recloop; and what check reads, the working
copy, is then exactly that commit).
"""

from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recloop.workspace._tomlpos import KeyPath, key_lines, locate
from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git
from recloop.workspace.globs import matching
from recloop.workspace.manifest import MANIFEST_FILE, RECLOOP_DIR, Manifest, load_manifest
from recloop.workspace.problems import ManifestError, Problem, render_key
from recloop.workspace.repomap import build_repo_map, is_stdlib

MAX_LISTED = 5


@dataclass(frozen=True)
class CheckReport:
    """The problems found (none: the workspace is usable) and a summary of what was checked."""

    root: Path
    problems: tuple[Problem, ...]
    summary: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        if self.ok:
            width = max(len(label) for label, _ in self.summary)
            rows = [f"  {label.ljust(width)}  {value}" for label, value in self.summary]
            return "\n".join([f"OK: {self.root} is a recloop workspace", *rows])
        count = f"{len(self.problems)} problem" + ("s" if len(self.problems) != 1 else "")
        rows = [p.located(MANIFEST_FILE if p.line is not None else None) for p in self.problems]
        return "\n".join([*rows, f"{count} in {self.root}"])


class _Context:
    """The manifest, its key lines and the files of main, shared by the checks."""

    def __init__(self, root: Path, manifest: Manifest, files: list[str]) -> None:
        self.root = root
        self.manifest = manifest
        self.files = files
        self.lines = key_lines((root / MANIFEST_FILE).read_text(encoding="utf-8"))

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(render_key(path), message, locate(self.lines, path))


def check_workspace(root: str | Path) -> CheckReport:
    """Run every check on the workspace at `root` (see the module docstring)."""
    root = Path(root).resolve()
    problems: list[Problem] = []
    summary: list[tuple[str, str]] = [("workspace", str(root))]
    try:
        manifest: Manifest | None = load_manifest(root)
    except ManifestError as exc:
        problems += exc.problems
        manifest = None
    branch = manifest.main_branch if manifest else "main"
    git_problems, files, git_summary = _git_state(root, branch)
    problems += git_problems
    if manifest is not None:
        ctx = _Context(root, manifest, files if files is not None else _walk_files(root))
        entry_problems, entry_summary = _entry_point(ctx)
        problems += entry_problems
        problems += _globs(ctx)
        problems += _search(ctx)
        problems += _code(ctx)
        summary += [("entry point", entry_summary), *_manifest_summary(ctx)]
    if git_summary:
        summary.append(("git", git_summary))
    return CheckReport(root, tuple(problems), tuple(summary))


def _entry_point(ctx: _Context) -> tuple[list[Problem], str]:
    rec = ctx.manifest.recommender
    key = ("recommender", "entry_point")
    found = next((f for f in rec.module_files() if (ctx.root / f).is_file()), None)
    if found is None:
        first, second = rec.module_files()
        return [ctx.problem(key, f"module {rec.module!r} not found: no {first} or {second}")], ""
    try:
        tree = ast.parse((ctx.root / found).read_text(encoding="utf-8"), filename=found)
    except (SyntaxError, UnicodeDecodeError) as exc:
        where = f"{found}:{getattr(exc, 'lineno', None) or '?'}"
        return [ctx.problem(key, f"{where} does not parse: {exc}")], ""
    line = _top_level_names(tree).get(rec.factory)
    if line is None:
        return [ctx.problem(key, f"{found} defines no {rec.factory!r} at module level")], ""
    return [], f"{rec.entry_point} ({found}:{line})"


def _top_level_names(tree: ast.Module) -> dict[str, int]:
    """Names a module binds at its top level (defs, classes, assignments, imports) -> line."""
    names: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = node.lineno
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node.lineno
    return names


def _globs(ctx: _Context) -> list[Problem]:
    paths = ctx.manifest.paths
    problems = [
        ctx.problem(("paths", kind, i), f"{pattern!r} matches no file of the workspace")
        for kind in ("editable", "protected")
        for i, pattern in enumerate(getattr(paths, kind))
        if not matching(ctx.files, pattern)
    ]
    editable = [f for f in ctx.files if paths.is_editable(f)]
    if not problems and not editable:
        problems.append(
            ctx.problem(
                ("paths", "editable"),
                "every file it matches is protected: nothing is left to change",
            )
        )
    return problems


def _search(ctx: _Context) -> list[Problem]:
    search = ctx.manifest.search
    if search is None:
        return []
    path = ctx.root / search.config
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [ctx.problem(("search", "config"), f"{search.config} does not exist")]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [ctx.problem(("search", "config"), f"{search.config} cannot be read: {exc}")]
    problems = []
    for i, param in enumerate(search.params):
        value = _dig(config, param.path.split("."))
        key: KeyPath = ("search", "params", i, "path")
        if value is _MISSING:
            problems.append(ctx.problem(key, f"{param.path!r} is not a key of {search.config}"))
        elif param.type == "categorical":
            if value not in param.choices:
                problems.append(
                    ctx.problem(key, f"its current value {value!r} is not one of the choices")
                )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(ctx.problem(key, f"its current value {value!r} is not a number"))
        elif not param.low <= value <= param.high:
            problems.append(
                ctx.problem(
                    key, f"its current value {value!r} is outside [{param.low}, {param.high}]"
                )
            )
    return problems


_MISSING = object()


def _dig(table: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(table, dict) or key not in table:
            return _MISSING
        table = table[key]
    return table


def _code(ctx: _Context) -> list[Problem]:
    """Editable code parses and imports only declared third-party packages."""
    rec = ctx.manifest.recommender
    repo = build_repo_map(ctx.root, rec.source_dir)
    editable = ctx.manifest.paths.is_editable
    problems = [
        Problem("", f"does not parse: {f.message}", f.line, file=f.path)
        for f in repo.failures
        if editable(f.path)
    ]
    declared = set(rec.dependencies)
    for module in repo.modules:
        if not editable(module.path):
            continue
        for imp in module.imports:
            top = imp.module.split(".")[0]
            if imp.internal or not top or top == "__future__" or is_stdlib(top):
                continue
            if top not in declared:
                problems.append(
                    ctx.problem(
                        ("recommender", "dependencies"),
                        f"{module.path}:{imp.line} imports {top!r}, which is not declared",
                    )
                )
    return problems


def _manifest_summary(ctx: _Context) -> list[tuple[str, str]]:
    m = ctx.manifest
    primary = m.metrics.primary
    effect = (
        f"{primary.min_effect:.0%} relative"
        if primary.min_effect_kind == "relative"
        else f"{primary.min_effect:g} absolute"
    )
    rows = [
        (
            "evaluation",
            f"{m.data.dataset}, {m.split.kind} split (seed {m.split.seed}), "
            f"ratings >= {m.data.implicit_threshold:g} positive, k = {m.k}",
        ),
        ("primary", f"{primary.name} ({primary.direction}, worth shipping from {effect})"),
        ("guardrails", ", ".join(g.name for g in m.metrics.guardrails) or "none"),
        (
            "files",
            f"{sum(map(m.paths.is_editable, ctx.files))} editable, "
            f"{sum(map(m.paths.is_protected, ctx.files))} protected, of {len(ctx.files)}",
        ),
        ("dependencies", ", ".join(m.recommender.dependencies) or "none (standard library only)"),
    ]
    if m.search is not None:
        rows.append(("search", f"{len(m.search.params)} parameters of {m.search.config}"))
    return rows


def _git_state(root: Path, branch: str) -> tuple[list[Problem], list[str] | None, str]:
    """Problems with the repository, the files of `branch` (None without one), a summary."""
    try:
        top = run_git(["rev-parse", "--show-toplevel"], root).decode().strip()
    except GitError:
        message = f"{root} is not a git repository; recloop works on commits (see `recloop init`)"
        return [Problem("git", message)], None, ""
    if Path(top).resolve() != root:
        return (
            [Problem("git", f"the workspace must be the top of its repository ({top})")],
            None,
            "",
        )
    try:
        commit = run_git(["rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}"], root)
    except GitError:
        message = f"no branch {branch!r} with a commit (main_branch in {MANIFEST_FILE})"
        return [Problem("git", message)], None, ""
    files = run_git(["ls-tree", "-r", "-z", "--name-only", branch], root).decode().split("\0")
    files = [f for f in files if f]
    head = _current_branch(root)
    if head != branch:
        message = (
            f"the working copy is on {head}, not {branch}; check reads the working copy and "
            f"recloop works from {branch}, so check out {branch}"
        )
        return [Problem("git", message)], files, ""
    status = run_git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], root)
    dirty = [
        e for e in status.decode().split("\0") if e and not e[3:].startswith(RECLOOP_DIR + "/")
    ]
    dirty = [e for e in dirty if len(e) > 3]  # the source path of a rename comes as its own entry
    if dirty:
        listed = ", ".join(e[3:] for e in dirty[:MAX_LISTED])
        more = f" and {len(dirty) - MAX_LISTED} more" if len(dirty) > MAX_LISTED else ""
        message = (
            f"uncommitted changes on {branch}: {listed}{more}; commit or stash them "
            f"(candidates start from {branch}'s last commit, so recloop would not see them)"
        )
        return [Problem("git", message)], files, ""
    return [], files, f"{branch} at {commit.decode()[:10]}, clean"


def _current_branch(root: Path) -> str:
    try:
        return run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], root).decode().strip()
    except GitError:
        return "a detached HEAD"  # not a branch name: it never equals the main branch


def _walk_files(root: Path) -> list[str]:
    """Files under root (without git): skipping `.git`, `.recloop` and caches."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", RECLOOP_DIR, "__pycache__")]
        found += [(Path(folder) / n).relative_to(root).as_posix() for n in names]
    return sorted(found)
