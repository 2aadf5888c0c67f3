"""Where the ledger lives, and an engine that is safe for several writing processes.

`resolve_url(target, url=…, env=…)` picks the database, first match wins:

1. the `url` argument;
2. `target` itself when it is a URL (`postgresql+psycopg://…`, `sqlite:///…`);
3. `$RECLOOP_LEDGER_URL`;
4. SQLite at `<target>/.recloop/ledger.db`, `target` being the workspace directory.

SQLite engines get, on every connection: WAL journal (readers never block the writer), foreign
keys on, a busy timeout (a writer waits for another instead of failing), `synchronous=NORMAL`
(durable across process crashes, which is what a killed loop needs), and transactions that the
ledger begins itself: `BEGIN IMMEDIATE` for writes (the write lock is taken up front, so two
processes never deadlock upgrading a read lock), plain `BEGIN` for reads. Postgres (psycopg 3)
needs nothing special: its row locks make the conditional UPDATE of a transition safe.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from recloop.ledger.errors import LedgerUnavailableError

URL_ENV = "RECLOOP_LEDGER_URL"
LEDGER_DIR = ".recloop"
LEDGER_FILE = "ledger.db"
BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "recloop_read_only"
"""Connection execution option: begin a deferred (read) transaction on SQLite."""


def resolve_url(
    target: str | os.PathLike[str] | None,
    *,
    url: str | URL | None = None,
    env: Mapping[str, str] | None = None,
) -> URL:
    """The database URL for a workspace directory or URL (see the module docstring)."""
    environ = os.environ if env is None else env
    if url is not None:
        return _parse(url)
    if isinstance(target, str) and "://" in target:
        return _parse(target)
    if environ.get(URL_ENV):
        return _parse(environ[URL_ENV])
    if target is None:
        raise LedgerUnavailableError(f"no workspace directory, no url and no ${URL_ENV}")
    path = Path(target) / LEDGER_DIR / LEDGER_FILE
    return URL.create("sqlite", database=str(path.resolve()))


def _parse(url: str | URL) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise LedgerUnavailableError(f"not a database URL: {url!s}") from exc


def create_ledger_engine(url: URL) -> Engine:
    """An engine for `url`, configured as the module docstring says."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = url.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _configure_sqlite(engine, in_memory=database in ("", ":memory:"))
    return engine


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the "begin" hook below emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if not in_memory:
                _use_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent, so once is enough). The switch needs an exclusive
    lock, and SQLite may answer "database is locked" at once, without the busy handler, while
    other processes open the same new file: retry for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
