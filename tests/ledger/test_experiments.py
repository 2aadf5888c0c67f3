import itertools
from collections.abc import Callable
from typing import Any

import pytest

from recloop.ledger import (
    ApprovalRequiredError,
    ConflictError,
    Experiment,
    IllegalTransitionError,
    Ledger,
    NotFoundError,
    StaleStateError,
)

CHAIN = [
    "proposed",
    "forbidden_check",
    "developed",
    "structural",
    "semantic",
    "local",
    "offline",
    "awaiting_approval",
    "online",
    "decided",
    "launched",
]


def _proposal(ledger: Ledger, key: str = "p-1", **kw: Any) -> Any:
    fields = {"family": "ease", "title": "EASE ranking", "level": "L3", "source": "brainstorm"}
    return ledger.add_proposal(key, **{**fields, **kw})


def test_a_proposal_is_recorded_once_per_key(ledger: Ledger) -> None:
    first = _proposal(ledger, params={"lambda": 500.0}, hypothesis="denser items help")
    again = _proposal(ledger, params={"lambda": 900.0})  # a resumed brainstorm: first one stands
    assert again == first
    assert first.params == {"lambda": 500.0}
    assert ledger.get_proposal(first.id) == first
    assert ledger.proposals(family="ease") == [first]
    assert ledger.proposals(family="pop") == []
    assert [e.action for e in ledger.audit_log()] == ["proposal.add"]


def test_a_proposal_needs_a_known_level(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        _proposal(ledger, level="L9")


def test_an_experiment_starts_proposed_and_is_created_once(ledger: Ledger) -> None:
    proposal = _proposal(ledger)
    experiment = ledger.create_experiment("e-1", proposal, base_commit="c" * 40)
    assert (experiment.state, experiment.state_version, experiment.is_finished) == (
        "proposed",
        0,
        False,
    )
    assert ledger.create_experiment("e-1", proposal) == experiment
    assert ledger.find_experiment("e-1") == experiment
    assert ledger.find_experiment("e-2") is None
    assert ledger.get_experiment(experiment.id) == experiment
    with pytest.raises(NotFoundError, match="no experiment 99"):
        ledger.get_experiment(99)
    with pytest.raises(NotFoundError, match="no proposal 42"):
        ledger.create_experiment("e-3", 42)


def test_a_transition_moves_counts_and_audits(ledger: Ledger, experiment: Experiment) -> None:
    moved = ledger.transition(
        experiment, "proposed", "forbidden_check", {"checked": ["sig-1"]}, actor="loop-7"
    )
    assert (moved.state, moved.state_version) == ("forbidden_check", 1)
    [entry] = ledger.history(experiment)
    assert (entry.actor, entry.subject, entry.experiment_id) == (
        "loop-7",
        f"experiment:{experiment.id}",
        experiment.id,
    )
    assert entry.payload == {
        "from": "proposed",
        "to": "forbidden_check",
        "payload": {"checked": ["sig-1"]},
    }


def test_a_stale_transition_is_refused_and_writes_nothing(
    ledger: Ledger, experiment: Experiment
) -> None:
    ledger.transition(experiment, "proposed", "forbidden_check")
    audit = ledger.audit_log()
    with pytest.raises(StaleStateError) as stale:  # a second worker that saw "proposed"
        ledger.transition(experiment, "proposed", "forbidden_check")
    assert (stale.value.expected, stale.value.actual) == ("proposed", "forbidden_check")
    with pytest.raises(StaleStateError):
        ledger.transition(experiment, "proposed", "closed")
    assert ledger.audit_log() == audit
    assert ledger.get_experiment(experiment).state_version == 1


def test_an_illegal_transition_is_refused_before_the_database(
    ledger: Ledger, experiment: Experiment
) -> None:
    audit = ledger.audit_log()
    with pytest.raises(IllegalTransitionError, match="proposed → developed"):
        ledger.transition(experiment, "proposed", "developed")
    with pytest.raises(IllegalTransitionError):
        ledger.transition(experiment, "proposed", "bogus")  # type: ignore[arg-type]
    assert ledger.get_experiment(experiment).state == "proposed"
    assert ledger.audit_log() == audit


def test_a_transition_of_a_missing_experiment_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError):
        ledger.transition(404, "proposed", "forbidden_check")


def test_the_whole_chain_then_no_way_out(ledger: Ledger, experiment: Experiment) -> None:
    ledger.request_approval(experiment, "online", required_level="L3")
    ledger.approve(experiment, "online", by="alice")
    for state, following in itertools.pairwise(CHAIN):
        gate = "online" if following == "online" else None
        last = ledger.transition(experiment, state, following, require_approval=gate)  # type: ignore[arg-type]
    assert (last.state, last.state_version, last.is_finished) == ("launched", 10, True)
    with pytest.raises(IllegalTransitionError, match="terminal"):
        ledger.transition(experiment, "launched", "closed")
    assert [e.payload["to"] for e in ledger.history(experiment)] == CHAIN[1:]


def test_any_live_state_can_close(
    ledger: Ledger, make_experiment: Callable[..., Experiment]
) -> None:
    for i, state in enumerate(CHAIN[:-1]):
        experiment = make_experiment(ledger, f"close-{i}")
        for before, after in itertools.pairwise(CHAIN[: i + 1]):
            ledger.transition(experiment, before, after)  # type: ignore[arg-type]
        closed = ledger.transition(experiment, state, "closed", {"cause": "rejected"})  # type: ignore[arg-type]
        assert closed.state == "closed"
    assert len(ledger.experiments(states=["closed"])) == len(CHAIN) - 1
    assert ledger.experiments(states=["proposed"]) == []


def test_a_gate_needs_its_approval(ledger: Ledger, experiment: Experiment) -> None:
    for state, following in itertools.pairwise(CHAIN[:8]):
        ledger.transition(experiment, state, following)  # type: ignore[arg-type]
    with pytest.raises(ApprovalRequiredError, match="no approval was requested"):
        ledger.transition(experiment, "awaiting_approval", "online", require_approval="online")
    ledger.request_approval(experiment, "online", required_level="L3")
    with pytest.raises(ApprovalRequiredError, match="the approval is pending"):
        ledger.transition(experiment, "awaiting_approval", "online", require_approval="online")
    ledger.reject(experiment, "online", by="bob", note="too risky")
    with pytest.raises(ApprovalRequiredError, match="the approval is rejected"):
        ledger.transition(experiment, "awaiting_approval", "online", require_approval="online")
    closed = ledger.transition(experiment, "awaiting_approval", "closed", {"cause": "rejected"})
    assert closed.state == "closed"
    assert ledger.history(experiment)[-1].payload["to"] == "closed"


def test_candidates_are_recorded_once_per_name(ledger: Ledger, experiment: Experiment) -> None:
    diff = "--- a/movierec/model.py\n+++ b/movierec/model.py\n@@ -1 +1 @@\n-A = 1\n+A = 2\n"
    first = ledger.add_candidate(
        experiment,
        "c-1",
        branch="recloop/e-1/c-1",
        commit="d" * 40,
        diff=diff,
        base_commit="c" * 40,
        payload={"transform": "time-decay", "params": {"half_life": 30}},
    )
    again = ledger.add_candidate(experiment, "c-1", branch="other", commit="e" * 40, diff="")
    assert again == first
    assert first.diff == diff
    second = ledger.add_candidate(experiment, "c-2", branch="b2", commit=None, diff="")
    assert ledger.candidates(experiment) == [first, second]
    assert ledger.get_candidate(second.id) == second
    with pytest.raises(NotFoundError):
        ledger.add_candidate(999, "c-1", branch="b", commit=None, diff="")
    with pytest.raises(NotFoundError):
        ledger.get_candidate(999)


def test_a_candidate_of_another_experiment_is_a_conflict(
    ledger: Ledger, experiment: Experiment, make_experiment: Callable[..., Experiment]
) -> None:
    other = make_experiment(ledger, "e-2")
    candidate = ledger.add_candidate(other, "c-1", branch="b", commit=None, diff="")
    with pytest.raises(ConflictError, match=f"belongs to experiment {other.id}"):
        ledger.record_stage_run(
            experiment,
            candidate,
            "structural",
            verdict="pass",
            sentence="",
            wall_seconds=0,
            cpu_seconds=0,
        )
