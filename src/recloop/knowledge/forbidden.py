"""Forbidden directions: ideas recloop will not try again, and the check that enforces them.

A `ForbiddenDirection` is a `Pattern` (what it covers) with

- a **scope**: one champion commit (the default of the promotion rule: an idea that failed on
  one champion may be fine once the champion moves) or the whole workspace (the default when a
  person adds one);
- an **expiry**: a time, and/or a number of champion changes counted from `since` (the
  champion when it was created or last reinstated);
- the **evidence**: ids of the failure records behind it;
- its **origin**: `rule` (with the rule's name) or `person` (with the person's name), and why;
- an append-only **history** of audit entries (created, evidence-added, removed, expired,
  reinstated: who, when, why). Removing or expiring a direction adds an entry; nothing is
  deleted, so a person can always see what was forbidden, by whom, and who lifted it.

A direction is active when its last state entry is `created` or `reinstated`, its time has not
come, fewer than N champion changes have happened since, and its scope covers the current
champion. `check_proposal` is the cheapest rejection of all, run before any code is written;
`check_change` runs the same patterns against a written change's signature.

Ids are `fd-` and 8 hex digits of a SHA-256 of the pattern and scope: the same pattern in the same
scope is the same direction, whoever finds it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from recloop.knowledge._time import UtcDatetime, as_utc
from recloop.knowledge.champion import Champion
from recloop.knowledge.pattern import Pattern
from recloop.knowledge.proposal import ParamValue, Proposal
from recloop.knowledge.signature import Signature

Origin = Literal["rule", "person"]
Action = Literal["created", "evidence-added", "removed", "expired", "reinstated"]
State = Literal["active", "removed", "expired"]
_STATE_OF: dict[str, State] = {
    "created": "active",
    "reinstated": "active",
    "removed": "removed",
    "expired": "expired",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scope(_Frozen):
    """Where a direction applies: the whole workspace, or only while one commit is champion."""

    kind: Literal["workspace", "champion"] = "workspace"
    champion: str | None = Field(default=None, pattern=r"^[0-9a-f]{7,64}$")

    @model_validator(mode="after")
    def _champion_iff_kind(self) -> Self:
        if (self.kind == "champion") != (self.champion is not None):
            raise ValueError("a champion scope names its commit, a workspace scope none")
        return self

    def covers(self, champion: Champion) -> bool:
        return self.champion is None or champion.is_commit(self.champion)

    def describe(self) -> str:
        return "workspace" if self.champion is None else f"champion {self.champion[:10]}"


class Expiry(_Frozen):
    """When a direction lapses by itself: at a time, after N champion changes, or never."""

    at: UtcDatetime | None = None
    after_champion_changes: int | None = Field(default=None, ge=1)

    @classmethod
    def of(cls, now: datetime, days: float | None, changes: int | None) -> Expiry:
        at = None if days is None else as_utc(now) + timedelta(days=days)
        return cls(at=at, after_champion_changes=changes)

    def describe(self) -> str:
        parts = [] if self.at is None else [f"at {self.at:%Y-%m-%d %H:%M} UTC"]
        if self.after_champion_changes is not None:
            parts.append(f"after {self.after_champion_changes} champion change(s)")
        return " or ".join(parts) or "never"


class AuditEntry(_Frozen):
    """One step of a direction's life: what happened, when, by whom (a person or a rule), why."""

    action: Action
    at: UtcDatetime
    by: str = Field(min_length=1)
    reason: str = ""


class ForbiddenDirection(_Frozen):
    """See the module docstring; build one with `forbid`."""

    id: str = Field(pattern=r"^fd-[0-9a-f]{8}$")
    pattern: Pattern
    scope: Scope
    expiry: Expiry = Expiry()
    evidence: tuple[str, ...] = ()  # failure record ids
    origin: Origin
    created_by: str = Field(min_length=1)  # the rule's name or the person's
    reason: str = Field(min_length=1)
    since: Champion | None = None  # the champion when created or last reinstated
    history: tuple[AuditEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != direction_id(self.pattern, self.scope):
            raise ValueError(f"id {self.id} is not the hash of the pattern and scope")
        if self.expiry.after_champion_changes is not None and self.since is None:
            raise ValueError("expiry after champion changes needs the champion it counts from")
        if self.history[0].action != "created":
            raise ValueError("a direction's history starts with its creation")
        return self

    @property
    def created_at(self) -> datetime:
        return self.history[0].at

    @property
    def status(self) -> State:
        """The stored state (removal and expiry entries), before time and champion are read."""
        actions = [e.action for e in self.history if e.action in _STATE_OF]
        return _STATE_OF[actions[-1]]

    def last(self, action: Action) -> AuditEntry | None:
        entries = [e for e in self.history if e.action == action]
        return entries[-1] if entries else None

    def lapse(self, now: datetime, champion: Champion | None) -> str | None:
        """Why an active direction has lapsed by now (time, champion changes, champion moved),
        or None; with `champion` unknown only time is checked."""
        now = as_utc(now)  # a naive time is refused even when no expiry time is set
        if self.expiry.at is not None and now >= self.expiry.at:
            return f"its time ran out at {self.expiry.at:%Y-%m-%d %H:%M} UTC"
        if champion is None:
            return None
        if not self.scope.covers(champion):
            old = (self.scope.champion or "")[:10]
            return f"it was scoped to champion {old}; the champion is now {champion.short}"
        limit = self.expiry.after_champion_changes
        if limit is not None and self.since is not None:
            changes = champion.generation - self.since.generation
            if changes >= limit:
                return f"the champion changed {changes} time(s) since {self.since.short}"
        return None

    def inactive_reason(self, now: datetime, champion: Champion | None) -> str | None:
        """Why the direction does not apply now, or None when it is active."""
        if self.status != "active":
            entry = self.last("removed" if self.status == "removed" else "expired")
            assert entry is not None
            return f"{self.status} by {entry.by} at {entry.at:%Y-%m-%d %H:%M} UTC: {entry.reason}"
        return self.lapse(now, champion)

    def is_active(self, now: datetime, champion: Champion | None) -> bool:
        return self.inactive_reason(now, champion) is None

    def with_entry(self, entry: AuditEntry, **changes: object) -> ForbiddenDirection:
        """A copy with an audit entry appended (and fields changed, e.g. evidence)."""
        data = self.model_dump()
        data.update(changes, history=[*self.history, entry])
        return ForbiddenDirection.model_validate(data)

    def describe(self) -> str:
        by = f"rule {self.created_by}" if self.origin == "rule" else self.created_by
        evidence = f"; evidence {', '.join(self.evidence)}" if self.evidence else ""
        return (
            f"{self.id}: {self.pattern.describe()}. Scope {self.scope.describe()}, expires "
            f"{self.expiry.describe()}. Forbidden by {by} on {self.created_at:%Y-%m-%d}: "
            f"{self.reason}{evidence}"
        )


def direction_id(pattern: Pattern, scope: Scope) -> str:
    canonical = json.dumps(
        {"pattern": pattern.model_dump(mode="json"), "scope": scope.model_dump(mode="json")},
        sort_keys=True,
    )
    return "fd-" + hashlib.sha256(canonical.encode()).hexdigest()[:8]


def forbid(
    pattern: Pattern,
    *,
    origin: Origin,
    by: str,
    reason: str,
    now: datetime,
    scope: Scope | None = None,
    expiry: Expiry | None = None,
    evidence: Iterable[str] = (),
    since: Champion | None = None,
) -> ForbiddenDirection:
    """A new direction (workspace scope unless given), its creation the first audit entry."""
    scope = scope or Scope()
    return ForbiddenDirection(
        id=direction_id(pattern, scope),
        pattern=pattern,
        scope=scope,
        expiry=expiry or Expiry(),
        evidence=tuple(dict.fromkeys(evidence)),
        origin=origin,
        created_by=by,
        reason=reason,
        since=since,
        history=(AuditEntry(action="created", at=now, by=by, reason=reason),),
    )


class ForbiddenMatch(_Frozen):
    """A direction that covers a proposal or change, and the clauses that matched."""

    direction: ForbiddenDirection
    clauses: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return (
            f"forbidden direction {self.direction.id} covers it: {'; '.join(self.clauses)}. "
            f"{self.direction.describe()}"
        )


def _active(
    directions: Iterable[ForbiddenDirection], now: datetime, champion: Champion
) -> list[ForbiddenDirection]:
    """Active directions, a person's first, then oldest first (a stable, explainable order)."""
    active = [d for d in directions if d.is_active(now, champion)]
    return sorted(active, key=lambda d: (d.origin != "person", d.created_at, d.id))


def proposal_matches(
    proposal: Proposal, directions: Iterable[ForbiddenDirection], now: datetime, champion: Champion
) -> list[ForbiddenMatch]:
    """Every active direction that covers the proposal."""
    found = []
    for direction in _active(directions, now, champion):
        clauses = direction.pattern.match_proposal(proposal)
        if clauses is not None:
            found.append(ForbiddenMatch(direction=direction, clauses=clauses))
    return found


def check_proposal(
    proposal: Proposal, directions: Iterable[ForbiddenDirection], now: datetime, champion: Champion
) -> ForbiddenMatch | None:
    """The first active direction covering the proposal (None: it may go ahead)."""
    found = proposal_matches(proposal, directions, now, champion)
    return found[0] if found else None


def check_change(
    signature: Signature,
    parameters: Mapping[str, ParamValue],
    directions: Iterable[ForbiddenDirection],
    now: datetime,
    champion: Champion,
) -> ForbiddenMatch | None:
    """The first active direction covering a written change (its signature and parameters)."""
    for direction in _active(directions, now, champion):
        clauses = direction.pattern.match_change(signature, parameters)
        if clauses is not None:
            return ForbiddenMatch(direction=direction, clauses=clauses)
    return None
