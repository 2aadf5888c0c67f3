from collections.abc import Callable
from typing import Any

import pytest

from recloop.ledger import (
    Candidate,
    Experiment,
    ForbiddenDirectionWrite,
    Ledger,
    NotFoundError,
    StageRun,
)

ATTRIBUTION = {
    "change": "time-decay weighting, half-life 30 days",
    "effects": {"ctr": {"lift": 0.012, "ci": [0.004, 0.02]}},
    "cuped_variance_reduction": 0.41,
    "srm": {"p_value": 0.62, "flag": False},
    "novelty": "no trend over days since exposure",
}


@pytest.fixture
def rejected(ledger: Ledger, experiment: Experiment, candidate: Candidate) -> StageRun:
    return ledger.record_stage_run(
        experiment,
        candidate,
        "semantic",
        verdict="reject",
        cause="returns-seen-items",
        sentence="3% of lists contain training items",
        wall_seconds=2.0,
        cpu_seconds=1.5,
    )


def test_knowledge_assets_keep_attribution_and_tags(ledger: Ledger, experiment: Experiment) -> None:
    asset = ledger.add_knowledge_asset(
        "ka-1",
        kind="attribution",
        title="Time decay lifts CTR",
        text="Time-decay weighting (half-life 30 d) raised CTR by 1.2% with no guardrail harm.",
        attribution=ATTRIBUTION,
        tags=["time-decay", "ctr", "ship", "ctr"],
        experiment=experiment,
    )
    assert asset.tags == ("ctr", "ship", "time-decay")
    assert asset.attribution == ATTRIBUTION
    assert (
        ledger.add_knowledge_asset(
            "ka-1", kind="x", title="", text="", attribution={}, tags=["other"]
        )
        == asset
    )
    other = ledger.add_knowledge_asset(
        "ka-2",
        kind="note",
        title="Popularity debiasing hurt coverage",
        text="…",
        attribution={},
        tags=["debias", "ctr"],
    )
    assert ledger.knowledge_assets() == [asset, other]
    assert ledger.knowledge_assets(tags=["ctr"]) == [asset, other]
    assert ledger.knowledge_assets(tags=["ctr", "ship"]) == [asset]
    assert ledger.knowledge_assets(tags=["nothing"]) == []
    assert ledger.knowledge_assets(kind="note") == [other]
    assert ledger.knowledge_assets(experiment=experiment) == [asset]


def test_a_failure_record_comes_from_its_stage_run_once(
    ledger: Ledger, rejected: StageRun, candidate: Candidate
) -> None:
    failure = ledger.record_failure(
        rejected,
        signature="sig:exclude-seen",
        scope="family:time-decay",
        family="time-decay",
        payload={"params": {"half_life": 30}},
    )
    assert (failure.stage, failure.cause, failure.candidate_id) == (
        "semantic",
        "returns-seen-items",
        candidate.id,
    )
    assert ledger.record_failure(rejected.id, signature="other", scope="other") == failure
    assert ledger.failures(signature="sig:exclude-seen") == [failure]
    assert ledger.failures(scope="family:pop") == []
    with pytest.raises(NotFoundError, match="no stage run 404"):
        ledger.record_failure(404, signature="s", scope="s")


def test_failures_expire_and_can_be_removed(
    ledger: Ledger, rejected: StageRun, clock: Any, experiment: Experiment, candidate: Candidate
) -> None:
    expiring = ledger.record_failure(
        rejected, signature="s", scope="w", expires_at=clock.advance(days=0) + _days(7)
    )
    second_run = ledger.record_stage_run(
        experiment,
        candidate,
        "semantic",
        attempt=2,
        verdict="reject",
        cause="x",
        sentence="",
        wall_seconds=0,
        cpu_seconds=0,
    )
    lasting = ledger.record_failure(second_run, signature="s", scope="w")
    assert ledger.failures() == [expiring, lasting]
    clock.advance(days=8)
    assert ledger.failures() == [lasting]
    assert expiring.active_at(clock.now - _days(2)) and not expiring.active_at(clock.now)
    removed = ledger.remove_failure(lasting.id, by="alice", reason="the evaluator had a bug")
    assert (removed.removed_by, removed.removed_reason) == ("alice", "the evaluator had a bug")
    assert ledger.failures() == []
    assert len(ledger.failures(include_inactive=True)) == 2
    assert ledger.remove_failure(lasting.id, by="bob", reason="again") == removed


def test_a_direction_is_forbidden_once_while_live(ledger: Ledger, clock: Any) -> None:
    first = ledger.forbid(
        "sig:dup-items",
        "family:diversity",
        reason="3 rejections for duplicates",
        expires_at=clock.now + _days(30),
        payload={"failure_ids": [1, 2, 3]},
    )
    assert first.created_by == "test" and first.payload == {"failure_ids": [1, 2, 3]}
    assert ledger.forbid("sig:dup-items", "family:diversity", reason="again") == first
    elsewhere = ledger.forbid("sig:dup-items", "workspace", reason="everywhere")
    assert ledger.forbidden_directions() == [first, elsewhere]
    assert ledger.forbidden_directions(scope="workspace") == [elsewhere]
    clock.advance(days=31)
    assert ledger.forbidden_directions() == [elsewhere]
    renewed = ledger.forbid("sig:dup-items", "family:diversity", reason="failed again")
    assert renewed.id != first.id
    history = ledger.forbidden_directions(signature="sig:dup-items", include_inactive=True)
    assert [(d.id, d.removed_by) for d in history] == [
        (first.id, "expiry"),
        (elsewhere.id, None),
        (renewed.id, None),
    ]


def test_a_person_lifts_a_forbidden_direction(
    ledger: Ledger, make_experiment: Callable[..., Experiment]
) -> None:
    direction = ledger.forbid("sig:x", "workspace", reason="r")
    lifted = ledger.remove_forbidden_direction(direction.id, by="dana", reason="fixed upstream")
    assert lifted.removed_at is not None and not lifted.active_at(lifted.removed_at)
    assert ledger.forbidden_directions() == []
    again = ledger.forbid("sig:x", "workspace", reason="back")  # a new live entry may follow
    assert again.id != direction.id
    actions = [e.action for e in ledger.audit_log()]
    assert actions == ["forbidden.add", "forbidden.remove", "forbidden.add"]
    with pytest.raises(NotFoundError):
        ledger.remove_forbidden_direction(999, by="dana", reason="r")


def _days(n: int) -> Any:
    import datetime as dt

    return dt.timedelta(days=n)


def test_failures_kept_by_key_once_with_or_without_a_stage_run(
    ledger: Ledger, clock: Any, rejected: StageRun, experiment: Experiment
) -> None:
    at = clock.now
    args: dict[str, Any] = {
        "stage": "semantic", "cause": "returns-seen-items", "family": "time-decay",
        "signature": "sg-1", "scope": "workspace", "payload": {"record": {"n": 1}},
        "created_at": at,
    }  # fmt: skip
    loose, created = ledger.keep_failure("fr-00000001", **args)
    assert created and loose.key == "fr-00000001"
    assert (loose.stage_run_id, loose.experiment_id) == (None, None)
    again, created = ledger.keep_failure("fr-00000001", **{**args, "payload": {"other": 2}})
    assert not created and again == loose  # the first one stands
    linked, _ = ledger.keep_failure("fr-00000002", **args, experiment_key=experiment.key)
    assert (linked.experiment_id, linked.stage_run_id) == (experiment.id, rejected.id)
    third, _ = ledger.keep_failure("fr-00000003", **args, experiment_key=experiment.key)
    assert third.stage_run_id is None  # that stage run already has its failure record
    assert [f.key for f in ledger.failures(include_inactive=True)] == [
        "fr-00000001",
        "fr-00000002",
        "fr-00000003",
    ]


def test_directions_are_read_changed_and_written_in_one_transaction(
    ledger: Ledger, clock: Any
) -> None:
    def write(row_id: int | None, reason: str, removed: bool = False) -> ForbiddenDirectionWrite:
        return ForbiddenDirectionWrite(
            id=row_id, signature="fd-1", scope="workspace", reason=reason, created_by="alice",
            payload={"v": reason}, created_at=clock.now, expires_at=None,
            removed_by="bob" if removed else None, removed_at=clock.now if removed else None,
            removed_reason="why" if removed else None, action="forbidden.test",
        )  # fmt: skip

    [new] = ledger.write_forbidden_directions(lambda rows: [write(None, "one")], signature="fd-1")
    seen: list[list[Any]] = []

    def refuse(rows: list[Any]) -> list[ForbiddenDirectionWrite]:
        seen.append(rows)
        raise ValueError("refused after a look")

    with pytest.raises(ValueError, match="refused"):
        ledger.write_forbidden_directions(refuse)
    assert seen == [[new]]
    [removed] = ledger.write_forbidden_directions(lambda rows: [write(rows[0].id, "two", True)])
    assert removed.id == new.id and removed.removed_by == "bob" and removed.payload == {"v": "two"}
    assert ledger.forbidden_directions() == []  # removed: not active
    actions = [e.action for e in ledger.audit_log(subject=f"forbidden:{new.id}")]
    assert actions == ["forbidden.test", "forbidden.test"]
