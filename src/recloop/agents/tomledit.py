"""Edit a TOML config file in place: set values by dotted key, keeping comments and layout.

`tomlkit` round-trips the document, so the team's comments, key order and formatting survive;
a value's trailing comment stays on its line. A key that does not exist yet is added at the end
of its table (tables are created as needed), with an optional comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

Scalar = bool | int | float | str


class ConfigEditError(ValueError):
    """The file is not valid TOML, or a dotted key runs through something that is not a table."""


def set_values(
    text: str, values: Mapping[str, Scalar], comments: Mapping[str, str] | None = None
) -> str:
    """`text` with every dotted key of `values` set (see the module docstring)."""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigEditError(f"not valid TOML: {exc}") from exc
    for dotted, value in values.items():
        *tables, key = dotted.split(".")
        container: Any = document
        for depth, name in enumerate(tables):
            if name not in container:
                container.add(name, tomlkit.table(is_super_table=depth < len(tables) - 1))
            container = container[name]
            if not isinstance(container, Table | dict):
                where = ".".join(tables[: depth + 1])
                raise ConfigEditError(f"{dotted}: {where} is not a table")
        if key in container:
            container[key] = value
        else:
            item = tomlkit.item(value)
            note = (comments or {}).get(dotted)
            if note:
                item.comment(note)
                item.trivia.comment_ws = "  "  # two spaces before '#', as PEP 8 has it
            container.add(key, item)
    return tomlkit.dumps(document)


def get_value(text: str, dotted: str) -> Any:
    """The value at a dotted key (None when absent), as plain Python."""
    try:
        node: Any = tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:
        raise ConfigEditError(f"not valid TOML: {exc}") from exc
    for name in dotted.split("."):
        if not isinstance(node, dict) or name not in node:
            return None
        node = node[name]
    return node
