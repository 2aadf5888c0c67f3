"""Problems found in a workspace: what is wrong, at which key, on which line of which file.

`ManifestError` carries every problem of a manifest at once (a person fixes them in one pass).
`parse_or_raise` turns TOML syntax errors and pydantic validation errors into problems: the
dotted key (`metrics.guardrails[1].name`), a sentence, and the line found by `_tomlpos` (the line
of the key itself, or of the table a missing key belongs in).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from recloop.workspace._tomlpos import KeyPath, key_lines, locate
from recloop.workspace.contract import Inconsistent

M = TypeVar("M", bound=BaseModel)
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `key` is a dotted key path ("" for the file or workspace as a whole).

    `line` (and `column`, for TOML syntax errors) are in `file`, the manifest when `file` is None.
    """

    key: str
    message: str
    line: int | None = None
    column: int | None = None
    file: str | None = None

    def located(self, default_file: str | Path | None) -> str:
        """`file:line: key: message`, the file being `default_file` when the problem has none."""
        file = self.file or default_file
        where = "" if file is None else f"{file}{'' if self.line is None else f':{self.line}'}: "
        return f"{where}{self.key + ': ' if self.key else ''}{self.message}"

    def __str__(self) -> str:
        where = "" if self.line is None else f"line {self.line}: "
        return f"{where}{self.key + ': ' if self.key else ''}{self.message}"


class ManifestError(Exception):
    """A manifest that cannot be used, with every problem found in it."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        """Compiler-style lines, `path:line: key: message`, one per problem."""
        count = f"{len(self.problems)} problem" + ("s" if len(self.problems) != 1 else "")
        rows = [p.located(self.path) for p in self.problems]
        return "\n".join([f"{self.path} is not a valid manifest ({count}):", *rows])


def parse_or_raise(model: type[M], text: str, source: str | Path) -> M:
    """Parse TOML text into `model`, or raise `ManifestError` with each problem located."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        line, column = (int(position[1]), int(position[2])) if position else (None, None)
        problem = Problem("", f"TOML syntax error: {_TOML_POSITION.sub('', message)}", line, column)
        raise ManifestError(source, [problem]) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(source, problems_from(exc, model, data, text)) from None


def problems_from(
    exc: ValidationError, model: type[BaseModel], data: dict[str, Any], text: str
) -> list[Problem]:
    """One located problem per distinct key of a validation error."""
    lines = key_lines(text)
    found: dict[KeyPath, list[str]] = {}
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if err["type"] == "value_error" and isinstance(cause, Inconsistent):
            for sub_loc, message in cause.problems:
                path = _data_path((*err["loc"], *sub_loc), data)
                found.setdefault(path, []).append(message)
        else:
            path = _data_path(err["loc"], data, missing=err["type"] == "missing")
            found.setdefault(path, []).append(_message(err, path, model, data))
    problems = [
        Problem(render_key(path), "; or ".join(dict.fromkeys(msgs)), locate(lines, path))
        for path, msgs in found.items()
    ]
    return sorted(problems, key=lambda p: (p.line or 0, p.key))


def render_key(path: KeyPath) -> str:
    """`("metrics", "guardrails", 1, "name")` -> `metrics.guardrails[1].name`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _BARE.match(part) else f'"{part}"'
            out += f".{name}" if out else name
    return out


def _data_path(loc: tuple[int | str, ...], data: Any, missing: bool = False) -> KeyPath:
    """The error location as a path into the TOML data: pydantic's union-member tags dropped.

    The last part of a `missing` error's location is kept although the data lacks it.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_table = isinstance(node, dict) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_table or in_array:
            node = node[part]
        elif not (missing and i == len(loc) - 1 and isinstance(node, dict)):
            continue  # a union tag such as "float" in ("search", "params", 0, "float", "low")
        path.append(part)
    return tuple(path)


def _message(err: Any, path: KeyPath, model: type[BaseModel], data: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        section = _model_at(model, path, data)
        what = "table" if section is not None else "key"
        return f"missing required {what}" + (f" [{render_key(path)}]" if section else "")
    if kind == "extra_forbidden":
        parent = _model_at(model, path[:-1], data)
        if parent is None:
            return "unknown key"
        allowed = list(parent.model_fields)
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key{hint}; expected one of: {', '.join(allowed)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and isinstance(err.get("input"), str | int | float | bool):
        message += f", got {err['input']!r}"
    return message[:1].lower() + message[1:]


def _model_at(model: type[BaseModel], path: KeyPath, data: Any) -> type[BaseModel] | None:
    """The model class describing the table at `path`, if one does (unions decided by data)."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(node, dict | list):
            try:
                node = node[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                node = None
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if typing.get_origin(current) is list and args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = None if field is None else field.annotation
        else:
            return None
        current = _pick_model(current, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _pick_model(annotation: Any, node: Any) -> Any:
    """Unwrap Annotated / Optional / a tagged union to the one model the data is for."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            return models[0]
        tag = node.get("type") if isinstance(node, dict) else None
        for candidate in models:
            field = candidate.model_fields.get("type")
            if field is not None and tag in typing.get_args(field.annotation):
                return candidate
        return None
    return annotation
