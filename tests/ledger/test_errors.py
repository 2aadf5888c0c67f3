from recloop.ledger.errors import (
    ApprovalRequiredError,
    IllegalTransitionError,
    LedgerError,
    NotFoundError,
    StaleStateError,
)


def test_errors_say_what_happened_and_carry_the_facts() -> None:
    stale = StaleStateError(3, "offline", "closed")
    assert (stale.experiment_id, stale.expected, stale.actual) == (3, "offline", "closed")
    assert "experiment 3 is in state 'closed', not 'offline'" in str(stale)
    assert str(NotFoundError("candidate", 9)) == "no candidate 9 in the ledger"
    illegal = IllegalTransitionError("proposed", "online", "allowed: closed, forbidden_check")
    assert str(illegal) == "illegal transition proposed → online: allowed: closed, forbidden_check"
    gate = ApprovalRequiredError(3, "launch", None)
    assert "cannot pass gate 'launch': no approval was requested" in str(gate)
    assert all(isinstance(e, LedgerError) for e in (stale, illegal, gate))
