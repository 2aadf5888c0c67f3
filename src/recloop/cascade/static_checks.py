"""Static checks of changed Python code: what it imports and how it could reach outside.

A candidate's code runs in the sandbox, which already denies the network, hides the data and
makes everything but a scratch folder read-only. These checks refuse the *attempt* before
anything runs, and name the file and line:

- imports: recloop itself (`harness-import`: the code that judges it), a standard-library
  module on `rules.DENIED_IMPORTS` (`denied-import`), a third-party package the manifest does not
  declare (`undeclared-import`); the workspace's own modules, `__future__`, the rest of the
  standard library and `recommender.dependencies` are allowed;
- `path-outside-worktree`: a string literal that is an absolute path (`/data/u.data`, `~/x`,
  `C:\\x`) or has a `..` segment, and `Path(__file__)` climbed (`.parent`, `.parents[n]`,
  `os.path.dirname`) above the worktree's root;
- `environment-read` (os.environ, os.getenv), `dynamic-code` (eval, exec, compile,
  __import__), `process-control` (os.system, os.popen, exec, spawn, fork, kill),
  `frame-access` (sys._getframe, sys.modules, frame and function internals, gc's object
  graph), `monkeypatch` (assigning into, deleting from or `setattr` on something imported from
  outside the workspace), `file-write` (open for writing, Path.write_text and friends, numpy
  savers, os file operations).

Findings carry a signature (cause and source text, no line number) so the structural stage can
hold a candidate only to findings its change introduced (`new_findings`).
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from recloop.cascade import causes
from recloop.cascade.rules import (
    ABSOLUTE_PATH,
    BUILTINS,
    DENIED_IMPORTS,
    FRAME_ATTRS,
    HARNESS_PACKAGE,
    OPENERS,
    PARENT_SEGMENT,
    PATH_CALLS,
    PRIORITY,
    WATCHED,
    WRITE_METHODS,
)
from recloop.cascade.verdict import Location
from recloop.workspace.repomap import is_stdlib


@dataclass(frozen=True)
class Finding:
    """One problem in one file: cause code, place, sentence, and a line-free signature."""

    cause: str
    path: str
    line: int
    message: str
    signature: str

    def location(self) -> Location:
        return Location(path=self.path, line=self.line, message=f"[{self.cause}] {self.message}")


def scan_source(
    path: str,
    tree: ast.Module,
    *,
    first_party: frozenset[str],
    dependencies: frozenset[str],
) -> list[Finding]:
    """Every finding in one parsed file (`path` relative to the worktree root), by priority."""
    scanner = _Scanner(path, first_party, dependencies)
    scanner.scan(tree)
    unique: dict[tuple[str, int], Finding] = {}
    for finding in scanner.findings:  # one per cause and line (a chain is reported once)
        unique.setdefault((finding.cause, finding.line), finding)
    return sorted(unique.values(), key=lambda f: (PRIORITY.index(f.cause), f.path, f.line))


def new_findings(candidate: list[Finding], champion: list[Finding]) -> list[Finding]:
    """The candidate's findings beyond the champion's (same signature counts as the same)."""
    left = Counter(f.signature for f in champion)
    out = []
    for finding in candidate:
        if left[finding.signature] > 0:
            left[finding.signature] -= 1
        else:
            out.append(finding)
    return out


class _Scanner:
    def __init__(self, path: str, first_party: frozenset[str], deps: frozenset[str]) -> None:
        self.path = path
        self.first_party = first_party
        self.dependencies = deps
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.depth = len(PurePosixPath(path).parts)  # levels above the file up to the root

    def add(self, cause: str, node: ast.AST, message: str) -> None:
        text = ast.unparse(node) if isinstance(node, ast.expr | ast.stmt) else ""
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(cause, self.path, line, message, f"{cause}|{text}"))

    def scan(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._imports(node)
        docstrings: set[int] = set()  # string statements (docstrings): not paths
        for node in ast.walk(tree):  # breadth first: a statement before its expression
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                docstrings.add(id(node.value))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) not in docstrings:
                    self._literal(node)
            elif isinstance(node, ast.Name | ast.Attribute):
                self._reference(node)
            elif isinstance(node, ast.Subscript):
                self._climb(node)
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                self._assignment(node)

    # -- imports -----------------------------------------------------------------------------

    def _imports(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._check_module(alias.name, node)
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else local
            return
        if node.level:  # a relative import stays inside the workspace's package
            return
        module = node.module or ""
        self._check_module(module, node)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _check_module(self, module: str, node: ast.stmt) -> None:
        top = module.split(".")[0]
        if top == HARNESS_PACKAGE:
            self.add(causes.HARNESS_IMPORT, node, f"imports {module}, the harness that judges it")
        elif top == "__future__" or top in self.first_party:
            return
        elif top in DENIED_IMPORTS:
            self.add(causes.DENIED_IMPORT, node, f"imports {module}: {DENIED_IMPORTS[top]}")
        elif not is_stdlib(top) and top not in self.dependencies:
            self.add(
                causes.UNDECLARED_IMPORT,
                node,
                f"imports {module}, which is not among the manifest's dependencies "
                f"({', '.join(sorted(self.dependencies)) or 'none'})",
            )

    # -- names, literals, calls, assignments ---------------------------------------------------

    def qualname(self, node: ast.expr) -> str | None:
        """`np.save` -> "numpy.save" through the file's imports; bare built-ins as builtins.X."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            return f"builtins.{node.id}" if node.id in BUILTINS else None
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def _external(self, qualname: str | None) -> bool:
        """Whether a qualified name comes from outside the workspace (a module or its member)."""
        if qualname is None or qualname.startswith("builtins."):
            return False
        return qualname.split(".")[0] not in self.first_party

    def _literal(self, node: ast.Constant) -> None:
        text = str(node.value)
        if "\n" in text or len(text) > 4096:
            return
        if ABSOLUTE_PATH.match(text) or PARENT_SEGMENT.search(text):
            self.add(
                causes.PATH_OUTSIDE_WORKTREE,
                node,
                f"the path {text!r} points outside the worktree (absolute or through '..')",
            )

    def _reference(self, node: ast.Name | ast.Attribute) -> None:
        if isinstance(node, ast.Attribute) and node.attr in FRAME_ATTRS:
            self.add(causes.FRAME_ACCESS, node, f"reaches {node.attr}, the interpreter's internals")
            return
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            self.add(causes.FRAME_ACCESS, node, "reaches __builtins__")
            return
        qualname = self.qualname(node)
        if qualname in WATCHED:
            cause, what = WATCHED[qualname]
            self.add(cause, node, f"{qualname} {what}")
        if isinstance(node, ast.Attribute):
            self._climb(node)

    def _climb(self, node: ast.expr) -> None:
        levels = self._levels(node)
        if levels is not None and levels > self.depth:
            self.add(
                causes.PATH_OUTSIDE_WORKTREE,
                node,
                f"climbs {levels} levels above {self.path}, past the worktree's root",
            )

    def _levels(self, node: ast.expr) -> int | None:
        """How many folders above this file a `__file__`-based path expression points (0 = it)."""
        if isinstance(node, ast.Name):
            return 0 if node.id == "__file__" else None
        if isinstance(node, ast.Call):
            func = node.func
            name = self.qualname(func)
            if name in PATH_CALLS and node.args:
                return self._levels(node.args[0])
            if name == "os.path.dirname" and node.args:
                inner = self._levels(node.args[0])
                return None if inner is None else inner + 1
            if isinstance(func, ast.Attribute) and func.attr in ("resolve", "absolute"):
                return self._levels(func.value)
            return None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = self._levels(node.value)
            return None if inner is None else inner + 1
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            inner = self._levels(node.value.value)
            return None if inner is None else inner + node.slice.value + 1
        return None

    def _call(self, node: ast.Call) -> None:
        self._climb(node)
        func = node.func
        name = self.qualname(func)
        mode = _mode_argument(node, 1 if name in OPENERS else 0)
        opener = name in OPENERS or (isinstance(func, ast.Attribute) and func.attr == "open")
        if opener and mode is not None and set(mode) & set("wax+"):
            self.add(causes.FILE_WRITE, node, f"opens a file for writing (mode {mode!r})")
        elif isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            self.add(causes.FILE_WRITE, node, f".{func.attr}() changes the file system")
        elif name in ("builtins.setattr", "builtins.delattr") and node.args:
            target = self.qualname(node.args[0])
            if self._external(target):
                self.add(causes.MONKEYPATCH, node, f"{name.split('.')[1]}() on {target}")

    def _assignment(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> None:
        targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
        for target in targets:
            for part in _written(target):
                base = self.qualname(part.value)
                if self._external(base):
                    self.add(
                        causes.MONKEYPATCH,
                        node,
                        f"changes {ast.unparse(part)}, which belongs to {base}",
                    )


def _written(target: ast.expr) -> list[ast.Attribute | ast.Subscript]:
    """The attribute and item accesses an assignment target writes through (not its indices)."""
    if isinstance(target, ast.Tuple | ast.List):
        return [part for element in target.elts for part in _written(element)]
    if isinstance(target, ast.Starred):
        return _written(target.value)
    out: list[ast.Attribute | ast.Subscript] = []
    node = target
    while isinstance(node, ast.Attribute | ast.Subscript):
        out.append(node)
        node = node.value
    return out


def _mode_argument(node: ast.Call, position: int) -> str | None:
    """The literal `mode` of an open-like call (keyword, or positional at `position`)."""
    for keyword in node.keywords:
        if keyword.arg == "mode" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if len(node.args) > position:
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None
