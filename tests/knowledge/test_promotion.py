"""The promotion rule: repeated failures become forbidden, one failure or errors never do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import AuditEntry, Scope, check_proposal
from recloop.knowledge.pattern import NumericRange
from recloop.knowledge.promotion import (
    EARLY_RULE,
    OFFLINE_RULE,
    PromotionConfig,
    promote,
    record_failure,
)
from recloop.knowledge.proposal import Proposal
from recloop.knowledge.store import MemoryStore

MakeFailure = Callable[..., FailureRecord]


def offline(make: MakeFailure, neighbours: float, **fields: object) -> FailureRecord:
    before = "[candidates]\nneighbours = 50\n"
    return make(
        stage="offline",
        cause="significantly-worse",
        family="candidate-neighbours",
        parameters={"neighbours": neighbours},
        changed_files=["config/pipeline.toml"],
        sources={
            "config/pipeline.toml": (before, before.replace("50", str(neighbours))),
        },
        **fields,
    )


def test_one_failure_is_not_enough_two_are(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    first, second = make_failure(), make_failure()
    assert first.signature.key == second.signature.key and first.id != second.id
    assert promote([first], [], now=now, champion=champion) == []
    [direction] = promote([first, second], [], now=now, champion=champion)
    assert direction.origin == "rule" and direction.created_by == EARLY_RULE
    assert direction.evidence == (first.id, second.id)
    assert direction.scope == Scope(kind="champion", champion=champion.commit)
    assert direction.since == champion
    assert direction.expiry.at == now + timedelta(days=30)
    assert direction.expiry.after_champion_changes is None  # the champion scope ends it anyway
    assert direction.pattern.exact
    assert direction.pattern.family == "time-decay"
    assert direction.pattern.files == ("movierec/data.py",)
    assert direction.pattern.symbols == ("movierec/data.py::weights",)
    assert direction.reason.startswith(
        "2 rejections at the structural stage for 'undefined-name' with the same change signature"
    )
    assert direction.reason.endswith(f"last: {second.sentence}")


@pytest.mark.parametrize(
    "second",
    [
        {"cause": "syntax-error"},
        {"parameters": {"half_life_days": 3}},
        {"family": "popularity-debias"},
        {"changed_files": ["movierec/ranking.py"], "sources": {"movierec/ranking.py": ("a", "b")}},
    ],
    ids=["another cause", "another parameter bucket", "another family", "another file"],
)
def test_two_different_failures_do_not_promote(
    make_failure: MakeFailure, now: datetime, champion: Champion, second: dict[str, object]
) -> None:
    failures = [make_failure(), make_failure(**second)]
    assert promote(failures, [], now=now, champion=champion) == []


def test_infrastructure_errors_never_count(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    errors = [make_failure(verdict="error", cause="undefined-name") for _ in range(3)]
    assert promote(errors, [], now=now, champion=champion) == []
    assert promote([*errors, make_failure()], [], now=now, champion=champion) == []


def test_three_offline_rejections_in_one_region(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    near = [offline(make_failure, n) for n in (190, 220, 300)]
    assert promote(near[:2], [], now=now, champion=champion) == []
    [direction] = promote(near, [], now=now, champion=champion)
    assert direction.created_by == OFFLINE_RULE
    assert direction.pattern.family == "candidate-neighbours"
    region = direction.pattern.params["neighbours"]
    assert isinstance(region, NumericRange) and list(direction.pattern.params) == ["neighbours"]
    assert (region.low, region.high) == (pytest.approx(2**7.5), pytest.approx(2**8.5))
    assert direction.pattern.files == () and direction.pattern.symbols == ()
    assert "3 offline rejections (significantly-worse)" in direction.reason
    proposal = Proposal(
        family="candidate-neighbours", hypothesis="h", parameters={"neighbours": 350}
    )
    assert check_proposal(proposal, [direction], now, champion) is not None
    smaller = proposal.model_copy(update={"parameters": {"neighbours": 100}})
    assert check_proposal(smaller, [direction], now, champion) is None


def test_offline_rejections_far_apart_do_not_promote(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    spread = [offline(make_failure, n) for n in (20, 200, 2000)]
    assert promote(spread, [], now=now, champion=champion) == []


def test_offline_rejections_without_parameters_group_by_signature(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    same = [
        make_failure(stage="offline", cause="guardrail-violated", parameters={}) for _ in range(3)
    ]
    [direction] = promote(same, [], now=now, champion=champion)
    assert direction.pattern.symbols == ("movierec/data.py::weights",)


def test_champion_scope_counts_only_failures_on_the_current_champion(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    old = make_failure(champion="c" * 40)
    current = make_failure()
    assert promote([old, current], [], now=now, champion=champion) == []
    config = PromotionConfig(scope="workspace")
    [direction] = promote([old, current], [], now=now, champion=champion, config=config)
    assert direction.scope == Scope()
    assert direction.expiry.after_champion_changes == 3
    later = Champion(commit="d" * 40, generation=champion.generation + 3)
    assert direction.is_active(now, champion.model_copy(update={"commit": "d" * 40}))
    assert not direction.is_active(now, later)


def test_promotion_is_idempotent_and_adds_new_evidence(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    failures = [make_failure(), make_failure()]
    [direction] = promote(failures, [], now=now, champion=champion)
    assert promote(failures, [direction], now=now, champion=champion) == []
    third = make_failure()
    [grown] = promote([*failures, third], [direction], now=now, champion=champion)
    assert grown.id == direction.id
    assert grown.evidence == (*direction.evidence, third.id)
    assert [e.action for e in grown.history] == ["created", "evidence-added"]


def test_a_removed_direction_returns_only_on_fresh_failures(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    failures = [make_failure(), make_failure()]
    [direction] = promote(failures, [], now=now, champion=champion)
    removed = direction.with_entry(
        AuditEntry(action="removed", at=now, by="alice", reason="fixed the helper it needs")
    )
    assert promote(failures, [removed], now=now, champion=champion) == []
    fresh = [make_failure()]
    assert promote(failures + fresh, [removed], now=now, champion=champion) == []
    fresh.append(make_failure())
    [back] = promote(failures + fresh, [removed], now=now, champion=champion)
    assert back.status == "active"
    assert [e.action for e in back.history] == ["created", "removed", "reinstated"]
    assert "removed by alice" in back.history[-1].reason
    assert back.evidence == tuple(f.id for f in failures + fresh)


def test_a_lapsed_direction_is_reinstated_with_a_new_expiry(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    failures = [make_failure(), make_failure()]
    [direction] = promote(failures, [], now=now, champion=champion)
    later = now + timedelta(days=40)
    assert not direction.is_active(later, champion)
    fresh = [make_failure(now=later), make_failure(now=later + timedelta(seconds=1))]
    [back] = promote(failures + fresh, [direction], now=later, champion=champion)
    assert back.is_active(later, champion) and back.expiry.at == later + timedelta(days=30)
    assert "its time ran out" in back.history[-1].reason


def test_thresholds_and_age_are_configurable(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    failures = [make_failure(), make_failure()]
    assert (
        promote(failures, [], now=now, champion=champion, config=PromotionConfig(early_threshold=3))
        == []
    )
    old = make_failure(now=now - timedelta(days=10))
    recent = PromotionConfig(max_failure_age_days=5)
    assert promote([old, failures[0]], [], now=now, champion=champion, config=recent) == []
    with pytest.raises(ValidationError):
        PromotionConfig(early_threshold=0)
    with pytest.raises(ValidationError):
        PromotionConfig(offline_region_ratio=1.0)
    with pytest.raises(ValidationError):
        PromotionConfig(thresold=2)  # type: ignore[call-arg]


def test_record_failure_stores_and_promotes(
    make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    store = MemoryStore()
    assert record_failure(store, make_failure(), now=now, champion=champion) == []
    [direction] = record_failure(store, make_failure(), now=now, champion=champion)
    assert store.list() == [direction] and len(store.failures()) == 2
    proposal = Proposal(
        family="time-decay",
        hypothesis="weigh recent interactions higher",
        parameters={"half_life_days": 28},
        files=("movierec/data.py",),
    )
    match = check_proposal(proposal, store.list(), now, champion)
    assert match is not None and match.direction.id == direction.id
