from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, make_url, text

from recloop.ledger import Ledger, LedgerUnavailableError
from recloop.ledger.engine import create_ledger_engine
from recloop.ledger.migrate import MIGRATIONS, alembic_config, current, head, upgrade
from recloop.ledger.models import Base

_SEED_0001 = """
INSERT INTO proposals VALUES (1, 'p', 'f', 't', 'h', 'L1', 's', '{}', '{}', '2026-11-25 09:00:00');
INSERT INTO experiments VALUES (1, 'e', 1, 'closed', 3, NULL, '{}', '2026-11-25 09:00:00',
    '2026-11-25 09:00:00');
INSERT INTO candidates VALUES (1, 1, 'c', 'b', NULL, NULL, '', '{}', '2026-11-25 09:00:00');
INSERT INTO stage_runs VALUES (1, 1, 1, 'local', 1, 'reject', 'slow', 's', '{}', 1.0, 1.0,
    '2026-11-25 09:00:00');
INSERT INTO failure_records (id, stage_run_id, experiment_id, candidate_id, stage, cause, family,
    signature, scope, payload, created_at) VALUES (1, 1, 1, 1, 'local', 'slow', 'f', 'sig',
    'workspace', '{}', '2026-11-25 09:00:00');
"""


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    created = create_ledger_engine(make_url(ledger_url))
    yield created
    created.dispose()


def _diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_migrations_create_every_table_from_empty(engine: Engine) -> None:
    assert inspect(engine).get_table_names() == []
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    with engine.connect() as connection:
        assert current(connection) == head()


def test_models_and_migrations_agree(engine: Engine) -> None:
    upgrade(engine)
    assert _diff(engine, Base.metadata) == []


def test_the_comparison_would_see_a_model_the_migrations_lack(engine: Engine) -> None:
    upgrade(engine)
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["metrics"].append_column(Column("p_value", Integer))
    diff = _diff(engine, drifted)
    assert [(d[0], d[3].name) for d in diff] == [("add_column", "p_value")]  # type: ignore[index]


def test_upgrading_again_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert _diff(engine, Base.metadata) == []


def test_downgrade_to_base_removes_everything_and_up_again_restores_it(engine: Engine) -> None:
    upgrade(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert _diff(engine, Base.metadata) == []


def test_a_schema_from_a_newer_recloop_is_refused(ledger_url: str, engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(LedgerUnavailableError, match="newer recloop"):
        Ledger.open(url=ledger_url)


def test_the_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))[-1].startswith(head())


def test_a_0001_ledger_upgrades_and_keeps_its_failure_records(ledger_url: str) -> None:
    engine = create_ledger_engine(make_url(ledger_url))
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with engine.begin() as connection:
            for statement in filter(str.strip, _SEED_0001.split(";")):
                connection.execute(text(statement))
            assert current(connection) == "0001"
    finally:
        engine.dispose()
    with Ledger.open(url=ledger_url) as ledger:  # migrates to head
        [old] = ledger.failures(include_inactive=True)
        assert (old.key, old.stage_run_id, old.signature, old.stage) == (None, 1, "sig", "local")
        assert ledger.audit_log() == []
