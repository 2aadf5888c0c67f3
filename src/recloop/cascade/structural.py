"""Stage 1, structural: read the change without running it, and commit it if it is sound.

In order, the first failure rejecting:

1. the patch applies under the manifest's path policy (`recloop.workspace.patch.apply_patch`:
   editable globs, protected paths, the manifest, `.git`, symlinks, binaries, file sizes), to a
   scratch copy of only the files it touches — nothing of the workspace is written yet;
2. the change is small enough to review (`CascadeSettings.max_changed_lines` / `_files`);
3. every changed Python file parses (`syntax-error`, with file and line);
4. its imports and its reach outside the worktree pass `static_checks`;
5. `ruff check --select F,E9` finds nothing new in the changed files (`lint`).

Checks 4 and 5 hold the candidate only to findings its change introduced (the champion's
versions of the same files are checked alongside). A sound change then gets its candidate
worktree (`recloop/<name>` from the champion), is applied there with the same policy and
committed; later stages run that commit. A rejected change leaves no branch behind.
"""

from __future__ import annotations

import ast
import contextlib
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.lint import lint
from recloop.cascade.rules import PRIORITY
from recloop.cascade.stage import StageClock
from recloop.cascade.static_checks import Finding, new_findings, scan_source
from recloop.cascade.submission import Submission, changed_lines
from recloop.cascade.verdict import Evidence, Location, Verdict
from recloop.workspace.errors import GitError, PatchRejectedError
from recloop.workspace.git import run_git
from recloop.workspace.manifest import Stage as StageName
from recloop.workspace.patch import AppliedPatch, apply_patch, refuse_path_syntax


class StructuralStage:
    """Stage 1 (see the module docstring)."""

    name: StageName = "structural"

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        budget = context.manifest.budgets.structural.wall_seconds
        clock = StageClock(self.name, budget)
        try:
            return self._run(candidate, context, clock)
        except PatchRejectedError as exc:
            return _refused(clock, exc)
        except (GitError, OSError, RuntimeError) as exc:
            return clock.error(causes.HARNESS_ERROR, f"recloop could not check the change: {exc}")

    def _run(self, candidate: Submission, context: CascadeContext, clock: StageClock) -> Verdict:
        files = [f for f in candidate.changed_files if refuse_path_syntax(f) is None]
        champion = context.champion_files(files)
        with tempfile.TemporaryDirectory(prefix="recloop-structural-") as tmp:
            new, base = Path(tmp) / "new", Path(tmp) / "base"
            _write_tree(new, champion)
            _write_tree(base, champion)
            run_git(["init", "--quiet", "--template="], new)  # a repository root, no hooks
            applied = apply_patch(new, candidate.patch, context.policy)
            added, removed = changed_lines(candidate.patch)
            details = {
                "changed_files": applied.paths,
                "added_lines": added,
                "removed_lines": removed,
            }
            refusal = _too_large(clock, context, applied, added + removed, details)
            if refusal is not None:
                return refusal
            python = [c for c in applied.changes if c.kind != "delete" and c.path.endswith(".py")]
            trees: dict[str, ast.Module] = {}
            for change in python:
                text = (new / change.path).read_bytes()
                try:
                    trees[change.path] = ast.parse(text, filename=change.path)
                except SyntaxError as exc:
                    where = Location(path=change.path, line=exc.lineno, message=str(exc.msg))
                    return clock.reject(
                        causes.SYNTAX_ERROR,
                        f"{where.path}:{where.line or '?'} does not parse: {exc.msg}.",
                        Evidence(locations=[where], details=details),
                    )
            findings = _static_findings(context, trees, champion, applied)
            if findings:
                return _finding_verdict(clock, findings, details)
            if context.settings.lint:
                found = lint(new, base, [c.path for c in python], clock.remaining)
                if found is None:
                    details["lint"] = "skipped: ruff is not installed"
                elif found:
                    return _finding_verdict(clock, found, details)
        commit = _materialize(candidate, context)
        details["commit"] = commit
        return clock.passed(
            causes.PASSED,
            f"The patch applies to {len(applied.changes)} editable file(s) (+{added}/-{removed} "
            f"lines), parses, and imports and reaches only what the manifest allows; "
            f"committed as {commit[:10]}.",
            Evidence(details=details),
        )


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _refused(clock: StageClock, exc: PatchRejectedError) -> Verdict:
    first = exc.rejections[0]
    locations = [Location(path=r.path, message=f"[{r.cause}] {r.reason}") for r in exc.rejections]
    return clock.reject(
        first.cause,
        f"The patch was refused: {first}.",
        Evidence(locations=locations, details={"causes": sorted(exc.causes)}),
    )


def _too_large(
    clock: StageClock,
    context: CascadeContext,
    applied: AppliedPatch,
    lines: int,
    details: dict[str, object],
) -> Verdict | None:
    settings = context.settings
    n_files = len(applied.changes)
    if lines <= settings.max_changed_lines and n_files <= settings.max_changed_files:
        return None
    return clock.reject(
        causes.DIFF_TOO_LARGE,
        f"The change is {lines} lines in {n_files} file(s), above the limit of "
        f"{settings.max_changed_lines} lines and {settings.max_changed_files} files.",
        Evidence(details=details),
    )


def _static_findings(
    context: CascadeContext,
    trees: dict[str, ast.Module],
    champion: dict[str, bytes],
    applied: AppliedPatch,
) -> list[Finding]:
    """New static findings over every changed Python file, by priority."""
    first_party = context.first_party | _top_level_names(context, trees)
    deps = frozenset(context.manifest.recommender.dependencies)
    origin = {c.path: c.old_path or c.path for c in applied.changes}
    out: list[Finding] = []
    for path, tree in trees.items():
        found = scan_source(path, tree, first_party=first_party, dependencies=deps)
        before = champion.get(origin[path])
        if before is not None and found:
            try:
                old_tree = ast.parse(before, filename=path)
            except SyntaxError:
                old_tree = None
            if old_tree is not None:
                old = scan_source(path, old_tree, first_party=first_party, dependencies=deps)
                found = new_findings(found, old)
        out += found
    return sorted(out, key=lambda f: (PRIORITY.index(f.cause), f.path, f.line))


def _top_level_names(context: CascadeContext, paths: Iterable[str]) -> frozenset[str]:
    """Top-level module names the change's files live in (new modules are first-party too)."""
    source = PurePosixPath(context.manifest.recommender.source_dir)
    names = set()
    for path in map(PurePosixPath, paths):
        if source == PurePosixPath(".") or path.is_relative_to(source):
            rel = path if source == PurePosixPath(".") else path.relative_to(source)
            names.add(rel.parts[0].removesuffix(".py"))
    return frozenset(names)


def _finding_verdict(
    clock: StageClock, findings: list[Finding], details: dict[str, object]
) -> Verdict:
    first = findings[0]
    return clock.reject(
        first.cause,
        f"{first.path}:{first.line}: {first.message}.",
        Evidence(locations=[f.location() for f in findings], details=details),
    )


def _materialize(candidate: Submission, context: CascadeContext) -> str:
    """Make the candidate's worktree from the champion, apply the patch there, commit it."""
    candidates = context.candidates
    if context.worktree(candidate.name) is not None:
        candidates.remove(candidate.name)  # a rerun (after a crash) starts from scratch
    else:
        with contextlib.suppress(GitError):  # a branch left without its worktree
            candidates.remove(candidate.name)
    made = candidates.create(candidate.name)
    if made.base != context.champion_commit:
        candidates.remove(candidate.name)
        raise GitError(
            ["worktree", "add"],
            1,
            f"the champion moved from {context.champion_commit[:10]} to {made.base[:10]}; "
            "judge the candidate in a new context",
        )
    try:
        apply_patch(made.path, candidate.patch, context.policy)
    except PatchRejectedError:
        candidates.remove(candidate.name)
        raise
    family = f" ({candidate.proposal_family})" if candidate.proposal_family else ""
    return candidates.commit(candidate.name, f"recloop candidate {candidate.name}{family}")
