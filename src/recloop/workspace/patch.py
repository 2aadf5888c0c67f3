"""Apply an agent's change to a candidate worktree, or refuse it with a cause code and a reason.

A change arrives as a unified diff (`apply_patch`) or as whole files (`write_files`). Both are
checked against a `PathPolicy` before anything in the worktree is written:

1. recloop reads the patch's headers itself (`unidiff`): absolute paths and `..` are refused
   here, because git would silently strip `/etc/passwd` to `etc/passwd`; binary patches and
   symlink modes too;
2. git reads it (`git apply --numstat --summary -z`): the paths git will touch are checked against
   the policy (editable and protected globs, `.git`, paths through an existing symlink,
   deletes and renames of protected files); recloop and git must agree on the number of files;
3. `git apply --check` in the worktree, then the patch is applied to a scratch copy of the files
   it touches to measure every resulting file against the size limit;
4. only then `git apply` in the worktree.

Cause codes and the error type are listed in `recloop.workspace.errors`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NoReturn

from recloop.workspace.errors import Cause, GitError, PatchRejectedError, Rejection
from recloop.workspace.git import run_git
from recloop.workspace.globs import matches
from recloop.workspace.unidiff import FileSection, parse_patch, strip_first

DEFAULT_MAX_FILE_BYTES = 1_000_000
REGULAR_MODES = ("100644", "100755")
SYMLINK_MODE = "120000"
_SUMMARY_MODE = re.compile(r"(?:mode|=>) (\d{6}) ")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class PathPolicy:
    """What a change may touch: editable globs, protected globs (which win) and a size limit."""

    editable: tuple[str, ...]
    protected: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "editable", tuple(self.editable))
        object.__setattr__(self, "protected", tuple(self.protected))
        if self.max_file_bytes < 1:
            raise ValueError("max_file_bytes must be positive")
        matches("", (*self.editable, *self.protected))  # compiles every glob, or raises

    def refuse_write(self, path: str) -> Rejection | None:
        """Why `path` may not be created or changed (None if it may)."""
        if matches(path, self.protected):
            return Rejection("protected-path", path, "a protected glob matches this path")
        if not matches(path, self.editable):
            return Rejection("outside-editable", path, "no editable glob matches this path")
        return None

    def refuse_removal(self, path: str, renamed: bool) -> Rejection | None:
        """Why `path` may not be deleted (or renamed away, when `renamed`)."""
        if matches(path, self.protected):
            cause: Cause = "protected-rename" if renamed else "protected-delete"
            verb = "renamed" if renamed else "deleted"
            return Rejection(cause, path, f"a protected file cannot be {verb}")
        if not matches(path, self.editable):
            return Rejection("outside-editable", path, "no editable glob matches this path")
        return None


@dataclass(frozen=True)
class FileChange:
    """One file a patch changes, as git will apply it."""

    path: str  # the path git reports (the new name; the old one for a deletion)
    kind: str  # "create", "delete", "modify", "rename" or "copy"
    old_path: str | None = None  # the source of a rename or copy


@dataclass(frozen=True)
class AppliedPatch:
    """What `apply_patch` / `write_files` changed, and the resulting size of each written file."""

    changes: tuple[FileChange, ...]
    sizes: dict[str, int]

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


def refuse_path_syntax(path: str) -> Rejection | None:
    """Why a path is not a plain relative path inside the worktree (None if it is one)."""
    if path.startswith("/"):
        return Rejection("absolute-path", path, "absolute paths are not allowed")
    parts = path.split("/")
    if ".." in parts:
        return Rejection("path-traversal", path, "'..' may not appear in a path")
    if not path or "" in parts or "." in parts or _CONTROL.search(path):
        return Rejection(
            "invalid-path", path, "empty segments, '.' and control characters are not allowed"
        )
    if ".git" in parts:
        return Rejection("git-internal", path, "paths inside .git cannot be changed")
    return None


def through_symlink(worktree: Path, path: str) -> bool:
    """Whether `path` or any folder on the way to it is an existing symlink in the worktree."""
    current = worktree
    for part in PurePosixPath(path).parts:
        current = current / part
        if current.is_symlink():
            return True
        if not current.exists():
            return False
    return False


def check_patch(worktree: str | Path, patch: str | bytes, policy: PathPolicy) -> list[FileChange]:
    """Every file the patch changes, or `PatchRejectedError` listing why it is refused.

    Nothing in the worktree is written; `git apply --check` has passed when this returns.
    """
    worktree = Path(worktree)
    data = patch.encode("utf-8", "surrogateescape") if isinstance(patch, str) else patch
    sections = parse_patch(data)
    if not data.strip() or not sections:
        _reject(
            "empty-patch",
            "the patch names no file (expected unified diff headers '--- a/path' and "
            "'+++ b/path', or 'diff --git a/path b/path')",
        )
    _raise_if(_raw_rejections(sections))
    numstat = _git_numstat(worktree, data)
    if len(numstat) != len(sections):
        _reject(
            "malformed-patch",
            f"recloop reads {len(sections)} file section(s) but git reads {len(numstat)}; "
            "fix the diff headers",
        )
    changes = [
        _change(section, git_path) for section, (git_path, _) in zip(sections, numstat, strict=True)
    ]
    rejections = [
        Rejection("binary", path, "binary changes are not accepted")
        for path, binary in numstat
        if binary
    ]
    for section, change in zip(sections, changes, strict=True):
        rejections += _policy_rejections(worktree, section, change, policy)
    _raise_if(rejections)
    try:
        run_git(["apply", "--check", "-"], worktree, input=data)
    except GitError as exc:
        _reject("does-not-apply", f"git apply --check refused it: {exc.stderr}")
    return changes


def apply_patch(worktree: str | Path, patch: str | bytes, policy: PathPolicy) -> AppliedPatch:
    """Check the patch (see `check_patch`), measure its result, then apply it to the worktree."""
    worktree = Path(worktree)
    data = patch.encode("utf-8", "surrogateescape") if isinstance(patch, str) else patch
    changes = check_patch(worktree, data, policy)
    sizes = _sizes_after(worktree, data, changes)
    _raise_if(
        [
            Rejection(
                "file-too-large",
                path,
                f"would be {size:,} bytes, above the limit of {policy.max_file_bytes:,}",
            )
            for path, size in sizes.items()
            if size > policy.max_file_bytes
        ]
    )
    try:
        run_git(["apply", "-"], worktree, input=data)
    except GitError as exc:
        _reject("does-not-apply", f"git apply failed: {exc.stderr}")
    return AppliedPatch(tuple(changes), sizes)


def write_files(
    worktree: str | Path, files: Mapping[str, str | bytes | None], policy: PathPolicy
) -> AppliedPatch:
    """Replace whole files (path -> new text; None deletes), checked like a patch."""
    worktree = Path(worktree)
    if not files:
        _reject("empty-patch", "no file to write")
    rejections: list[Rejection] = []
    changes: list[FileChange] = []
    payloads: dict[str, bytes] = {}
    for path, content in files.items():
        syntax = refuse_path_syntax(path)
        if syntax is not None:
            rejections.append(syntax)
            continue
        target = worktree / path
        if through_symlink(worktree, path):
            rejections.append(Rejection("symlink", path, "the path goes through a symlink"))
            continue
        if content is None:
            refusal = policy.refuse_removal(path, renamed=False)
            if refusal is None and not target.is_file():
                refusal = Rejection("does-not-apply", path, "no such file to delete")
            rejections += [refusal] if refusal else []
            changes.append(FileChange(path, "delete"))
            continue
        payload = content.encode("utf-8") if isinstance(content, str) else content
        refusal = policy.refuse_write(path) or _refuse_content(path, payload, policy)
        if refusal is None and target.is_dir():
            refusal = Rejection("does-not-apply", path, "a folder exists at this path")
        rejections += [refusal] if refusal else []
        payloads[path] = payload
        changes.append(FileChange(path, "modify" if target.exists() else "create"))
    _raise_if(rejections)
    for change in changes:
        target = worktree / change.path
        if change.kind == "delete":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payloads[change.path])
    return AppliedPatch(tuple(changes), {p: len(b) for p, b in payloads.items()})


def _refuse_content(path: str, payload: bytes, policy: PathPolicy) -> Rejection | None:
    if len(payload) > policy.max_file_bytes:
        return Rejection(
            "file-too-large",
            path,
            f"would be {len(payload):,} bytes, above the limit of {policy.max_file_bytes:,}",
        )
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection("binary", path, "the content is not UTF-8 text")
    if b"\0" in payload:
        return Rejection("binary", path, "the content holds NUL bytes")
    return None


def _reject(cause: Cause, reason: str) -> NoReturn:
    """Refuse the whole change for one reason that concerns no single path."""
    raise PatchRejectedError([Rejection(cause, "", reason)])


def _raise_if(rejections: Iterable[Rejection]) -> None:
    unique = list(dict.fromkeys(rejections))
    if unique:
        raise PatchRejectedError(unique)


def _raw_rejections(sections: list[FileSection]) -> list[Rejection]:
    """Absolute, `..`, binary and mode problems visible in the headers as written."""
    out: list[Rejection] = []
    for section in sections:
        for name in section.raw_names():
            if name.startswith("/"):
                out.append(Rejection("absolute-path", name, "absolute paths are not allowed"))
            elif ".." in name.split("/"):
                out.append(Rejection("path-traversal", name, "'..' may not appear in a path"))
        header = section.new_name or section.old_name
        label = strip_first(header) if header else section.rename_to or ""
        if section.binary:
            out.append(Rejection("binary", label, "binary changes are not accepted"))
        out += _mode_rejections(label, section.modes)
    return out


def _mode_rejections(path: str, modes: Iterable[str]) -> list[Rejection]:
    out = []
    for mode in modes:
        if mode == SYMLINK_MODE:
            out.append(Rejection("symlink", path, "symlinks cannot be created or changed"))
        elif mode not in REGULAR_MODES:
            out.append(Rejection("unsupported-mode", path, f"file mode {mode} is not allowed"))
    return out


def _git_numstat(worktree: Path, data: bytes) -> list[tuple[str, bool]]:
    """(path, is binary) per file as git reads the patch; summary modes are checked too."""
    try:
        out = run_git(["apply", "--numstat", "--summary", "-z", "-"], worktree, input=data)
    except GitError as exc:
        _reject("malformed-patch", f"git cannot read the patch: {exc.stderr}")
    *records, summary = out.decode("utf-8", "surrogateescape").split("\0")
    rows = []
    for record in records:
        added, _, rest = record.partition("\t")
        _, _, path = rest.partition("\t")
        rows.append((path, added == "-"))
    modes = _SUMMARY_MODE.findall(summary)
    _raise_if(_mode_rejections(rows[0][0] if rows else "", modes))
    return rows


def _change(section: FileSection, git_path: str) -> FileChange:
    if section.rename_from is not None:
        return FileChange(git_path, "rename", section.rename_from)
    if section.copy_from is not None:
        return FileChange(git_path, "copy", section.copy_from)
    if section.deleted or (section.new_name is None and section.old_name is not None):
        return FileChange(git_path, "delete")
    if section.created or (section.old_name is None and section.new_name is not None):
        return FileChange(git_path, "create")
    return FileChange(git_path, "modify")


def _policy_rejections(
    worktree: Path, section: FileSection, change: FileChange, policy: PathPolicy
) -> list[Rejection]:
    """The policy checks of one file: every path it writes, removes or reads."""
    written = {change.path} if change.kind != "delete" else set()
    removed = {change.path} if change.kind == "delete" else set()
    if change.kind == "rename" and change.old_path is not None:
        removed.add(change.old_path)
    if not section.git_header:  # a traditional diff: both header names count, as git strips them
        written |= {strip_first(n) for n in (section.old_name, section.new_name) if n}
        written -= removed
    read = {change.old_path} if change.kind == "copy" and change.old_path else set()
    out: list[Rejection] = []
    for path in sorted(written | removed | read):
        syntax = refuse_path_syntax(path)
        if syntax is not None:
            out.append(syntax)
        elif through_symlink(worktree, path):
            out.append(Rejection("symlink", path, "the path is or goes through a symlink"))
    if out:
        return out
    for path in sorted(written):
        refusal = policy.refuse_write(path)
        out += [refusal] if refusal else []
    for path in sorted(removed):
        refusal = policy.refuse_removal(path, renamed=change.kind == "rename")
        out += [refusal] if refusal else []
    return out


def _sizes_after(worktree: Path, data: bytes, changes: list[FileChange]) -> dict[str, int]:
    """Apply the patch to a scratch copy of the files it reads; size of each written file."""
    sources = {c.path for c in changes} | {c.old_path for c in changes if c.old_path}
    with tempfile.TemporaryDirectory(prefix="recloop-patch-") as scratch:
        root = Path(scratch) / "tree"
        root.mkdir()
        for path in sources:
            source = worktree / path
            if source.is_file() and not source.is_symlink():
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root / path)
        env = {"GIT_CEILING_DIRECTORIES": scratch}  # no repository: git apply acts on files
        try:
            run_git(["apply", "-"], root, input=data, env=env)
        except GitError as exc:
            _reject("does-not-apply", f"git apply failed: {exc.stderr}")
        return {c.path: os.lstat(root / c.path).st_size for c in changes if c.kind != "delete"}
