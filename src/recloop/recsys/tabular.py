"""Reading a team's tables with DuckDB: file kinds, column mapping and errors with example rows.

Shared by interaction logs and item files so both recognise files and headers the same way and
refuse bad input with a message that names the file, the column and an example row.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb


class TableReadError(ValueError):
    """A table cannot be read as asked; the message names file, column and an example row."""


def quote(name: str) -> str:
    """A SQL identifier for any column name."""
    return '"' + name.replace('"', '""') + '"'


def relation_sql(path: Path) -> str:
    """A DuckDB table expression for a CSV/TSV/Parquet file or a folder of Parquet parts."""
    if not path.exists():
        raise TableReadError(f"{path}: no such file or folder")
    quoted = str(path).replace("'", "''")
    if path.is_dir():
        if not any(path.rglob("*.parquet")):
            raise TableReadError(f"{path}: the folder holds no .parquet files")
        return f"read_parquet('{quoted}/**/*.parquet')"
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header = true, auto_detect = true)"


def open_view(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> dict[str, str]:
    """Register the file as `view` with a 1-based `__row`; return its column names and types."""
    try:
        con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT *, row_number() OVER () AS __row "
            f"FROM {relation_sql(path)}"
        )
        described = con.execute(f"DESCRIBE {view}").fetchall()
    except duckdb.Error as exc:
        raise TableReadError(f"{path}: cannot be read ({exc})") from exc
    return {name: kind for name, kind, *_ in described if name != "__row"}


def map_columns(
    path: Path,
    available: Mapping[str, str],
    explicit: Mapping[str, str],
    aliases: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
) -> dict[str, str]:
    """Choose the column of each role: explicit names first, then recognised headers."""
    by_lower: dict[str, list[str]] = {}
    for name in available:
        by_lower.setdefault(name.lower(), []).append(name)
    unknown = set(explicit) - set(aliases)
    if unknown:
        raise TableReadError(
            f"{path}: unknown column role {', '.join(sorted(unknown))}; "
            f"roles are {', '.join(aliases)}"
        )
    mapping: dict[str, str] = {}
    for role, names in aliases.items():
        if role in explicit:
            if explicit[role] not in available:
                raise TableReadError(
                    f"{path}: column {explicit[role]!r} (given for {role}) is not in the file; "
                    f"its columns are {', '.join(available)}"
                )
            mapping[role] = explicit[role]
            continue
        found = [n for alias in names for n in by_lower.get(alias, [])]
        found = [n for n in dict.fromkeys(found) if n not in explicit.values()]
        if len(found) > 1:
            raise TableReadError(
                f"{path}: ambiguous {role} column, candidates {', '.join(found)}; "
                f"name one with --columns {role}=COLUMN"
            )
        if found:
            mapping[role] = found[0]
        elif role in required:
            raise TableReadError(
                f"{path}: no {role} column among {', '.join(available)}; "
                f"name it with --columns {role}=COLUMN"
            )
    return mapping


def refuse_if(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, condition: str, message: str
) -> None:
    """Raise TableReadError with the count and the first offending row when any row matches."""
    count = con.execute(f"SELECT count(*) FROM {view} WHERE {condition}").fetchone()
    if not count or not count[0]:
        return
    cursor = con.execute(f"SELECT * FROM {view} WHERE {condition} ORDER BY __row LIMIT 1")
    row = cursor.fetchone() or ()
    values = dict(zip([d[0] for d in cursor.description or []], row, strict=True))
    number = values.pop("__row", "?")
    raise TableReadError(
        f"{path}: {message} ({count[0]} rows; the first is row {number}: {values})"
    )
