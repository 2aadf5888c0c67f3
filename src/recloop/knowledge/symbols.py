"""Which symbols a change touched: functions, classes and config keys, per file.

Two sources, used in this order of preference:

1. **The file before and after** (`changed_symbols`). Python files are compared by AST: every
   class, function and method gets a dump of its *own* code (its signature, decorators and body
   with nested classes and functions cut out, no line numbers, no comments, no formatting) and
   the module gets one for its top-level statements (`<module>`: imports, constants, calls). A
   symbol changed when its dump differs, appeared or disappeared. Reformatting, comments and
   moving a function are therefore not changes; renaming one touches the old and the new name.
   If one side does not parse (a syntax error is a common structural failure), changed lines
   are found with `difflib` and mapped onto the symbols of the side that parses.
   TOML and JSON files are compared as data: the dotted keys whose values differ.
2. **Only the unified diff** (`symbols_from_diff`), when the sources are not at hand: each
   changed line is attributed to the innermost `def`/`class` seen above it in its hunk (by
   indentation), else to the function named in the hunk header, else to `<module>`; changed TOML
   lines to `table.key`. This is coarser, so a caller should use one source consistently.

A created or deleted file, an unparseable config file or any other kind of file is the
whole file: `*`.
"""

from __future__ import annotations

import ast
import copy
import difflib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

WHOLE_FILE = "*"
MODULE = "<module>"
PYTHON_SUFFIXES = (".py", ".pyi")
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")
_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@ ?(.*)$")
_Defs = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def changed_symbols(path: str, before: str | None, after: str | None) -> frozenset[str]:
    """The symbols of one file that differ between `before` and `after` (None: no such file)."""
    if before == after:
        return frozenset()
    if before is None or after is None:
        return frozenset({WHOLE_FILE})
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return _python_symbols(before, after)
    if suffix == ".toml":
        return _data_symbols(before, after, tomllib.loads)
    if suffix == ".json":
        return _data_symbols(before, after, json.loads)
    return frozenset({WHOLE_FILE})


# -- Python, by AST ------------------------------------------------------------------------------


def _python_symbols(before: str, after: str) -> frozenset[str]:
    try:
        old, new = _own_dumps(ast.parse(before)), _own_dumps(ast.parse(after))
    except (SyntaxError, ValueError):
        return _python_line_symbols(before, after)
    return frozenset(q for q in old.keys() | new.keys() if old.get(q) != new.get(q))


class _DropDefs(ast.NodeTransformer):
    """Cut nested classes and functions out, so a node's dump is its own code only."""

    def _drop(self, node: ast.AST) -> None:
        return None

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _drop


def _own_dump(node: ast.AST) -> str:
    clone = copy.deepcopy(node)
    _DropDefs().generic_visit(clone)
    return ast.dump(clone, include_attributes=False)


def _own_dumps(tree: ast.Module) -> dict[str, str]:
    """`<module>` and every class, function and method (by qualname) -> a dump of its own code."""
    out = {MODULE: _own_dump(tree)}
    for qualname, node in _defs(tree, ""):
        name, n = qualname, 2
        while name in out:  # a redefinition (property setters, if/else variants)
            name, n = f"{qualname}#{n}", n + 1
        out[name] = _own_dump(node)
    return out


def _defs(node: ast.AST, prefix: str) -> Iterator[tuple[str, _Defs]]:
    """Nested definitions in source order with their qualnames (`Cls.method`, `f.inner`)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _Defs):
            qualname = f"{prefix}{child.name}"
            yield qualname, child
            yield from _defs(child, qualname + ".")
        else:
            yield from _defs(child, prefix)


def _spans(source: str) -> list[tuple[int, int, str]] | None:
    """(first line, last line, qualname) of every definition, decorators included; None if the
    source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans = []
    for qualname, node in _defs(tree, ""):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        spans.append((first, node.end_lineno or node.lineno, qualname))
    return spans


def _innermost(spans: list[tuple[int, int, str]], line: int) -> str:
    """The innermost definition holding a 1-based line, else `<module>`."""
    holding = [s for s in spans if s[0] <= line <= s[1]]
    return max(holding)[2] if holding else MODULE


def _python_line_symbols(before: str, after: str) -> frozenset[str]:
    """Changed lines mapped onto whichever side parses (used when one side does not)."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    old_spans, new_spans = _spans(before), _spans(after)
    if old_spans is None and new_spans is None:
        return frozenset({WHOLE_FILE})
    out: set[str] = set()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if new_spans is not None:
            out.update(_innermost(new_spans, j + 1) for j in range(j1, j2) if new_lines[j].strip())
        if old_spans is not None:
            out.update(_innermost(old_spans, i + 1) for i in range(i1, i2) if old_lines[i].strip())
        if old_spans is not None and new_spans is None:
            anchor = i1 + 1 if i2 > i1 else i1  # the first replaced line, or the one above
            enclosing = _innermost(old_spans, anchor) if anchor > 0 else MODULE
            out.update(_unparsed_symbols(new_lines[j1:j2], enclosing))
    return frozenset(out)


def _unparsed_symbols(lines: list[str], enclosing: str) -> set[str]:
    """Symbols of lines that do not parse: indented lines belong to `enclosing` until a
    top-level line, which is a definition's name or `<module>`."""
    out: set[str] = set()
    current = enclosing
    for line in lines:
        if not line.strip():
            continue
        if not line[:1].isspace():
            match = _DEF_LINE.match(line)
            current = match.group(2) if match else MODULE
        out.add(current)
    return out


# -- config files, as data -----------------------------------------------------------------------


def _data_symbols(before: str, after: str, parse: Callable[[str], Any]) -> frozenset[str]:
    try:
        old, new = _flatten(parse(before)), _flatten(parse(after))
    except ValueError:  # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors
        return frozenset({WHOLE_FILE})
    return frozenset(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Leaf values keyed by dotted path; lists are leaves (compared whole)."""
    if isinstance(value, dict) and value:
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip(".") or MODULE: json.dumps(value, sort_keys=True, default=str)}


# -- only a unified diff -------------------------------------------------------------------------


def symbols_from_diff(diff: str) -> dict[str, frozenset[str]]:
    """Changed file (new name; old name for a deletion) -> symbols read from its hunks."""
    out: dict[str, set[str]] = {}
    for path, created_or_deleted, hunks in _file_hunks(diff):
        found = out.setdefault(path, set())
        if created_or_deleted:
            found.add(WHOLE_FILE)
            continue
        suffix = PurePosixPath(path).suffix.lower()
        for header, lines in hunks:
            if suffix in PYTHON_SUFFIXES:
                found.update(_python_hunk_symbols(header, lines))
            elif suffix == ".toml":
                found.update(_toml_hunk_symbols(lines))
            else:
                found.add(WHOLE_FILE)
    return {path: frozenset(symbols) for path, symbols in out.items()}


Hunk = tuple[str, list[str]]  # the header's trailing text, the hunk's lines with their tags


def _file_hunks(diff: str) -> Iterator[tuple[str, bool, list[Hunk]]]:
    """(path, created or deleted, hunks) per file of a unified diff; hunk lengths are counted
    from their headers, so content that looks like a header is read as content."""
    old: str | None = None
    new: str | None = None
    hunks: list[Hunk] = []
    old_left = new_left = 0
    for line in diff.split("\n"):
        tag = line[:1]
        if (old_left > 0 or new_left > 0) and tag in (" ", "", "-", "+", "\\"):
            if tag != "\\":
                hunks[-1][1].append(line)
                old_left -= tag != "+"
                new_left -= tag != "-"
            continue
        old_left = new_left = 0
        if line.startswith("--- "):
            if old is not None or new is not None:
                yield _finish(old, new, hunks)
            old, new, hunks = _diff_name(line[4:]), None, []
        elif line.startswith("+++ "):
            new = _diff_name(line[4:])
        elif match := _HUNK.match(line):
            hunks.append((match.group(3), []))
            old_left, new_left = int(match.group(1) or 1), int(match.group(2) or 1)
    if old is not None or new is not None:
        yield _finish(old, new, hunks)


def _finish(old: str | None, new: str | None, hunks: list[Hunk]) -> tuple[str, bool, list[Hunk]]:
    path = new if new is not None else old
    return path or "", old is None or new is None, hunks


def _diff_name(raw: str) -> str | None:
    name = raw.split("\t")[0].strip().strip('"')
    if name == "/dev/null":
        return None
    return name.split("/", 1)[1] if name[:2] in ("a/", "b/") else name


def _python_hunk_symbols(header: str, lines: list[str]) -> set[str]:
    outer = _DEF_LINE.match(header)  # git's function context: the definition above the hunk
    stack = [(len(outer.group(1)), outer.group(2))] if outer else []
    context = outer.group(2) if outer else MODULE
    out: set[str] = set()
    for tagged in lines:
        tag, text = tagged[:1], tagged[1:]
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        match = _DEF_LINE.match(text)
        if match:
            parent = stack[-1][1] + "." if stack else ""
            stack.append((indent, parent + match.group(2)))
        if tag in ("+", "-"):
            out.add(stack[-1][1] if stack else (context if indent else MODULE))
    return out


def _toml_hunk_symbols(lines: list[str]) -> set[str]:
    table = ""
    out: set[str] = set()
    for tagged in lines:
        tag, text = tagged[:1], tagged[1:]
        header = _TOML_TABLE.match(text)
        key = _TOML_KEY.match(text)
        if header:
            table = header.group(1).strip()
        if tag not in ("+", "-") or not text.strip() or text.lstrip().startswith("#"):
            continue
        if key and not header:
            out.add(f"{table}.{key.group(1).strip()}" if table else key.group(1).strip())
        else:
            out.add(table or MODULE)
    return out
