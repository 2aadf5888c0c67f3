import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from recloop.ledger import AppendOnlyError, Experiment, Ledger
from recloop.ledger.models import AuditEntryRow, ExperimentRow


def test_the_database_refuses_to_update_the_audit_log(
    ledger: Ledger, experiment: Experiment
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory'"))
    assert {e.actor for e in ledger.audit_log()} == {"test"}


def test_the_database_refuses_to_delete_from_the_audit_log(
    ledger: Ledger, experiment: Experiment
) -> None:
    before = ledger.audit_log()
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": before[0].id})
    assert ledger.audit_log() == before


@pytest.mark.parametrize("ledger_url", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_postgres_refuses_to_truncate_the_audit_log(ledger: Ledger, experiment: Experiment) -> None:
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log CASCADE"))
    assert ledger.audit_log()


def test_the_orm_refuses_to_change_or_delete_audit_entries(
    ledger: Ledger, experiment: Experiment
) -> None:
    with Session(ledger.engine) as session:
        entry = session.scalars(select(AuditEntryRow)).first()
        assert entry is not None
        entry.actor = "mallory"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(AuditEntryRow)).first())
        with pytest.raises(AppendOnlyError):
            session.flush()


def test_ledger_sessions_refuse_bulk_statements_on_the_audit_log(
    ledger: Ledger, experiment: Experiment
) -> None:
    with ledger._write() as session, pytest.raises(AppendOnlyError):
        session.execute(update(AuditEntryRow).values(actor="mallory"))
    with ledger._write() as session, pytest.raises(AppendOnlyError):
        session.execute(delete(AuditEntryRow))
    with ledger._write() as session:  # other tables are not guarded
        session.execute(update(ExperimentRow).values(base_commit="b" * 40))
    assert ledger.get_experiment(experiment).base_commit == "b" * 40


def test_check_constraints_refuse_words_outside_the_vocabularies(
    ledger: Ledger, experiment: Experiment
) -> None:
    with pytest.raises(IntegrityError), ledger.engine.begin() as connection:
        connection.execute(text("UPDATE experiments SET state = 'shipped'"))
    assert ledger.get_experiment(experiment).state == "proposed"


def test_foreign_keys_are_enforced(ledger: Ledger, experiment: Experiment) -> None:
    with pytest.raises(IntegrityError), ledger.engine.begin() as connection:
        connection.execute(text("UPDATE experiments SET proposal_id = 999"))
