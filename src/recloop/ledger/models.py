"""The ledger's tables, as SQLAlchemy ORM models (the initial migration creates exactly these).

Each row that a loop step writes has a natural key with a unique constraint, so writing it
again returns the row that is there ("insert or return existing"). Free-form parts of a record
live in JSON columns (`payload`, `evidence`, `attribution`, …); everything the loop filters or
joins on is a typed column. Times are aware UTC (`schema.UTCDateTime`), set by the ledger's
clock. The audit log is append-only: the `Ledger` never updates it, mapper events refuse an ORM
update or delete, and database triggers (created by the migration) refuse raw SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.orm.properties import MappedColumn

from recloop.ledger.errors import AppendOnlyError
from recloop.ledger.schema import Base, JSONType, Key, LongText, UTCDateTime, Word, in_vocabulary
from recloop.ledger.states import STATES
from recloop.ledger.vocabulary import (
    APPROVAL_STATUSES,
    LEVELS,
    METRIC_KINDS,
    ONLINE_TEST_STATUSES,
    OUTCOMES,
    VERDICTS,
)

Json = dict[str, Any]
Commit = String(64)


def _experiment_fk(nullable: bool = False) -> MappedColumn[Any]:
    return mapped_column(ForeignKey("experiments.id"), index=True, nullable=nullable)


def _candidate_fk(nullable: bool = False) -> MappedColumn[Any]:
    return mapped_column(ForeignKey("candidates.id"), index=True, nullable=nullable)


class ProposalRow(Base):
    __tablename__ = "proposals"
    __table_args__ = (CheckConstraint(in_vocabulary("level", LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Key, unique=True)
    family: Mapped[str] = mapped_column(Key, index=True)
    title: Mapped[str] = mapped_column(LongText)
    hypothesis: Mapped[str] = mapped_column(LongText)
    level: Mapped[str] = mapped_column(Word)
    source: Mapped[str] = mapped_column(Key)
    params: Mapped[Json] = mapped_column(JSONType)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (CheckConstraint(in_vocabulary("state", STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Key, unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    state: Mapped[str] = mapped_column(Word, index=True)
    state_version: Mapped[int] = mapped_column(Integer)
    base_commit: Mapped[str | None] = mapped_column(Commit)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CandidateRow(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = _experiment_fk()
    name: Mapped[str] = mapped_column(Key)
    branch: Mapped[str] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(Commit)
    base_commit: Mapped[str | None] = mapped_column(Commit)
    diff: Mapped[str] = mapped_column(LongText)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StageRunRow(Base):
    __tablename__ = "stage_runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "candidate_id", "stage", "attempt"),
        CheckConstraint(in_vocabulary("verdict", VERDICTS), name="verdict"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = _experiment_fk()
    candidate_id: Mapped[int] = _candidate_fk()
    stage: Mapped[str] = mapped_column(Key)
    attempt: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(Word)
    cause: Mapped[str | None] = mapped_column(Key)
    sentence: Mapped[str] = mapped_column(LongText)
    evidence: Mapped[Json] = mapped_column(JSONType)
    wall_seconds: Mapped[float] = mapped_column(Float)
    cpu_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MetricRow(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("candidate_id", "kind", "name", "attempt"),
        CheckConstraint(in_vocabulary("kind", METRIC_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = _experiment_fk()
    candidate_id: Mapped[int] = _candidate_fk()
    kind: Mapped[str] = mapped_column(Word)
    name: Mapped[str] = mapped_column(Key)
    attempt: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OnlineTestRow(Base):
    __tablename__ = "online_tests"
    __table_args__ = (
        UniqueConstraint("candidate_id", "attempt"),
        CheckConstraint(in_vocabulary("status", ONLINE_TEST_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = _experiment_fk()
    candidate_id: Mapped[int] = _candidate_fk()
    attempt: Mapped[int] = mapped_column(Integer)
    tables_location: Mapped[str] = mapped_column(LongText)
    status: Mapped[str] = mapped_column(Word)
    payload: Mapped[Json] = mapped_column(JSONType)
    decision_payload: Mapped[Json] = mapped_column(JSONType)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint(in_vocabulary("outcome", OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), unique=True)
    candidate_id: Mapped[int | None] = _candidate_fk(nullable=True)
    online_test_id: Mapped[int | None] = mapped_column(ForeignKey("online_tests.id"))
    outcome: Mapped[str] = mapped_column(Word)
    rule_outcome: Mapped[Json] = mapped_column(JSONType)
    decided_by: Mapped[str] = mapped_column(Key)
    explanation: Mapped[str] = mapped_column(LongText)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("experiment_id", "gate"),
        CheckConstraint(in_vocabulary("required_level", LEVELS), name="required_level"),
        CheckConstraint(in_vocabulary("status", APPROVAL_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = _experiment_fk()
    gate: Mapped[str] = mapped_column(Key)
    required_level: Mapped[str] = mapped_column(Word)
    status: Mapped[str] = mapped_column(Word, index=True)
    requested_by: Mapped[str] = mapped_column(Key)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(Key)
    note: Mapped[str] = mapped_column(LongText)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KnowledgeAssetRow(Base):
    __tablename__ = "knowledge_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Key, unique=True)
    experiment_id: Mapped[int | None] = _experiment_fk(nullable=True)
    kind: Mapped[str] = mapped_column(Key, index=True)
    title: Mapped[str] = mapped_column(LongText)
    text: Mapped[str] = mapped_column(LongText)
    attribution: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KnowledgeTagRow(Base):
    __tablename__ = "knowledge_tags"

    asset_id: Mapped[int] = mapped_column(ForeignKey("knowledge_assets.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(Key, primary_key=True, index=True)


class _Removable:
    """Columns of a record a person can inspect, let expire, or remove (with a reason)."""

    signature: Mapped[str] = mapped_column(Key, index=True)
    scope: Mapped[str] = mapped_column(Key)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(Key)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(LongText)


class FailureRecordRow(_Removable, Base):
    """A rejection kept as memory: from a stage run of the ledger (`stage_run_id`), or a
    knowledge store's record (`key`, its own id), linked to its experiment when there is one."""

    __tablename__ = "failure_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(Key, unique=True)
    stage_run_id: Mapped[int | None] = mapped_column(ForeignKey("stage_runs.id"), unique=True)
    experiment_id: Mapped[int | None] = _experiment_fk(nullable=True)
    candidate_id: Mapped[int | None] = _candidate_fk(nullable=True)
    stage: Mapped[str] = mapped_column(Key)
    cause: Mapped[str | None] = mapped_column(Key)
    family: Mapped[str | None] = mapped_column(Key)


class ForbiddenDirectionRow(_Removable, Base):
    __tablename__ = "forbidden_directions"
    __table_args__ = (
        # one live entry per (signature, scope); removed ones stay for the record
        Index(
            "uq_forbidden_directions_live",
            "signature",
            "scope",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(LongText)
    created_by: Mapped[str] = mapped_column(Key)


class PlaybookVersionRow(Base):
    __tablename__ = "playbook_versions"
    __table_args__ = (
        UniqueConstraint("agent", "version"),
        UniqueConstraint("agent", "text_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(Key)
    version: Mapped[int] = mapped_column(Integer)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(LongText)
    text_sha256: Mapped[str] = mapped_column(String(64))
    outcome_rate: Mapped[float | None] = mapped_column(Float)
    n_outcomes: Mapped[int | None] = mapped_column(Integer)
    accepted: Mapped[bool | None] = mapped_column()
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LLMCallRow(Base):
    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(Key, unique=True)
    agent: Mapped[str] = mapped_column(Key, index=True)
    experiment_id: Mapped[int | None] = _experiment_fk(nullable=True)
    model: Mapped[str] = mapped_column(Key)
    tokens_in: Mapped[int] = mapped_column(Integer)
    tokens_out: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_seconds: Mapped[float] = mapped_column(Float)
    prompt: Mapped[str] = mapped_column(LongText)
    response: Mapped[str] = mapped_column(LongText)
    error: Mapped[str | None] = mapped_column(LongText)
    payload: Mapped[Json] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEntryRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(Key)
    action: Mapped[str] = mapped_column(Key)
    subject: Mapped[str] = mapped_column(Key, index=True)
    experiment_id: Mapped[int | None] = _experiment_fk(nullable=True)
    payload: Mapped[Json] = mapped_column(JSONType)


@event.listens_for(AuditEntryRow, "before_update")
@event.listens_for(AuditEntryRow, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: Connection, target: AuditEntryRow) -> None:
    raise AppendOnlyError(f"audit entry {target.id} cannot be changed or deleted")
