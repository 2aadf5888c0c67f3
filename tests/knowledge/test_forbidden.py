"""Forbidden directions: the check before code, explanations, scope, expiry, ids, audit state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from recloop.knowledge.champion import Champion
from recloop.knowledge.forbidden import (
    AuditEntry,
    Expiry,
    ForbiddenDirection,
    Scope,
    check_change,
    check_proposal,
    direction_id,
    forbid,
    proposal_matches,
)
from recloop.knowledge.pattern import Pattern, condition_for
from recloop.knowledge.proposal import Proposal
from recloop.knowledge.signature import change_signature

DECAY = Pattern(family="time-decay", params={"half_life_days": condition_for(30)}, exact=True)
PROPOSAL = Proposal(family="time-decay", hypothesis="h", parameters={"half_life_days": 33})


def direction(
    now: datetime, champion: Champion, pattern: Pattern = DECAY, **fields: Any
) -> ForbiddenDirection:
    args: dict[str, Any] = {
        "origin": "rule",
        "by": "repeated-early-failure",
        "reason": "2 rejections at the structural stage for 'undefined-name'",
        "now": now,
        "scope": Scope(kind="champion", champion=champion.commit),
        "evidence": ["fr-00000001", "fr-00000002"],
        "since": champion,
    }
    args.update(fields)
    return forbid(pattern, **args)


def test_check_proposal_matches_and_explains(now: datetime, champion: Champion) -> None:
    forbidden = direction(now, champion)
    match = check_proposal(PROPOSAL, [forbidden], now, champion)
    assert match is not None and match.direction == forbidden
    assert match.clauses == (
        "family 'time-decay'",
        "half_life_days = 33 is in [26.91, 38.05]",
        "and it sets no other parameter",
    )
    text = match.explanation
    assert text.startswith(f"forbidden direction {forbidden.id} covers it: family 'time-decay';")
    assert f"Scope champion {champion.commit[:10]}" in text
    assert "Forbidden by rule repeated-early-failure on 2026-11-25" in text
    assert "for 'undefined-name'; evidence fr-00000001, fr-00000002" in text


def test_a_different_proposal_passes(now: datetime, champion: Champion) -> None:
    other = PROPOSAL.model_copy(update={"parameters": {"half_life_days": 90}})
    assert check_proposal(other, [direction(now, champion)], now, champion) is None
    assert check_proposal(PROPOSAL, [], now, champion) is None


def test_expiry_by_time(now: datetime, champion: Champion) -> None:
    forbidden = direction(now, champion, expiry=Expiry.of(now, days=7, changes=None))
    assert check_proposal(PROPOSAL, [forbidden], now + timedelta(days=6), champion) is not None
    later = now + timedelta(days=7)
    assert check_proposal(PROPOSAL, [forbidden], later, champion) is None
    assert forbidden.inactive_reason(later, champion) == "its time ran out at 2026-12-02 12:00 UTC"


def test_expiry_after_champion_changes(now: datetime, champion: Champion) -> None:
    forbidden = direction(
        now, champion, scope=Scope(), expiry=Expiry(after_champion_changes=2), since=champion
    )
    one_later = Champion(commit="b" * 40, generation=champion.generation + 1)
    two_later = Champion(commit="c" * 40, generation=champion.generation + 2)
    assert forbidden.is_active(now, one_later)
    assert not forbidden.is_active(now, two_later)
    assert forbidden.inactive_reason(now, two_later) == (
        f"the champion changed 2 time(s) since {champion.short}"
    )
    with pytest.raises(ValidationError, match="needs the champion it counts from"):
        direction(now, champion, expiry=Expiry(after_champion_changes=2), since=None)


def test_scope_champion_applies_only_to_that_champion(now: datetime, champion: Champion) -> None:
    scoped = direction(now, champion)
    moved = Champion(commit="b" * 40, generation=champion.generation + 1)
    assert check_proposal(PROPOSAL, [scoped], now, champion) is not None
    assert check_proposal(PROPOSAL, [scoped], now, moved) is None
    assert "the champion is now bbbbbbbbbb" in (scoped.inactive_reason(now, moved) or "")
    abbreviated = direction(now, champion, scope=Scope(kind="champion", champion="aaaaaaa"))
    assert abbreviated.is_active(now, champion)
    everywhere = direction(now, champion, scope=Scope())
    assert check_proposal(PROPOSAL, [everywhere], now, moved) is not None


def test_removed_directions_no_longer_match(now: datetime, champion: Champion) -> None:
    forbidden = direction(now, champion)
    entry = AuditEntry(action="removed", at=now, by="alice", reason="the data changed")
    removed = forbidden.with_entry(entry)
    assert removed.status == "removed" and forbidden.status == "active"
    assert check_proposal(PROPOSAL, [removed], now, champion) is None
    assert removed.inactive_reason(now, champion) == (
        "removed by alice at 2026-11-25 12:00 UTC: the data changed"
    )
    back = removed.with_entry(AuditEntry(action="reinstated", at=now, by="bob"))
    assert back.status == "active" and [e.action for e in back.history] == [
        "created",
        "removed",
        "reinstated",
    ]


def test_ids_are_short_stable_hashes_of_pattern_and_scope(
    now: datetime, champion: Champion
) -> None:
    first = direction(now, champion)
    again = direction(now + timedelta(days=1), champion, reason="found again", by="alice")
    elsewhere = direction(now, champion, scope=Scope())
    assert first.id == again.id == direction_id(DECAY, first.scope)
    assert first.id != elsewhere.id
    assert len(first.id) == 11 and first.id.startswith("fd-")
    int(first.id[3:], 16)
    with pytest.raises(ValidationError, match="not the hash"):
        ForbiddenDirection.model_validate({**first.model_dump(), "id": "fd-00000000"})


def test_a_persons_direction_is_reported_first(now: datetime, champion: Champion) -> None:
    rule = direction(now, champion)
    person = direction(
        now + timedelta(hours=1),
        champion,
        pattern=Pattern(family="time-decay"),
        origin="person",
        by="alice",
        reason="decay is being reworked by hand",
        scope=Scope(),
    )
    matches = proposal_matches(PROPOSAL, [rule, person], now + timedelta(hours=2), champion)
    assert [m.direction.id for m in matches] == [person.id, rule.id]
    first = check_proposal(PROPOSAL, [rule, person], now + timedelta(hours=2), champion)
    assert first is not None and first.direction.origin == "person"


def test_check_change_after_code(now: datetime, champion: Champion) -> None:
    pattern = DECAY.model_copy(update={"files": ("m.py",), "symbols": ("m.py::weights",)})
    forbidden = direction(now, champion, pattern=pattern)
    before = "def weights():\n    return 1\n"
    signature = change_signature(
        family="time-decay",
        parameters={"half_life_days": 31},
        sources={"m.py": (before, before.replace("1", "2"))},
    )
    match = check_change(signature, {"half_life_days": 31}, [forbidden], now, champion)
    assert match is not None and "it changes symbols m.py::weights" in match.clauses
    assert check_change(signature, {"half_life_days": 3}, [forbidden], now, champion) is None


def test_naive_times_are_refused(now: datetime, champion: Champion) -> None:
    forbidden = direction(now, champion)  # no expiry time: a naive `now` is still refused
    with pytest.raises(ValueError, match="no timezone"):
        forbidden.is_active(now.replace(tzinfo=None), champion)
    with pytest.raises(ValidationError):
        AuditEntry(action="removed", at=now.replace(tzinfo=None), by="alice")


def test_scopes_and_history_are_validated(now: datetime, champion: Champion) -> None:
    with pytest.raises(ValidationError):
        Scope(kind="champion")
    with pytest.raises(ValidationError):
        Scope(kind="workspace", champion=champion.commit)
    forbidden = direction(now, champion)
    with pytest.raises(ValidationError, match="starts with its creation"):
        ForbiddenDirection.model_validate(
            {**forbidden.model_dump(), "history": [{"action": "removed", "at": now, "by": "x"}]}
        )
