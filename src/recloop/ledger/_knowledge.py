"""Knowledge assets: what each finished experiment taught, as text and data, with tags.

Recorded once per key (the first one stands) and read back by tags, kind or experiment; the
LLM brainstormer retrieves from them (`recloop.knowledge`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from recloop.ledger._core import ExperimentRef, LedgerCore, Payload, ref_id
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import KnowledgeAssetRow, KnowledgeTagRow
from recloop.ledger.records import KnowledgeAsset, from_row


class KnowledgePart(LedgerCore):
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


def _tags_of(session: Session, asset_id: int) -> tuple[str, ...]:
    query = (
        select(KnowledgeTagRow.tag)
        .where(KnowledgeTagRow.asset_id == asset_id)
        .order_by(KnowledgeTagRow.tag)
    )
    return tuple(session.scalars(query))
