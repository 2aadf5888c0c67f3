"""Risk levels by rule: how far a change reaches decides how much a person must look at it.

    L1  a parameter tweak: only values change, in one file (a config value, a module constant)
    L2  a config change: config files change beyond values (keys or tables added or removed),
        or values change in several files
    L3  a code change inside one module
    L4  a code change across modules

`risk_level(scope)` is the one function the loop calls; the scope comes from the files before
and after a change (`ChangeScope.between`, exact) or, before any code exists, from what a
transformation plans (`ChangeScope.planned`). A "value" is a literal on the right of a
module-level `NAME = literal` in Python, or a TOML value whose key and type stay the same;
anything else in a Python file (a docstring too) is code. A file created or deleted is a
structural change.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from recloop.workspace.manifest import Level

PYTHON_SUFFIXES = (".py", ".pyi")
_PLACEHOLDER = "<value>"


class ChangeScope(BaseModel):
    """Which files a change touches, split into code and config, and whether only values move."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code_modules: tuple[str, ...] = ()
    config_files: tuple[str, ...] = ()
    values_only: bool = False

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({*self.code_modules, *self.config_files}))

    @classmethod
    def planned(cls, files: Iterable[str], values_only: bool) -> ChangeScope:
        """The scope a change is expected to have, before it is written."""
        code, config = _split(files)
        return cls(code_modules=code, config_files=config, values_only=values_only)

    @classmethod
    def between(
        cls, before: Mapping[str, str | None], after: Mapping[str, str | None]
    ) -> ChangeScope:
        """The scope of the change from `before` to `after` (path -> text; None: absent)."""
        changed = [p for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]
        code, config = _split(changed)
        values_only = bool(changed) and all(
            _values_only(p, before.get(p), after.get(p)) for p in changed
        )
        return cls(code_modules=code, config_files=config, values_only=values_only)


def risk_level(scope: ChangeScope) -> Level:
    """The autonomy level of a change (see the module docstring)."""
    if scope.values_only:
        return "L1" if len(scope.files) <= 1 else "L2"
    if not scope.code_modules:
        return "L2"
    return "L3" if len(scope.code_modules) == 1 else "L4"


def _split(files: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    unique = sorted(set(files))
    code = tuple(f for f in unique if PurePosixPath(f).suffix in PYTHON_SUFFIXES)
    return code, tuple(f for f in unique if f not in code)


def _values_only(path: str, before: str | None, after: str | None) -> bool:
    if before is None or after is None:
        return False
    suffix = PurePosixPath(path).suffix
    if suffix in PYTHON_SUFFIXES:
        return _python_shape(before) is not None and _python_shape(before) == _python_shape(after)
    if suffix == ".toml":
        return _toml_shape(before) is not None and _toml_shape(before) == _toml_shape(after)
    return False


def _python_shape(text: str) -> str | None:
    """The module's AST with the literal of every module-level `NAME = literal` blanked."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and _is_literal(node.value):
            node.value = ast.Constant(value=_PLACEHOLDER)
    return ast.dump(tree, include_attributes=False)


def _is_literal(node: ast.expr | None) -> bool:
    """A constant, or a signed number like `-1.5`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant)


def _toml_shape(text: str) -> dict[str, str] | None:
    """Every leaf key of a TOML document with the kind of its value (numbers are one kind)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    return _kinds(data, "")


def _kinds(value: Any, prefix: str) -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_kinds(item, f"{prefix}{key}."))
        return out or {prefix: "table"}
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int | float):
        kind = "number"
    else:
        kind = type(value).__name__
    return {prefix.rstrip("."): kind}
