"""What the loop learns from failures: failure records and forbidden directions.

Failure records and forbidden directions are inspectable and removable by a person: removal
keeps the row (with who, when and why) and only takes it out of the active set; an expiry does
the same by itself.

The knowledge store (`recloop.knowledge.ledger_store`) keeps its own records here too:
`keep_failure` stores a failure record by its own key, and `write_forbidden_directions` is a
read-modify-write of directions in one transaction (rows locked), so concurrent processes never
lose each other's changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recloop.ledger._core import LedgerCore, Payload, ref_id
from recloop.ledger.errors import ConflictError
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import (
    CandidateRow,
    ExperimentRow,
    FailureRecordRow,
    ForbiddenDirectionRow,
    StageRunRow,
)
from recloop.ledger.records import (
    FailureRecord,
    ForbiddenDirection,
    ForbiddenDirectionWrite,
    StageRun,
    from_row,
)

Removable = type[FailureRecordRow] | type[ForbiddenDirectionRow]
DirectionChange = Callable[[list[ForbiddenDirection]], Iterable[ForbiddenDirectionWrite]]
_WRITE_RETRIES = 5  # concurrent writers inserting the same new direction (Postgres)
_WRITTEN = (
    "signature", "scope", "reason", "created_by", "payload", "created_at", "expires_at",
    "removed_by", "removed_at", "removed_reason",
)  # fmt: skip


class LearningPart(LedgerCore):
    # -- failure records ---------------------------------------------------------------------

    def record_failure(
        self,
        stage_run: int | StageRun,
        *,
        signature: str,
        scope: str,
        family: str | None = None,
        payload: Payload = None,
        expires_at: dt.datetime | None = None,
        actor: str | None = None,
    ) -> FailureRecord:
        """Turn a rejected stage run into a failure record, once per stage run.

        Experiment, candidate, stage and cause are read from the stage run itself.
        """
        with self._write() as session:
            run = self._get(session, StageRunRow, ref_id(stage_run), "stage run")
            row = FailureRecordRow(
                stage_run_id=run.id,
                experiment_id=run.experiment_id,
                candidate_id=run.candidate_id,
                stage=run.stage,
                cause=run.cause,
                family=family,
                signature=signature,
                scope=scope,
                payload=to_json_object(payload, "payload"),
                created_at=self._now(),
                expires_at=expires_at,
            )
            lookup = select(FailureRecordRow).where(FailureRecordRow.stage_run_id == run.id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"signature": signature, "scope": scope, "stage": run.stage}
                subject = f"failure:{row.id}"
                self._audit(session, "failure.record", subject, detail, run.experiment_id, actor)
            return from_row(FailureRecord, row)

    def failures(
        self,
        *,
        signature: str | None = None,
        scope: str | None = None,
        active_at: dt.datetime | None = None,
        include_inactive: bool = False,
    ) -> list[FailureRecord]:
        """Failure records, oldest first; only active ones (at `active_at`, default now)
        unless `include_inactive`."""
        query = _filtered(FailureRecordRow, signature, scope)
        if not include_inactive:
            query = _only_active(query, FailureRecordRow, active_at or self._now())
        return self._select(FailureRecord, query)

    def keep_failure(
        self,
        key: str,
        *,
        stage: str,
        cause: str | None,
        family: str | None,
        signature: str,
        scope: str,
        payload: Payload,
        created_at: dt.datetime,
        experiment_key: str | None = None,
        actor: str | None = None,
    ) -> tuple[FailureRecord, bool]:
        """Keep a failure record under its own `key`, once (the first one stands); `(record,
        created)`. It is linked to the experiment named `experiment_key`, its newest candidate
        and its newest unlinked stage run at `stage`, when the ledger has them."""
        lookup = select(FailureRecordRow).where(FailureRecordRow.key == key)
        with self._write() as session:
            row = FailureRecordRow(
                key=key,
                stage=stage,
                cause=cause,
                family=family,
                signature=signature,
                scope=scope,
                payload=to_json_object(payload, "payload"),
                created_at=created_at,
                expires_at=None,
                **_links(session, experiment_key, stage),
            )
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"key": key, "signature": signature, "scope": scope, "stage": stage}
                subject = f"failure:{row.id}"
                self._audit(session, "failure.record", subject, detail, row.experiment_id, actor)
            return from_row(FailureRecord, row), created

    def remove_failure(self, failure_id: int, *, by: str, reason: str) -> FailureRecord:
        """A person takes a failure record out of the active set (kept, with who and why)."""
        with self._write() as session:
            row = self._remove(session, FailureRecordRow, failure_id, by, reason, "failure")
            return from_row(FailureRecord, row)

    # -- forbidden directions ----------------------------------------------------------------

    def forbid(
        self,
        signature: str,
        scope: str,
        *,
        reason: str,
        expires_at: dt.datetime | None = None,
        payload: Payload = None,
        actor: str | None = None,
    ) -> ForbiddenDirection:
        """Forbid a direction: one live entry per (signature, scope).

        A live, unexpired entry is returned as it is; an expired one is closed (removed by
        `expiry`) and a new one takes its place.
        """
        now = self._now()
        with self._write() as session:
            live_lookup = select(ForbiddenDirectionRow).where(
                ForbiddenDirectionRow.signature == signature,
                ForbiddenDirectionRow.scope == scope,
                ForbiddenDirectionRow.removed_at.is_(None),
            )
            live = session.scalars(live_lookup).one_or_none()
            if live is not None and (live.expires_at is None or live.expires_at > now):
                return from_row(ForbiddenDirection, live)
            if live is not None:
                live.removed_by, live.removed_at, live.removed_reason = "expiry", now, "expired"
                session.flush()
            row = ForbiddenDirectionRow(
                signature=signature,
                scope=scope,
                reason=reason,
                created_by=self._actor(actor),
                payload=to_json_object(payload, "payload"),
                created_at=now,
                expires_at=expires_at,
            )
            row, created = self._insert_or_get(session, row, live_lookup)
            if created:
                session.flush()
                detail = {"signature": signature, "scope": scope, "reason": reason}
                self._audit(session, "forbidden.add", f"forbidden:{row.id}", detail, None, actor)
            return from_row(ForbiddenDirection, row)

    def forbidden_directions(
        self,
        *,
        signature: str | None = None,
        scope: str | None = None,
        active_at: dt.datetime | None = None,
        include_inactive: bool = False,
    ) -> list[ForbiddenDirection]:
        """Forbidden directions, oldest first; only active ones unless `include_inactive`."""
        query = _filtered(ForbiddenDirectionRow, signature, scope)
        if not include_inactive:
            query = _only_active(query, ForbiddenDirectionRow, active_at or self._now())
        return self._select(ForbiddenDirection, query)

    def remove_forbidden_direction(
        self, direction_id: int, *, by: str, reason: str
    ) -> ForbiddenDirection:
        """A person lifts a forbidden direction (kept, with who and why)."""
        with self._write() as session:
            row = self._remove(
                session, ForbiddenDirectionRow, direction_id, by, reason, "forbidden"
            )
            return from_row(ForbiddenDirection, row)

    def write_forbidden_directions(
        self,
        change: DirectionChange,
        *,
        signature: str | None = None,
        actor: str | None = None,
    ) -> list[ForbiddenDirection]:
        """Read, change and write forbidden directions in one transaction; the rows written.

        `change` sees the directions (all, or those of `signature`; removed ones included),
        locked until the commit, and returns the writes: each updates the row with its `id` or
        inserts a new one, with its audit entry. A write that lost a race to insert the same
        live direction is retried from a fresh read, so `change` must only read its argument.
        """
        for _ in range(_WRITE_RETRIES):
            try:
                return self._write_directions(change, signature, actor)
            except IntegrityError:
                continue
        raise ConflictError("could not write the forbidden directions: too many concurrent writers")

    def _write_directions(
        self, change: DirectionChange, signature: str | None, actor: str | None
    ) -> list[ForbiddenDirection]:
        query = _filtered(ForbiddenDirectionRow, signature, None).with_for_update()
        with self._write() as session:
            rows = {row.id: row for row in session.scalars(query)}
            written = []
            for write in list(change([from_row(ForbiddenDirection, r) for r in rows.values()])):
                row = ForbiddenDirectionRow() if write.id is None else rows[write.id]
                for name in _WRITTEN:
                    setattr(row, name, getattr(write, name))
                row.payload = to_json_object(write.payload, "payload")
                session.add(row)
                session.flush()
                detail = {"signature": row.signature, "scope": row.scope, "reason": row.reason}
                self._audit(session, write.action, f"forbidden:{row.id}", detail, None, actor)
                written.append(from_row(ForbiddenDirection, row))
            return written

    def _remove(
        self, session: Session, table: Removable, ident: int, by: str, reason: str, kind: str
    ) -> Any:
        row = self._get(session, table, ident, kind)
        if row.removed_at is None:
            row.removed_by, row.removed_at, row.removed_reason = by, self._now(), reason
            detail = {"reason": reason}
            experiment_id = getattr(row, "experiment_id", None)
            self._audit(session, f"{kind}.remove", f"{kind}:{ident}", detail, experiment_id, by)
        return row


def _links(session: Session, experiment_key: str | None, stage: str) -> dict[str, int | None]:
    """The experiment, newest candidate and newest unlinked stage run a failure belongs to."""
    links: dict[str, int | None] = dict.fromkeys(("experiment_id", "candidate_id", "stage_run_id"))
    if experiment_key is None:
        return links
    experiment = session.scalars(
        select(ExperimentRow.id).where(ExperimentRow.key == experiment_key)
    ).one_or_none()
    if experiment is None:
        return links
    linked = select(FailureRecordRow.stage_run_id).where(FailureRecordRow.stage_run_id.is_not(None))
    links["experiment_id"] = experiment
    links["candidate_id"] = session.scalar(
        select(CandidateRow.id)
        .where(CandidateRow.experiment_id == experiment)
        .order_by(CandidateRow.id.desc())
        .limit(1)
    )
    links["stage_run_id"] = session.scalar(
        select(StageRunRow.id)
        .where(
            StageRunRow.experiment_id == experiment,
            StageRunRow.stage == stage,
            StageRunRow.id.not_in(linked),
        )
        .order_by(StageRunRow.id.desc())
        .limit(1)
    )
    return links


def _filtered(table: Removable, signature: str | None, scope: str | None) -> Select[Any]:
    query: Select[Any] = select(table).order_by(table.id)
    if signature is not None:
        query = query.where(table.signature == signature)
    if scope is not None:
        query = query.where(table.scope == scope)
    return query


def _only_active(query: Select[Any], table: Removable, at: dt.datetime) -> Select[Any]:
    return query.where(
        table.removed_at.is_(None), or_(table.expires_at.is_(None), table.expires_at > at)
    )
