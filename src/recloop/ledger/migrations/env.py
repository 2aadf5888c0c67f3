"""Alembic's entry point for the ledger: runs `versions/` against a connection or a URL.

`recloop.ledger.migrate` passes an open connection (inside its own transaction) through
`config.attributes["connection"]`; the `alembic` command line passes `sqlalchemy.url`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, make_url

from recloop.ledger.engine import create_ledger_engine
from recloop.ledger.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = create_ledger_engine(make_url(config.get_main_option("sqlalchemy.url") or ""))
    try:
        with engine.connect() as own:
            _configure(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
