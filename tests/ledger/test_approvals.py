import pytest

from recloop.ledger import ConflictError, Experiment, Ledger, NotFoundError


def test_an_approval_is_requested_once_then_answered_once(
    ledger: Ledger, experiment: Experiment
) -> None:
    asked = ledger.request_approval(experiment, "online", required_level="L3", actor="loop")
    assert (asked.status, asked.requested_by, asked.approved) == ("pending", "loop", False)
    assert ledger.request_approval(experiment, "online", required_level="L4") == asked
    assert ledger.approvals(status="pending") == [asked]
    approved = ledger.approve(experiment, "online", by="alice", note="the guardrails look fine")
    assert (approved.status, approved.decided_by, approved.note) == (
        "approved",
        "alice",
        "the guardrails look fine",
    )
    assert approved.approved and approved.decided_at is not None
    assert ledger.approve(experiment, "online", by="alice") == approved  # idempotent
    with pytest.raises(ConflictError, match="already approved by alice"):
        ledger.reject(experiment, "online", by="bob", note="no")
    assert ledger.approvals(status="pending") == []
    assert ledger.get_approval(experiment, "online") == approved
    actions = [(e.action, e.actor) for e in ledger.audit_log(experiment=experiment)]
    assert actions[-2:] == [("approval.request", "loop"), ("approval.approved", "alice")]


def test_nobody_answers_what_was_not_asked(ledger: Ledger, experiment: Experiment) -> None:
    with pytest.raises(NotFoundError, match="approval request at gate 'launch'"):
        ledger.approve(experiment, "launch", by="alice")
    assert ledger.get_approval(experiment, "launch") is None


def test_gates_are_separate_and_listed(ledger: Ledger, experiment: Experiment) -> None:
    online = ledger.request_approval(experiment, "online", required_level="L3")
    launch = ledger.request_approval(experiment, "launch", required_level="L1")
    rejected = ledger.reject(experiment, "launch", by="carol", note="wait for the holiday")
    assert rejected.status == "rejected" and not rejected.approved
    assert ledger.approvals(experiment=experiment) == [online, rejected]
    assert ledger.approvals(status="rejected") == [rejected]
    assert launch.status == "pending"
    with pytest.raises(ValueError, match="required_level"):
        ledger.request_approval(experiment, "x", required_level="L5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        ledger.approvals(status="maybe")  # type: ignore[arg-type]
