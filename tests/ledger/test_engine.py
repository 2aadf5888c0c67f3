import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from recloop.ledger.engine import (
    BUSY_TIMEOUT_MS,
    READ_ONLY,
    URL_ENV,
    create_ledger_engine,
    resolve_url,
)
from recloop.ledger.errors import LedgerUnavailableError

PG = "postgresql+psycopg://loop:pw@db.internal:5432/ledger"


def test_the_workspace_ledger_is_sqlite_under_dot_recloop(tmp_path: Path) -> None:
    url = resolve_url(tmp_path, env={})
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(tmp_path.resolve() / ".recloop" / "ledger.db")


def test_an_explicit_url_beats_the_environment_which_beats_the_workspace(tmp_path: Path) -> None:
    env = {URL_ENV: "sqlite:////elsewhere/ledger.db"}
    assert resolve_url(tmp_path, url=PG, env=env).render_as_string(hide_password=False) == PG
    assert resolve_url(PG, env=env).get_backend_name() == "postgresql"  # target is a URL
    assert resolve_url(tmp_path, env=env).database == "/elsewhere/ledger.db"
    assert resolve_url(None, env=env).database == "/elsewhere/ledger.db"
    assert resolve_url(tmp_path, env={URL_ENV: ""}).database.endswith("ledger.db")


def test_nothing_to_go_on_is_refused() -> None:
    with pytest.raises(LedgerUnavailableError, match=URL_ENV):
        resolve_url(None, env={})


def test_sqlite_connections_are_configured_for_several_writers(tmp_path: Path) -> None:
    engine = create_ledger_engine(resolve_url(tmp_path / "ws", env={}))
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_writes_take_the_lock_up_front_and_reads_do_not(tmp_path: Path) -> None:
    """A write transaction holds SQLite's write lock from BEGIN (IMMEDIATE); a read one does
    not, so a reader is never blocked by a writer, and a second writer waits for the first."""
    engine = create_ledger_engine(resolve_url(tmp_path, env={}))
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE t (x INTEGER)"))
    order: list[str] = []
    try:
        with engine.begin() as writer:  # BEGIN IMMEDIATE: the lock is held from here on
            reading = engine.connect().execution_options(**{READ_ONLY: True})
            with reading as reader, reader.begin():
                assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0

            def second_writer() -> None:
                with engine.begin() as other:
                    order.append("second")
                    other.execute(text("INSERT INTO t VALUES (2)"))

            thread = threading.Thread(target=second_writer)
            thread.start()
            time.sleep(0.3)
            order.append("first")
            writer.execute(text("INSERT INTO t VALUES (1)"))
        thread.join(timeout=10)
        assert order == ["first", "second"]
    finally:
        engine.dispose()


def test_memory_databases_share_one_connection() -> None:
    from sqlalchemy import make_url

    engine = create_ledger_engine(make_url("sqlite://"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()
