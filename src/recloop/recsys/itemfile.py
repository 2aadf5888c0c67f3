"""Item side information from a team's item table: an item column and a genres/categories column.

Genres may be `|`- or `,`-separated within a cell (MovieLens uses `|`). Items of the log missing
from the table get no genre, which the diversity metric treats as unlike every other item.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import scipy.sparse as sp

from recloop.recsys.data import ItemInfo
from recloop.recsys.tabular import map_columns, open_view, quote, refuse_if

ITEM_ALIASES: dict[str, tuple[str, ...]] = {
    "item": ("item_id", "itemid", "item", "iid", "movieid", "movie_id", "product_id", "sku"),
    "genres": ("genres", "genre", "categories", "category", "tags"),
    "year": ("year", "release_year"),
}


def _positions(item_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each wanted id (as text) among item_ids, -1 where absent."""
    keys = item_ids.astype(str)
    order = np.argsort(keys)
    found = np.searchsorted(keys[order], wanted)
    found = np.minimum(found, len(keys) - 1)
    hit = keys[order][found] == wanted
    return np.where(hit, order[found], -1)


def read_item_info(
    path: Path, item_ids: np.ndarray, columns: dict[str, str] | None = None
) -> ItemInfo:
    """Genres (and release year when present) for `item_ids`, in that order."""
    con = duckdb.connect()
    available = open_view(con, path, "items")
    mapping = map_columns(path, available, columns or {}, ITEM_ALIASES, ("item", "genres"))
    item, genres = quote(mapping["item"]), quote(mapping["genres"])
    refuse_if(con, path, "items", f"{item} IS NULL", f"column {mapping['item']!r} (item) is empty")
    cells = f"regexp_replace(coalesce(CAST({genres} AS VARCHAR), ''), ',', '|', 'g')"
    pairs = con.execute(
        f"SELECT DISTINCT CAST({item} AS VARCHAR) AS item, trim(g) AS genre "
        f"FROM (SELECT {item}, unnest(string_split({cells}, '|')) AS g FROM items) "
        f"WHERE trim(g) <> ''"
    ).fetchnumpy()
    names, genre_col = np.unique(np.asarray(pairs["genre"], dtype=str), return_inverse=True)
    rows = _positions(item_ids, np.asarray(pairs["item"], dtype=str))
    known = rows >= 0
    matrix = sp.csr_matrix(
        (np.ones(int(known.sum()), np.float32), (rows[known], genre_col[known])),
        shape=(len(item_ids), len(names)),
    )
    years = np.full(len(item_ids), np.nan)
    if "year" in mapping:
        dated = con.execute(
            f"SELECT CAST({item} AS VARCHAR) AS item, TRY_CAST({quote(mapping['year'])} AS DOUBLE) "
            f"AS year FROM items WHERE year IS NOT NULL"
        ).fetchnumpy()
        where = _positions(item_ids, np.asarray(dated["item"], dtype=str))
        years[where[where >= 0]] = np.asarray(dated["year"], dtype=float)[where >= 0]
    return ItemInfo(matrix, tuple(str(n) for n in names), years)
