"""What the loop learns: knowledge assets, failure records, forbidden directions.

Failure records and forbidden directions are inspectable and removable by a person: removal
keeps the row (with who, when and why) and only takes it out of the active set; an expiry does
the same by itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from recloop.ledger._core import ExperimentRef, LedgerCore, ref_id
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import (
    FailureRecordRow,
    ForbiddenDirectionRow,
    KnowledgeAssetRow,
    KnowledgeTagRow,
    StageRunRow,
)
from recloop.ledger.records import (
    FailureRecord,
    ForbiddenDirection,
    KnowledgeAsset,
    StageRun,
    from_row,
)

Payload = Mapping[str, Any] | None
Removable = type[FailureRecordRow] | type[ForbiddenDirectionRow]


class LearningPart(LedgerCore):
    # -- knowledge assets --------------------------------------------------------------------

    def add_knowledge_asset(
        self,
        key: str,
        *,
        kind: str,
        title: str,
        text: str,
        attribution: Payload,
        tags: Iterable[str] = (),
        experiment: ExperimentRef | None = None,
        actor: str | None = None,
    ) -> KnowledgeAsset:
        """Record a knowledge asset once per `key` (the first one stands)."""
        experiment_id = None if experiment is None else ref_id(experiment)
        tag_set = sorted(set(tags))
        row = KnowledgeAssetRow(
            key=key,
            experiment_id=experiment_id,
            kind=kind,
            title=title,
            text=text,
            attribution=to_json_object(attribution, "attribution"),
            created_at=self._now(),
        )
        lookup = select(KnowledgeAssetRow).where(KnowledgeAssetRow.key == key)
        with self._write() as session:
            if experiment_id is not None:
                self._experiment_row(session, experiment_id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                session.add_all(KnowledgeTagRow(asset_id=row.id, tag=tag) for tag in tag_set)
                detail = {"key": key, "kind": kind, "tags": tag_set}
                subject = f"knowledge_asset:{row.id}"
                self._audit(session, "knowledge.add", subject, detail, experiment_id, actor)
                return from_row(KnowledgeAsset, row, tags=tuple(tag_set))
            return from_row(KnowledgeAsset, row, tags=_tags_of(session, row.id))

    def knowledge_assets(
        self,
        *,
        tags: Iterable[str] = (),
        kind: str | None = None,
        experiment: ExperimentRef | None = None,
    ) -> list[KnowledgeAsset]:
        """Assets, oldest first, that carry every tag in `tags` (and match `kind`/`experiment`)."""
        query = select(KnowledgeAssetRow).order_by(KnowledgeAssetRow.id)
        for tag in set(tags):
            query = query.where(
                KnowledgeAssetRow.id.in_(
                    select(KnowledgeTagRow.asset_id).where(KnowledgeTagRow.tag == tag)
                )
            )
        if kind is not None:
            query = query.where(KnowledgeAssetRow.kind == kind)
        if experiment is not None:
            query = query.where(KnowledgeAssetRow.experiment_id == ref_id(experiment))
        with self._read() as session:
            return [
                from_row(KnowledgeAsset, row, tags=_tags_of(session, row.id))
                for row in session.scalars(query)
            ]

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


def _tags_of(session: Session, asset_id: int) -> tuple[str, ...]:
    query = (
        select(KnowledgeTagRow.tag)
        .where(KnowledgeTagRow.asset_id == asset_id)
        .order_by(KnowledgeTagRow.tag)
    )
    return tuple(session.scalars(query))


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
