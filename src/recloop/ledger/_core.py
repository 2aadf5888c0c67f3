"""The ledger's plumbing: short transactions, idempotent inserts, the audit trail.

Every public write of the `Ledger` is one `_write()` transaction that commits before the method
returns, and that writes its audit entry in the same transaction (so a row never exists
without its audit entry, nor the entry without the row). Idempotent writes go through
`_insert_or_get`: look the natural key up; insert when absent, inside a savepoint, so that a
concurrent writer that got there first (a unique violation) yields its row instead of an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from recloop.ledger.engine import READ_ONLY
from recloop.ledger.errors import AppendOnlyError, ConflictError, NotFoundError
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import AuditEntryRow, Base, CandidateRow, ExperimentRow
from recloop.ledger.records import AuditEntry, Candidate, Experiment, from_row

RowT = TypeVar("RowT", bound=Base)
Clock = Callable[[], dt.datetime]
ExperimentRef = int | Experiment
Payload = Mapping[str, Any] | None  # a JSON object to store, or nothing
CandidateRef = int | Candidate


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ref_id(ref: int | Any) -> int:
    """The id of a record, or the id itself."""
    return ref if isinstance(ref, int) else int(ref.id)


class LedgerCore:
    """Engine, sessions, clock and the audit trail shared by every part of the `Ledger`."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now, actor: str = "recloop") -> None:
        self.engine = engine
        self.actor = actor
        """Who the audit log names when a method is not told otherwise."""
        self._clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        for factory in (self._sessions, self._read_sessions):
            _guard_audit_log(factory)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release every pooled connection (before the process ends; a forked child opens
        its own ledger rather than sharing its parent's connections)."""
        self.engine.dispose()

    def __enter__(self) -> LedgerCore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """`sqlite`, `postgresql`, …"""
        return self.engine.dialect.name

    # -- audit log ---------------------------------------------------------------------------

    def append_audit(
        self,
        action: str,
        subject: str,
        payload: dict[str, Any] | None = None,
        *,
        experiment: ExperimentRef | None = None,
        actor: str | None = None,
    ) -> AuditEntry:
        """Append one entry to the audit log (for events no other method records)."""
        body = to_json_object(payload, "payload")
        experiment_id = None if experiment is None else ref_id(experiment)
        with self._write() as session:
            entry = self._audit(session, action, subject, body, experiment_id, actor)
            session.flush()
            return from_row(AuditEntry, entry)

    def audit_log(
        self,
        *,
        subject: str | None = None,
        experiment: ExperimentRef | None = None,
        action: str | None = None,
        after_id: int = 0,
    ) -> list[AuditEntry]:
        """Audit entries in the order they were written, optionally filtered."""
        query = select(AuditEntryRow).where(AuditEntryRow.id > after_id)
        if subject is not None:
            query = query.where(AuditEntryRow.subject == subject)
        if experiment is not None:
            query = query.where(AuditEntryRow.experiment_id == ref_id(experiment))
        if action is not None:
            query = query.where(AuditEntryRow.action == action)
        return self._select(AuditEntry, query.order_by(AuditEntryRow.id))

    # -- plumbing for the parts --------------------------------------------------------------

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return aware datetimes")
        return now.astimezone(dt.UTC)

    def _actor(self, actor: str | None) -> str:
        return self.actor if actor is None else actor

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction (SQLite: `BEGIN IMMEDIATE`), committed on a clean exit."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    def _select(self, cls: type[Any], query: Select[Any]) -> list[Any]:
        with self._read() as session:
            return [from_row(cls, row) for row in session.scalars(query)]

    def _get(self, session: Session, row_type: type[RowT], ident: int, kind: str) -> RowT:
        row = session.get(row_type, ident)
        if row is None:
            raise NotFoundError(kind, ident)
        return row

    def _insert_or_get(self, session: Session, row: RowT, lookup: Select[Any]) -> tuple[RowT, bool]:
        """`(row, True)` once inserted, `(existing, False)` when the natural key is taken."""
        existing: RowT | None = session.scalars(lookup).one_or_none()
        if existing is not None:
            return existing, False
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            existing = session.scalars(lookup).one_or_none()
            if existing is None:
                raise
            return existing, False
        return row, True

    def _audit(
        self,
        session: Session,
        action: str,
        subject: str,
        payload: dict[str, Any],
        experiment_id: int | None,
        actor: str | None,
    ) -> AuditEntryRow:
        entry = AuditEntryRow(
            at=self._now(),
            actor=self._actor(actor),
            action=action,
            subject=subject,
            experiment_id=experiment_id,
            payload=payload,
        )
        session.add(entry)
        return entry

    def _experiment_row(self, session: Session, experiment: ExperimentRef) -> ExperimentRow:
        return self._get(session, ExperimentRow, ref_id(experiment), "experiment")

    def _candidate_of(
        self, session: Session, experiment: ExperimentRef, candidate: CandidateRef
    ) -> CandidateRow:
        """The candidate row, checked to belong to the experiment."""
        row = self._get(session, CandidateRow, ref_id(candidate), "candidate")
        if row.experiment_id != ref_id(experiment):
            raise ConflictError(
                f"candidate {row.id} belongs to experiment {row.experiment_id}, "
                f"not {ref_id(experiment)}"
            )
        return row


def _guard_audit_log(factory: sessionmaker[Session]) -> None:
    """Refuse ORM bulk UPDATE/DELETE statements on the audit log (row events are in models)."""
    event.listen(factory, "do_orm_execute", _refuse_audit_change)


def _refuse_audit_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEntryRow.__tablename__:
        raise AppendOnlyError("the audit log is append-only: no UPDATE or DELETE")
