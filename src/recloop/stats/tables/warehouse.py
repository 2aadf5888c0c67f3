"""Where experiment tables live, opened read-only: one narrow port, two adapters.

A `Warehouse` answers two questions — which columns (and declared types) does a table have, and
what does a query return, as numpy columns — for one of:

- a DuckDB file, opened with `read_only=True`;
- a folder of Parquet files, one per table (`events.parquet`, or a folder `events/` of parts),
  read through views in an in-memory DuckDB (the files are only ever read);
- a SQLAlchemy URL. SQLite is opened as a `file:...?mode=ro` URI (the driver refuses writes)
  with `PRAGMA query_only` on top; PostgreSQL sessions start with
  `default_transaction_read_only=on` and every query runs in a `SET TRANSACTION READ ONLY`
  transaction. A plain path to a SQLite file is recognised by its header. Other dialects are
  refused with the list of supported ones (their time functions are not written yet).

Every session runs in UTC. `open_source` picks the adapter from the source's spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import duckdb
import numpy as np

from recloop.stats.tables.dialect import PARAMETER, Dialect
from recloop.stats.tables.errors import SourceError

TABLE_NAMES = ("assignments", "exposures", "events", "experiments")
SQLITE_HEADER = b"SQLite format 3\x00"
Columns = dict[str, np.ndarray]


class Warehouse:
    """A read-only connection to experiment tables (use as a context manager)."""

    dialect: Dialect
    description: str

    def columns(self, table: str) -> dict[str, str] | None:
        """Column name -> declared type of `table`, or None when there is no such table."""
        raise NotImplementedError

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> Columns:
        """Run a portable query (`:name` parameters) and return its result column by column."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection (a wrapped connection is left open)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _used(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the parameters the query mentions (DuckDB refuses unused ones)."""
    names = set(PARAMETER.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in names}


class DuckDBWarehouse(Warehouse):
    """Tables in a DuckDB connection: a read-only file, Parquet views, or a connection we wrap."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, description: str, *, owned: bool = True
    ) -> None:
        self.con = con
        self.description = description
        self.dialect = Dialect("duckdb")
        self._owned = owned
        if owned:
            con.execute("SET TimeZone = 'UTC'")

    @classmethod
    def wrap(cls, con: duckdb.DuckDBPyConnection) -> DuckDBWarehouse:
        """A warehouse over a connection someone else owns (e.g. the simulator's writer)."""
        return cls(con, "a DuckDB connection", owned=False)

    @classmethod
    def open_file(cls, path: Path) -> DuckDBWarehouse:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise SourceError(f"{path}: not a readable DuckDB file ({exc})") from None
        return cls(con, str(path))

    @classmethod
    def open_parquet(cls, folder: Path) -> DuckDBWarehouse:
        con = duckdb.connect(":memory:")
        for table in TABLE_NAMES:
            target = _parquet_target(folder, table)
            if target is not None:
                path = target.replace("'", "''")
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
        return cls(con, f"{folder} (Parquet)")

    def columns(self, table: str) -> dict[str, str] | None:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return {str(name): str(dtype) for name, dtype in rows} or None

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> Columns:
        try:
            result = self.con.execute(self.dialect.render(sql), _used(sql, params)).fetchnumpy()
        except duckdb.Error as exc:
            raise SourceError(f"{self.description}: query failed: {exc}") from None
        return {name: _unmask(values) for name, values in result.items()}

    def close(self) -> None:
        if self._owned:
            self.con.close()


def _unmask(values: Any) -> np.ndarray:
    """DuckDB returns NULLs as masked entries: NaN in numeric columns, None in others."""
    if not isinstance(values, np.ma.MaskedArray):
        return np.asarray(values)
    if not np.ma.is_masked(values):
        return np.asarray(values.data)
    if values.dtype.kind in "iufb":
        return np.ma.filled(values.astype(np.float64), np.nan)
    out = values.data.astype(object)
    out[values.mask] = None
    return np.asarray(out)


def _parquet_target(folder: Path, table: str) -> str | None:
    """`table.parquet`, or the parts of a `table/` folder, as a read_parquet argument."""
    single = folder / f"{table}.parquet"
    if single.is_file():
        return str(single)
    parts = folder / table
    if parts.is_dir() and any(parts.rglob("*.parquet")):
        return str(parts / "**" / "*.parquet")
    return None


class SqlAlchemyWarehouse(Warehouse):
    """Tables behind a SQLAlchemy URL (SQLite or PostgreSQL), read-only."""

    SUPPORTED = ("sqlite", "postgresql")

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise SourceError(f"{url!r} is not a SQLAlchemy URL ({exc})") from None
        backend = parsed.get_backend_name()
        if backend not in self.SUPPORTED:
            raise SourceError(
                f"{parsed.render_as_string(hide_password=True)}: dialect {backend!r} is not "
                f"supported; use one of {', '.join(self.SUPPORTED)}, a DuckDB file or a folder "
                "of Parquet files"
            )
        self.description = parsed.render_as_string(hide_password=True)
        self.dialect = Dialect(backend)  # type: ignore[arg-type]
        if backend == "sqlite":
            self.engine = _sqlite_engine(parsed)
        else:
            self.engine = _postgres_engine(parsed)
        try:
            self.conn = self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise SourceError(f"{self.description}: cannot connect ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0]})") from None  # fmt: skip

    def columns(self, table: str) -> dict[str, str] | None:
        import sqlalchemy as sa

        inspector = sa.inspect(self.conn)
        names = set(inspector.get_table_names()) | set(inspector.get_view_names())
        self.conn.rollback()
        if table not in names:
            return None
        found = {c["name"]: str(c["type"]) for c in inspector.get_columns(table)}
        self.conn.rollback()
        return found

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> Columns:
        import sqlalchemy as sa

        try:
            if self.dialect.name == "postgresql":
                self.conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            result = self.conn.execute(sa.text(sql), _used(sql, params))
            names = list(result.keys())
            rows = result.fetchall()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(
                f"{self.description}: query failed: {str(exc).splitlines()[0]}"
            ) from None
        finally:
            self.conn.rollback()
        return {name: _column([row[i] for row in rows]) for i, name in enumerate(names)}

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _column(values: list[Any]) -> np.ndarray:
    """A result column as numpy; Decimal results (PostgreSQL NUMERIC) become floats."""
    array = np.asarray(values)
    if array.dtype == object and values and all(_is_number(v) for v in values):
        return array.astype(np.float64)
    return array


def _is_number(value: Any) -> bool:
    return value is not None and not isinstance(value, str | bytes) and np.isscalar(value)


def _sqlite_engine(parsed: Any) -> Any:
    import sqlalchemy as sa

    database = parsed.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(parsed):
        raise SourceError("an in-memory SQLite database holds no experiment tables")
    if database.startswith("file:"):
        file_uri = database
    else:
        path = Path(database).expanduser().resolve()
        if not path.is_file():
            raise SourceError(f"{path}: no such SQLite file")
        file_uri = "file:" + quote(str(path))
    query = {**dict(parsed.query), "mode": "ro", "uri": "true"}
    url = sa.engine.URL.create("sqlite", database=file_uri, query=query)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    return engine


def _postgres_engine(parsed: Any) -> Any:
    """Sessions read-only and in UTC; the URL's own `options` (e.g. a search_path) are kept."""
    import sqlalchemy as sa

    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = f"{given} -c default_transaction_read_only=on -c TimeZone=UTC".strip()
    return sa.create_engine(
        parsed.difference_update_query(["options"]),
        poolclass=sa.pool.NullPool,
        connect_args={"options": options},
    )


def open_source(source: str | Path) -> Warehouse:
    """A DuckDB file, a Parquet folder, a SQLite file or a SQLAlchemy URL, opened read-only."""
    text = str(source)
    if "://" in text:
        return SqlAlchemyWarehouse(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return DuckDBWarehouse.open_parquet(path)
    if not path.is_file():
        raise SourceError(
            f"{path}: no such file or folder (give a DuckDB file, a folder of Parquet files "
            "or a SQLAlchemy URL such as sqlite:///tables.db or postgresql+psycopg://host/db)"
        )
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header == SQLITE_HEADER:
        return SqlAlchemyWarehouse(f"sqlite:///{path.resolve()}")
    return DuckDBWarehouse.open_file(path)
