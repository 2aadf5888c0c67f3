"""What the ledger returns: frozen snapshots of its rows, detached from any database session.

One record type per table, named by the domain noun; fields are the columns (times aware UTC,
JSON columns as plain dicts). Derived facts are properties, never stored copies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

from recloop.ledger.states import TERMINAL

Json = dict[str, Any]
R = TypeVar("R")


class _Removable:
    """A record a person can remove or that can expire (its fields are the subclass's own)."""

    __slots__ = ()
    expires_at: dt.datetime | None
    removed_at: dt.datetime | None

    def active_at(self, at: dt.datetime) -> bool:
        """Not removed and not expired at `at`."""
        return self.removed_at is None and (self.expires_at is None or self.expires_at > at)


@dataclasses.dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    key: str
    family: str
    title: str
    hypothesis: str
    level: str
    source: str
    params: Json
    payload: Json
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    key: str
    proposal_id: int
    state: str
    state_version: int
    """How many transitions the experiment has made."""
    base_commit: str | None
    payload: Json
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def is_finished(self) -> bool:
        """Launched or closed: no transition leaves this state."""
        return self.state in TERMINAL


@dataclasses.dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    experiment_id: int
    name: str
    branch: str
    commit: str | None
    base_commit: str | None
    diff: str
    payload: Json
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class StageRun:
    id: int
    experiment_id: int
    candidate_id: int
    stage: str
    attempt: int
    verdict: str
    cause: str | None
    sentence: str
    evidence: Json
    wall_seconds: float
    cpu_seconds: float
    created_at: dt.datetime

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


@dataclasses.dataclass(frozen=True, slots=True)
class Metric:
    id: int
    experiment_id: int
    candidate_id: int
    kind: str
    name: str
    attempt: int
    value: float
    ci_low: float | None
    ci_high: float | None
    payload: Json
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric to record: a value, its confidence interval when known, extra numbers."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    payload: Json = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class OnlineTest:
    id: int
    experiment_id: int
    candidate_id: int
    attempt: int
    tables_location: str
    status: str
    payload: Json
    decision_payload: Json
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    id: int
    experiment_id: int
    candidate_id: int | None
    online_test_id: int | None
    outcome: str
    rule_outcome: Json
    decided_by: str
    explanation: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Approval:
    id: int
    experiment_id: int
    gate: str
    required_level: str
    status: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    note: str
    decided_at: dt.datetime | None

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclasses.dataclass(frozen=True, slots=True)
class KnowledgeAsset:
    id: int
    key: str
    experiment_id: int | None
    kind: str
    title: str
    text: str
    """Plain text ready to embed or index (title, change summary, outcome, explanation)."""
    attribution: Json
    tags: tuple[str, ...]
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class FailureRecord(_Removable):
    id: int
    key: str | None
    """The knowledge store's id of the record (`fr-…`); None for one made from a stage run."""
    stage_run_id: int | None
    experiment_id: int | None
    candidate_id: int | None
    stage: str
    cause: str | None
    family: str | None
    signature: str
    scope: str
    payload: Json
    created_at: dt.datetime
    expires_at: dt.datetime | None
    removed_by: str | None
    removed_at: dt.datetime | None
    removed_reason: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ForbiddenDirection(_Removable):
    id: int
    signature: str
    scope: str
    reason: str
    created_by: str
    payload: Json
    created_at: dt.datetime
    expires_at: dt.datetime | None
    removed_by: str | None
    removed_at: dt.datetime | None
    removed_reason: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ForbiddenDirectionWrite:
    """A forbidden direction to write as it is given (`id` None: a new row), with the audit
    action that says why; for stores that keep their own times and removals (the knowledge
    store's directions)."""

    id: int | None
    signature: str
    scope: str
    reason: str
    created_by: str
    payload: Json
    created_at: dt.datetime
    expires_at: dt.datetime | None
    removed_by: str | None
    removed_at: dt.datetime | None
    removed_reason: str | None
    action: str


@dataclasses.dataclass(frozen=True, slots=True)
class PlaybookVersion:
    id: int
    agent: str
    version: int
    parent_version: int | None
    text: str
    text_sha256: str
    outcome_rate: float | None
    n_outcomes: int | None
    accepted: bool | None
    """None until scored; then whether this version was kept."""
    payload: Json
    created_at: dt.datetime
    scored_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class LLMCall:
    id: int
    key: str | None
    agent: str
    experiment_id: int | None
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_seconds: float
    prompt: str
    response: str
    error: str | None
    payload: Json
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class LLMUsage:
    """Totals over LLM calls (per run, agent or experiment)."""

    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclasses.dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    experiment_id: int | None
    payload: Json


def from_row(cls: type[R], row: object, **extra: Any) -> R:
    """The record `cls` with its fields read from the ORM `row` (and `extra` ones)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    values = {name: extra[name] if name in extra else getattr(row, name) for name in names}
    return cls(**values)
