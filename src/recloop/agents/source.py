"""Edit Python source by its syntax tree: find a symbol with `ast`, splice text at its lines.

A transformation never searches for strings in the team's code. It asks for a class, function or
method by qualified name (`Recommender.fit`), a module-level constant by name, or the module's
import block; the tree gives the exact lines (decorators included), and the new code is put in
their place, indented like the code it replaces. Everything outside the spliced lines, comments
and formatting included, is left as it was. After every edit the text is parsed again, so a
splice that would produce invalid Python fails at once with `SourceEditError`.

Stdlib `ast` suffices because the edits replace whole statements; a concrete-syntax library
(libcst) would only be needed to rewrite expressions inside a statement while keeping comments.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

Literal_ = bool | int | float | str
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class SourceEditError(ValueError):
    """A symbol is missing, ambiguous, or an edit would leave the file unparseable."""


@dataclass(frozen=True)
class Span:
    """The 1-based first and last line of a statement (decorators included) and its indent."""

    first: int
    last: int
    indent: int


class PythonSource:
    """A Python file's text, edited statement by statement (see the module docstring)."""

    def __init__(self, text: str, path: str = "<source>") -> None:
        self.path = path
        self._text = text
        self._tree = self._parse(text)

    @property
    def text(self) -> str:
        return self._text

    @property
    def tree(self) -> ast.Module:
        return self._tree

    # -- finding -------------------------------------------------------------------------------

    def has(self, qualname: str) -> bool:
        """Whether a class, function or method with this qualified name exists."""
        return self._find(qualname) is not None

    def node(self, qualname: str) -> _Def:
        found = self._find(qualname)
        if found is None:
            raise SourceEditError(f"{self.path}: no class or function {qualname!r}")
        return found

    def span(self, qualname: str) -> Span:
        return _span(self.node(qualname))

    def segment(self, qualname: str) -> str:
        """The source lines of a symbol, decorators included, dedented."""
        span = self.span(qualname)
        lines = self._text.splitlines(keepends=True)[span.first - 1 : span.last]
        return textwrap.dedent("".join(lines))

    def constant(self, name: str) -> Literal_ | None:
        """The value of a module-level `NAME = literal`, None if there is none."""
        node = self._constant_node(name)
        if node is None:
            return None
        value = ast.literal_eval(node.value) if node.value is not None else None
        return value if isinstance(value, bool | int | float | str) else None

    # -- editing -------------------------------------------------------------------------------

    def replace(self, qualname: str, code: str) -> None:
        """Put `code` (any indentation) in place of a symbol, at the symbol's indentation."""
        span = self.span(qualname)
        self._splice(span.first, span.last, _indent(code, span.indent))

    def insert_after(self, qualname: str, code: str) -> None:
        """Put `code` after a symbol, separated like top-level (2 blank lines) or class members."""
        span = self.span(qualname)
        gap = "\n\n" if span.indent == 0 else "\n"
        self._splice(span.last + 1, span.last, gap + _indent(code, span.indent))

    def insert_before(self, qualname: str, code: str) -> None:
        """Put `code` before a symbol (and its decorators)."""
        span = self.span(qualname)
        gap = "\n\n" if span.indent == 0 else "\n"
        self._splice(span.first, span.first - 1, _indent(code, span.indent) + gap)

    def set_constant(self, name: str, value: Literal_, comment: str | None = None) -> None:
        """Set a module-level `NAME = value`, keeping its line's comment; add it if missing.

        A new constant goes after the last module-level constant (or after the imports), with
        `comment` as a trailing comment.
        """
        node = self._constant_node(name)
        literal = python_literal(value)
        if node is not None and node.value is not None:
            lines = self._text.splitlines(keepends=True)
            start, end = node.value.lineno, node.value.end_lineno or node.value.lineno
            head = lines[start - 1][: node.value.col_offset]
            tail = lines[end - 1][node.value.end_col_offset or 0 :]
            self._splice(start, end, head + literal + tail)
            return
        line = f"{name} = {literal}" + (f"  # {comment}" if comment else "") + "\n"
        anchor = self._constant_anchor()
        if anchor is None:
            raise SourceEditError(f"{self.path}: no import or constant to put {name} after")
        spacer = "" if self._is_constant_line(anchor) else "\n"  # a blank line after imports
        self._splice(anchor + 1, anchor, spacer + line)

    def statements(self, qualname: str) -> list[ast.stmt]:
        """Every statement inside a function or class body, nested blocks included, in order."""
        found: list[ast.stmt] = []
        for node in ast.walk(self.node(qualname)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    found += [s for s in block if isinstance(s, ast.stmt)]
        return sorted(found, key=lambda s: (s.lineno, s.col_offset))

    def find_statement(
        self, qualname: str, predicate: Callable[[ast.stmt], bool], what: str
    ) -> ast.stmt:
        """The one statement in a symbol's body that `predicate` picks (`what` names it)."""
        found = [s for s in self.statements(qualname) if predicate(s)]
        if len(found) != 1:
            count = "no" if not found else f"{len(found)}"
            raise SourceEditError(f"{self.path}: {qualname} has {count} {what} (expected one)")
        return found[0]

    def replace_statement(self, node: ast.stmt, code: str) -> None:
        """Put `code` in place of a statement (its whole lines), at its indentation."""
        self._splice(node.lineno, node.end_lineno or node.lineno, _indent(code, node.col_offset))

    def insert_before_statement(self, node: ast.stmt, code: str) -> None:
        self._splice(node.lineno, node.lineno - 1, _indent(code, node.col_offset))

    def insert_after_statement(self, node: ast.stmt, code: str) -> None:
        last = node.end_lineno or node.lineno
        self._splice(last + 1, last, _indent(code, node.col_offset))

    def expression_text(self, node: ast.expr) -> str:
        text = ast.get_source_segment(self._text, node)
        if text is None:
            raise SourceEditError(f"{self.path}:{node.lineno}: no source for this expression")
        return text

    def replace_expression(self, node: ast.expr, code: str) -> None:
        """Put `code` in place of an expression (columns, not lines); `code` may span lines."""
        lines = self._text.splitlines(keepends=True)
        first, last = node.lineno, node.end_lineno or node.lineno
        head = lines[first - 1][: node.col_offset]
        tail = lines[last - 1][node.end_col_offset or 0 :]
        self._splice(first, last, head + code + tail)

    # -- internals -----------------------------------------------------------------------------

    def _parse(self, text: str) -> ast.Module:
        try:
            return ast.parse(text, filename=self.path)
        except SyntaxError as exc:
            raise SourceEditError(f"{self.path}:{exc.lineno}: {exc.msg}") from exc

    def _splice(self, first: int, last: int, code: str) -> None:
        """Replace lines first..last (1-based, inclusive; last = first - 1 inserts) by `code`."""
        lines = self._text.splitlines(keepends=True)
        if code and not code.endswith("\n"):
            code += "\n"
        text = "".join([*lines[: first - 1], code, *lines[last:]])
        self._tree = self._parse(text)
        self._text = text

    def _find(self, qualname: str) -> _Def | None:
        scope: list[ast.stmt] = self._tree.body
        found: _Def | None = None
        for part in qualname.split("."):
            matches = [n for n in scope if isinstance(n, _Def) and n.name == part]
            if len(matches) > 1:
                raise SourceEditError(f"{self.path}: {qualname!r} is defined more than once")
            if not matches:
                return None
            found = matches[0]
            scope = found.body
        return found

    def _constant_node(self, name: str) -> ast.Assign | ast.AnnAssign | None:
        for node in self._tree.body:
            if isinstance(node, ast.Assign) and [_target(t) for t in node.targets] == [name]:
                return node
            if isinstance(node, ast.AnnAssign) and _target(node.target) == name:
                return node
        return None

    def _constant_anchor(self) -> int | None:
        """The last line of the last top-level import or constant before the first definition."""
        anchor: int | None = None
        for node in self._tree.body:
            if isinstance(node, _Def):
                break
            if isinstance(node, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign):
                anchor = node.end_lineno
        return anchor

    def _is_constant_line(self, line: int) -> bool:
        return any(
            isinstance(n, ast.Assign | ast.AnnAssign) and n.end_lineno == line
            for n in self._tree.body
        )


def python_literal(value: Literal_) -> str:
    """Source text of a scalar: `True`, `3`, `0.25`, `"text"`."""
    if isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        text = repr(float(value))
        return text if "e" in text or "." in text or "n" in text else text + ".0"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _span(node: _Def) -> Span:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return Span(first, node.end_lineno or node.lineno, node.col_offset)


def _target(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _indent(code: str, columns: int) -> str:
    body = textwrap.dedent(code).strip("\n") + "\n"
    return textwrap.indent(body, " " * columns) if columns else body


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a name or attribute chain, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def calls(node: ast.AST, suffix: str) -> list[ast.Call]:
    """The calls inside `node` whose callee's dotted name is `suffix` or ends with `.suffix`."""
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            name = dotted_name(child.func) or ""
            if name == suffix or name.endswith("." + suffix):
                found.append(child)
    return found


def assigns_to(node: ast.stmt, target: str) -> bool:
    """Whether a statement assigns `target` (a name or `self.attr`), plainly or annotated."""
    if isinstance(node, ast.Assign):
        return any(dotted_name(t) == target for t in node.targets)
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return dotted_name(node.target) == target
    return False


def bound_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The parameters of a function and the plain names its body assigns."""
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    names = {a.arg for a in params}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
    return names
