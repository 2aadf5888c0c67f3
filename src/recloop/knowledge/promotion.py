"""The promotion rule: patterns that fail repeatedly become forbidden directions.

Two rules, thresholds in `PromotionConfig` (defaults in brackets):

- **repeated-early-failure**: at least `early_threshold` [2] rejections at an early stage
  [structural, semantic, local] with the same change signature (`Signature.key`) and the same
  cause code. The direction forbids that very change: its family, exactly its parameter names
  with each value's √2 log bucket, its files and its symbols (`Pattern.exact`).
- **repeated-offline-rejection**: at least `offline_threshold` [3] offline rejections (any
  cause: significantly worse, a guardrail violated, …) in the same parameter region: same family,
  same parameter names, each numeric value in the same log bucket of ratio
  `offline_region_ratio` [2, an octave] and other values equal. The direction forbids the region
  whatever code implements it. Changes without parameters fall back to the signature.

Only verdicts `reject` count: infrastructure errors (`error`) never do. With `scope` "champion"
[default] only failures on the current champion count and the direction is scoped to it, so it
lapses when the champion moves; with "workspace" failures on any champion count and the
direction lapses after `expire_after_champion_changes` [3] champion changes. Both lapse after
`expire_after_days` [30]. Failures older than `max_failure_age_days` [no limit] are ignored.

`promote` is idempotent: run over all stored failures it proposes only new directions, new
evidence for active ones, and reinstatements of removed or lapsed ones. A direction a person
removed comes back only from enough *fresh* failures (not already its evidence).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.knowledge._time import as_utc
from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import (
    AuditEntry,
    Expiry,
    ForbiddenDirection,
    Scope,
    direction_id,
    forbid,
)
from recloop.knowledge.pattern import Pattern, condition_for
from recloop.knowledge.proposal import normalise_name
from recloop.knowledge.signature import UNKNOWN_FAMILY, bucket_label
from recloop.knowledge.store import KnowledgeStore
from recloop.workspace.manifest import Stage

EARLY_RULE = "repeated-early-failure"
OFFLINE_RULE = "repeated-offline-rejection"


class PromotionConfig(BaseModel):
    """Thresholds and lifetimes of the promotion rule (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    early_stages: tuple[Stage, ...] = ("structural", "semantic", "local")
    early_threshold: int = Field(default=2, ge=1)
    offline_stages: tuple[Stage, ...] = ("offline",)
    offline_threshold: int = Field(default=3, ge=1)
    offline_region_ratio: float = Field(default=2.0, gt=1.0)
    scope: Literal["champion", "workspace"] = "champion"
    expire_after_days: float | None = Field(default=30.0, gt=0)
    expire_after_champion_changes: int | None = Field(default=3, ge=1)
    max_failure_age_days: float | None = Field(default=None, gt=0)


@dataclass(frozen=True)
class _Group:
    """Failures that count together, with the pattern they would forbid and the rule's words."""

    rule: str
    pattern: Pattern
    failures: tuple[FailureRecord, ...]
    threshold: int
    what: str  # "rejections at the semantic stage for 'undefined-name' with signature sg-…"


def promote(
    failures: Iterable[FailureRecord],
    directions: Iterable[ForbiddenDirection],
    *,
    now: datetime,
    champion: Champion,
    config: PromotionConfig | None = None,
) -> list[ForbiddenDirection]:
    """New or changed directions (to store with `KnowledgeStore.add`) that the failures call for."""
    config = config or PromotionConfig()
    now = as_utc(now)
    scope = (
        Scope(kind="champion", champion=champion.commit) if config.scope == "champion" else Scope()
    )
    existing = {d.id: d for d in directions}
    out = []
    for group in _groups(_counting(failures, config, now, champion), config):
        pattern_id = direction_id(group.pattern, scope)
        changed = _apply(group, existing.get(pattern_id), scope, config, now, champion)
        if changed is not None:
            out.append(changed)
    return out


def record_failure(
    store: KnowledgeStore,
    failure: FailureRecord,
    *,
    now: datetime,
    champion: Champion,
    config: PromotionConfig | None = None,
) -> list[ForbiddenDirection]:
    """Store a failure, run the promotion rule over all stored failures, store what it changes."""
    store.add_failure(failure)
    changed = promote(store.failures(), store.list(), now=now, champion=champion, config=config)
    for direction in changed:
        store.add(direction)
    return changed


def _counting(
    failures: Iterable[FailureRecord], config: PromotionConfig, now: datetime, champion: Champion
) -> list[FailureRecord]:
    oldest = (
        None
        if config.max_failure_age_days is None
        else now - timedelta(days=config.max_failure_age_days)
    )
    return [
        f
        for f in failures
        if f.counts
        and (oldest is None or f.recorded_at >= oldest)
        and (config.scope == "workspace" or (f.champion and champion.is_commit(f.champion)))
    ]


def _groups(failures: list[FailureRecord], config: PromotionConfig) -> list[_Group]:
    early: dict[tuple[str, str], list[FailureRecord]] = defaultdict(list)
    offline: dict[tuple[str, ...], list[FailureRecord]] = defaultdict(list)
    for f in sorted(failures, key=lambda f: (f.recorded_at, f.id)):
        if f.stage in config.early_stages:
            early[(f.signature.key, f.cause)].append(f)
        elif f.stage in config.offline_stages:
            offline[_region_key(f, config.offline_region_ratio)].append(f)
    groups = [
        _Group(
            rule=EARLY_RULE,
            pattern=_signature_pattern(members[0]),
            failures=tuple(members),
            threshold=config.early_threshold,
            what=f"rejections at the {members[-1].stage} stage for {cause!r} with the same "
            f"change signature {key} ({members[-1].signature.describe()})",
        )
        for (key, cause), members in early.items()
    ]
    for members in offline.values():
        first = members[0]
        pattern = (
            _region_pattern(first, config.offline_region_ratio)
            if first.parameters
            else _signature_pattern(first)
        )
        causes = ", ".join(sorted({f.cause for f in members}))
        groups.append(
            _Group(
                rule=OFFLINE_RULE,
                pattern=pattern,
                failures=tuple(members),
                threshold=config.offline_threshold,
                what=f"offline rejections ({causes}) in the region {pattern.describe()}",
            )
        )
    return groups


def _region_key(failure: FailureRecord, ratio: float) -> tuple[str, ...]:
    if not failure.parameters:
        return ("signature", failure.signature.key)
    labels = sorted(
        f"{normalise_name(n)}={bucket_label(v, ratio)}" for n, v in failure.parameters.items()
    )
    return ("region", failure.signature.family, *labels)


def _family(failure: FailureRecord) -> str | None:
    return None if failure.signature.family == UNKNOWN_FAMILY else failure.signature.family


def _signature_pattern(failure: FailureRecord) -> Pattern:
    """This very change: family, parameter buckets, files and symbols, exactly."""
    return Pattern(
        family=_family(failure),
        params={n: condition_for(v) for n, v in failure.parameters.items()},
        files=failure.signature.files,
        symbols=failure.signature.symbols,
        exact=True,
    )


def _region_pattern(failure: FailureRecord, ratio: float) -> Pattern:
    """The family and the parameter region around the failure, whatever the code."""
    return Pattern(
        family=_family(failure),
        params={n: condition_for(v, ratio) for n, v in failure.parameters.items()},
        exact=True,
    )


def _apply(
    group: _Group,
    existing: ForbiddenDirection | None,
    scope: Scope,
    config: PromotionConfig,
    now: datetime,
    champion: Champion,
) -> ForbiddenDirection | None:
    ids = [f.id for f in group.failures]
    changes = None if scope.champion else config.expire_after_champion_changes
    expiry = Expiry.of(now, config.expire_after_days, changes)
    if existing is None:
        if len(ids) < group.threshold:
            return None
        reason = f"{len(ids)} {group.what}; last: {group.failures[-1].sentence}"
        return forbid(
            group.pattern,
            origin="rule",
            by=group.rule,
            reason=reason,
            now=now,
            scope=scope,
            expiry=expiry,
            evidence=ids,
            since=champion,
        )
    fresh = [i for i in ids if i not in existing.evidence]
    if not fresh:
        return None
    evidence = (*existing.evidence, *fresh)
    if existing.is_active(now, champion):
        entry = AuditEntry(
            action="evidence-added", at=now, by=group.rule, reason=f"{len(fresh)} more failure(s)"
        )
        return existing.with_entry(entry, evidence=evidence)
    if len(fresh) < group.threshold:
        return None
    entry = AuditEntry(
        action="reinstated",
        at=now,
        by=group.rule,
        reason=f"{len(fresh)} fresh {group.what}; it had stopped applying: "
        f"{existing.inactive_reason(now, champion)}",
    )
    return existing.with_entry(entry, evidence=evidence, expiry=expiry, since=champion)
