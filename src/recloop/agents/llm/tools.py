"""The Develop agent's read-only tools, confined to one candidate's worktree.

`WorkspaceTools` answers the model's `read_file`, `search` and `view_map` actions with text.
Every path the model names goes through `ReadPolicy.refuse` first: it must be a plain relative
path (no absolute path, no `..`, no `.git`: `workspace.patch.refuse_path_syntax`), must not go
through a symlink, must resolve inside the worktree, and must not be hidden. A refusal is raised
as `ToolRefused` and shown to the model as such; nothing is ever written.

What may be read: every file of the repository except the hidden ones — `.git`, recloop's
`.recloop/` folder (its cache holds the champion's per-user metrics) and the team's own data
log and item table when `[data.source]` names them (the evaluation data must never reach a
prompt; recloop's datasets live outside the workspace anyway). Protected files (the manifest,
the team's tests) may be read: reading them changes nothing, and they tell the agent the rules
its change is judged by. Writing them is refused by the path policy, whatever the model says.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from recloop.agents.llm.actions import ReadFile, Search, ToolAction
from recloop.workspace.git import run_git
from recloop.workspace.manifest import RECLOOP_DIR, Manifest
from recloop.workspace.patch import refuse_path_syntax, through_symlink
from recloop.workspace.repomap import RepoMap, build_repo_map

MAX_READ_BYTES = 200_000
MAX_READ_LINES = 400  # per read_file; the model reads on with `start`
MAX_SEARCH_HITS = 40
MAX_HIT_CHARS = 200


class ToolRefused(Exception):
    """The harness refused a tool call; the message says why (and is shown to the model)."""


@dataclass(frozen=True)
class ReadPolicy:
    """Paths never read (each with everything below it), and the largest file read."""

    hidden: tuple[str, ...] = (".git", RECLOOP_DIR)
    max_bytes: int = MAX_READ_BYTES

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> ReadPolicy:
        """Hidden: `.git`, `.recloop/`, and the team's data log and item table if in the repo."""
        hidden = [".git", RECLOOP_DIR]
        source = manifest.data.source
        if source is not None:
            for path in (source.path, source.items):
                if path is not None and not path.is_absolute():
                    hidden.append(PurePosixPath(path.as_posix()).as_posix())
        return cls(hidden=tuple(hidden))

    def is_hidden(self, path: str) -> bool:
        return any(path == h or path.startswith(f"{h}/") for h in self.hidden)

    def refuse(self, root: Path, path: str) -> str | None:
        """Why `path` may not be read in the worktree `root` (None if it may)."""
        syntax = refuse_path_syntax(path)
        if syntax is not None:
            return f"{syntax.reason} ({syntax.cause}); give a path relative to the repository root"
        if self.is_hidden(path):
            return "this path is hidden from agents (repository internals or evaluation data)"
        if through_symlink(root, path):
            return "the path is or goes through a symlink"
        if not (root / path).resolve().is_relative_to(root.resolve()):
            return "the path leads outside the repository"
        return None


class WorkspaceTools:
    """The read-only tools over one worktree (see the module docstring)."""

    def __init__(self, root: str | Path, policy: ReadPolicy, source_dir: str = ".") -> None:
        self.root = Path(root).resolve()
        self.policy = policy
        self.source_dir = source_dir

    @cached_property
    def repo_map(self) -> RepoMap:
        return build_repo_map(self.root, self.source_dir)

    def run(self, action: ToolAction) -> str:
        """The tool's answer to the model, or the refusal as text."""
        try:
            if isinstance(action, ReadFile):
                return self.read_file(action.path, action.start, action.end)
            if isinstance(action, Search):
                return self.search(action.pattern)
            return self.view_map(action.module)
        except ToolRefused as exc:
            return f"REFUSED by the harness: {exc}"

    def read_file(self, path: str, start: int | None = None, end: int | None = None) -> str:
        """Lines `start`..`end` of a file, numbered (at most `MAX_READ_LINES` per call)."""
        rel = self._checked(path)
        target = self.root / rel
        if not target.is_file():
            raise ToolRefused(f"{rel}: no such file")
        if target.stat().st_size > self.policy.max_bytes:
            raise ToolRefused(f"{rel}: larger than {self.policy.max_bytes:,} bytes")
        try:
            lines = target.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise ToolRefused(f"{rel}: not a UTF-8 text file") from None
        first = max(start or 1, 1)
        last = min(end or len(lines), len(lines), first + MAX_READ_LINES - 1)
        if lines and first > len(lines):
            raise ToolRefused(f"{rel} has {len(lines)} lines; start={first} is past the end")
        body = "\n".join(f"{n:>5}| {lines[n - 1]}" for n in range(first, last + 1))
        more = f"; read on with start={last + 1}" if last < len(lines) else ""
        return f"{rel} (lines {first}-{last} of {len(lines)}{more}):\n{body}"

    def search(self, pattern: str) -> str:
        """Symbols named `pattern`, then lines containing it (a literal, case-insensitive text:
        a model's regular expression could backtrack for minutes)."""
        symbols = [
            f"  {s.kind} {s.module}.{s.qualname}{s.signature}  {s.path}:{s.line}-{s.end_line}"
            for s in self.repo_map.find_symbol(pattern)
        ]
        hits = self._text_hits(pattern.casefold())
        shown = hits[:MAX_SEARCH_HITS]
        out = [f"symbols named {pattern!r}:", *(symbols or ["  (none)"])]
        out.append(f"lines containing {pattern!r} ({len(hits)} found, {len(shown)} shown):")
        out += shown or ["  (none)"]
        return "\n".join(out)

    def view_map(self, module: str | None = None) -> str:
        """The whole repository map, or one module and its import neighbours."""
        if module is None:
            return self.repo_map.render()
        try:
            related = self.repo_map.related_modules(module)
        except KeyError:
            known = ", ".join(m.name for m in self.repo_map.modules)
            raise ToolRefused(f"no module {module!r}; the modules are: {known}") from None
        return self.repo_map.render([module, *related])

    def map_excerpt(self, files: tuple[str, ...]) -> str:
        """The map of the modules in `files` and their neighbours (the whole map without any)."""
        paths = set(files)
        named = [m.name for m in self.repo_map.modules if m.path in paths]
        if not named:
            return self.repo_map.render()
        wanted = dict.fromkeys(
            n for name in named for n in (name, *self.repo_map.related_modules(name))
        )
        return self.repo_map.render(wanted)

    def _checked(self, path: str) -> str:
        rel = path.removeprefix("./")
        reason = self.policy.refuse(self.root, rel)
        if reason is not None:
            raise ToolRefused(f"{path}: {reason}")
        return rel

    def _text_hits(self, needle: str) -> list[str]:
        hits: list[str] = []
        for rel in self._readable_files():
            try:
                text = (self.root / rel).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            hits += [
                f"  {rel}:{n}: {line.strip()[:MAX_HIT_CHARS]}"
                for n, line in enumerate(text.splitlines(), 1)
                if needle in line.casefold()
            ]
        return hits

    def _readable_files(self) -> list[str]:
        """The worktree's tracked files the policy lets the model read, by path."""
        out = run_git(["ls-files", "-z"], self.root).decode("utf-8", "surrogateescape")
        return [
            rel
            for rel in sorted(filter(None, out.split("\0")))
            if self.policy.refuse(self.root, rel) is None
            and (self.root / rel).is_file()
            and (self.root / rel).stat().st_size <= self.policy.max_bytes
        ]
