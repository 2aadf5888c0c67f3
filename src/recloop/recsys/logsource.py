"""A team's own interaction log (CSV, TSV, Parquet file or folder of Parquet parts) as Interactions.

DuckDB reads and converts the file (no Python per row); recloop maps columns and checks them.
Column roles are user, item, rating (optional: an implicit log) and time (optional; epoch seconds,
epoch milliseconds or ISO strings). Common headers are recognised; `columns` overrides them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from recloop.recsys.data import Interactions
from recloop.recsys.itemfile import read_item_info
from recloop.recsys.tabular import TableReadError, map_columns, open_view, quote, refuse_if

LOG_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "userid", "user", "uid", "customer_id", "visitor_id", "member_id"),
    "item": ("item_id", "itemid", "item", "iid", "movieid", "movie_id", "product_id", "sku"),
    "rating": ("rating", "ratings", "score", "stars"),
    "time": ("timestamp", "ts", "time", "event_time", "datetime", "created_at", "date"),
}
MS_THRESHOLD = 10**11  # epoch seconds stay below this until the year 5138; milliseconds do not
DuplicatePolicy = Literal["last", "first", "all"]
DUPLICATE_POLICIES: tuple[DuplicatePolicy, ...] = ("last", "first", "all")


class LogSource(BaseModel):
    """Where a log is and how to read it; the same model serves the CLI and workspace manifests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    columns: dict[str, str] = Field(default_factory=dict)
    items: Path | None = None
    duplicates: DuplicatePolicy = Field(
        "last", description="repeated (user, item) pairs: keep the last, the first, or all"
    )


class LoadedLog(BaseModel):
    """What was read and how, for the person who has to trust it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    interactions: Interactions
    mapping: dict[str, str]
    duplicates_removed: int
    notes: tuple[str, ...]


def time_expression(con: duckdb.DuckDBPyConnection, path: Path, column: str, kind: str) -> str:
    """SQL giving epoch seconds from epoch s/ms numbers, timestamps or ISO strings."""
    col = quote(column)
    kind = kind.upper()
    if kind.startswith(("TIMESTAMP", "DATE")):
        return f"epoch({col}::TIMESTAMP)"
    if kind == "VARCHAR":
        number, stamp = f"TRY_CAST({col} AS DOUBLE)", f"TRY_CAST({col} AS TIMESTAMP)"
        refuse_if(
            con,
            path,
            "log",
            f"{col} IS NOT NULL AND {number} IS NULL AND {stamp} IS NULL",
            f"column {column!r} (time) holds a value that is neither an epoch number nor an "
            "ISO timestamp",
        )
        seconds = f"CASE WHEN {number} >= {MS_THRESHOLD} THEN {number} / 1000 ELSE {number} END"
        return f"COALESCE({seconds}, epoch({stamp}))"
    refuse_if(
        con, path, "log", f"TRY_CAST({col} AS DOUBLE) IS NULL", f"column {column!r} (time) is empty"
    )
    largest = con.execute(f"SELECT max(abs({col})) FROM log").fetchone()
    scale = 1000 if largest and largest[0] is not None and largest[0] >= MS_THRESHOLD else 1
    return f"({col} / {scale})"


def _dedup_filter(policy: DuplicatePolicy) -> tuple[str, str]:
    """(rank expression, keep condition) implementing the duplicate policy in SQL."""
    if policy == "all":
        return "1", "true"
    order = "DESC" if policy == "last" else "ASC"
    return f"row_number() OVER (PARTITION BY u, i ORDER BY t {order}, __row {order})", "rn = 1"


def read_log(source: LogSource) -> LoadedLog:
    """Read a log file into Interactions, applying the duplicate policy."""
    path, con = source.path, duckdb.connect()
    available = open_view(con, path, "log")
    mapping = map_columns(path, available, source.columns, LOG_ALIASES, ("user", "item"))
    for role in ("user", "item"):
        refuse_if(
            con,
            path,
            "log",
            f"{quote(mapping[role])} IS NULL",
            f"column {mapping[role]!r} ({role}) is empty",
        )
    notes: list[str] = []
    rating_sql = "1.0"
    if "rating" in mapping:
        col = quote(mapping["rating"])
        refuse_if(
            con,
            path,
            "log",
            f"TRY_CAST({col} AS DOUBLE) IS NULL",
            f"column {mapping['rating']!r} (rating) holds a value that is not a number",
        )
        rating_sql = f"CAST({col} AS DOUBLE)"
    else:
        notes.append("no rating column: an implicit log, every interaction is a positive")
    time_sql = "0"
    if "time" in mapping:
        time_sql = time_expression(con, path, mapping["time"], available[mapping["time"]])
    else:
        notes.append("no time column: temporal splits have no order to follow")
    rank, keep = _dedup_filter(source.duplicates)
    query = f"""
        WITH typed AS (
            SELECT {quote(mapping["user"])} AS u, {quote(mapping["item"])} AS i,
                   {rating_sql} AS r, CAST(round({time_sql}) AS BIGINT) AS t, __row
            FROM log
        ), ranked AS (SELECT *, {rank} AS rn FROM typed)
        SELECT u, i, r, t FROM ranked WHERE {keep} ORDER BY __row
    """
    try:
        columns = con.execute(query).fetchnumpy()
    except duckdb.Error as exc:
        raise TableReadError(f"{path}: {exc}") from exc
    n_rows = con.execute("SELECT count(*) FROM log").fetchone()
    if not n_rows or n_rows[0] == 0:
        raise TableReadError(f"{path}: the log has no rows")
    data = Interactions.from_raw(
        user_ids=np.asarray(columns["u"]),
        item_ids=np.asarray(columns["i"]),
        ratings=np.asarray(columns["r"]),
        timestamps=np.asarray(columns["t"]),
        name=path.name,
        has_ratings="rating" in mapping,
    )
    if source.items is not None:
        data = data.with_item_info(read_item_info(source.items, data.item_ids))
    return LoadedLog(
        interactions=data,
        mapping=mapping,
        duplicates_removed=int(n_rows[0]) - data.n_interactions,
        notes=tuple(notes),
    )
