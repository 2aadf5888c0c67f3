"""Verdicts: cause codes checked against the outcome and stage; results and rejection records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recloop.cascade import causes
from recloop.cascade.verdict import CascadeResult, Cost, Evidence, Location, Verdict


def _verdict(stage: str, outcome: str, cause: str, wall: float = 1.0) -> Verdict:
    return Verdict.model_validate(
        {
            "stage": stage,
            "outcome": outcome,
            "cause": cause,
            "sentence": "s",
            "cost": {"wall_seconds": wall, "cpu_seconds": wall / 2},
        }
    )


def test_an_unknown_cause_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown cause code"):
        _verdict("structural", "reject", "made-up")


@pytest.mark.parametrize(
    ("stage", "outcome", "cause"),
    [
        ("structural", "reject", causes.SEEN_ITEMS),  # a semantic cause
        ("offline", "pass", causes.PRIMARY_WORSE),  # a reject cause on a pass
        ("semantic", "error", causes.PASSED),
        ("offline", "pending", causes.PROMISING),
    ],
)
def test_the_cause_must_fit_the_stage_and_outcome(stage: str, outcome: str, cause: str) -> None:
    with pytest.raises(ValidationError, match="does not fit"):
        _verdict(stage, outcome, cause)


def test_which_verdicts_stop_the_cascade() -> None:
    assert _verdict("local", "reject", causes.SLOWDOWN).stops
    assert _verdict("local", "error", causes.HARNESS_ERROR).stops
    assert _verdict("offline", "pass", causes.NOT_PROMISING).stops
    assert not _verdict("offline", "pass", causes.PROMISING).stops


def test_a_rejected_result_gives_its_rejection_record() -> None:
    result = CascadeResult(
        candidate="x",
        changed_files=["movierec/a.py"],
        verdicts=[
            _verdict("structural", "pass", causes.PASSED, 0.1),
            Verdict(
                stage="semantic",
                outcome="reject",
                cause=causes.DUPLICATE_ITEMS,
                sentence="twice",
                evidence=Evidence(locations=[Location(path="movierec/a.py", line=3)]),
                cost=Cost(wall_seconds=2.0, cpu_seconds=1.0),
            ),
        ],
        proposal_family="rerank",
        proposal_params={"k": 3},
    )
    assert result.outcome == "rejected"
    assert result.cost == Cost(wall_seconds=2.1, cpu_seconds=1.05)
    rejection = result.rejection
    assert rejection is not None
    assert (rejection.stage, rejection.cause, rejection.candidate) == (
        "semantic",
        "duplicate-items",
        "x",
    )
    assert rejection.changed_files == ["movierec/a.py"]
    assert rejection.proposal_family == "rerank" and rejection.proposal_params == {"k": 3}
    assert str(rejection.evidence.locations[0]) == "movierec/a.py:3"


@pytest.mark.parametrize(
    ("last", "outcome"),
    [
        (("online", "pending", causes.PENDING_ONLINE), "pending-online"),
        (("offline", "pass", causes.NOT_PROMISING), "not-promising"),
        (("semantic", "error", causes.NOT_MATERIALIZED), "error"),
        (("structural", "pass", causes.PASSED), "passed"),
    ],
)
def test_result_outcomes(last: tuple[str, str, str], outcome: str) -> None:
    result = CascadeResult(candidate="x", changed_files=[], verdicts=[_verdict(*last)])
    assert result.outcome == outcome
    assert result.rejection is None


def test_location_reads_like_a_compiler_message() -> None:
    assert str(Location(path="a.py", line=2, message="bad")) == "a.py:2: bad"
    assert str(Location(path="a.py")) == "a.py"
