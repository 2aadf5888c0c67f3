import itertools

import pytest

from recloop.ledger.errors import IllegalTransitionError
from recloop.ledger.states import STATES, TERMINAL, TRANSITIONS, check_transition, is_state

MAIN_CHAIN = [
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


def test_every_state_has_a_row_and_terminal_states_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(STATES)
    assert {"launched", "closed"} == TERMINAL
    assert all(TRANSITIONS[s] == frozenset() for s in TERMINAL)


def test_the_main_chain_is_the_only_way_forward_and_closed_is_always_open() -> None:
    for state, following in itertools.pairwise(MAIN_CHAIN):
        assert TRANSITIONS[state] == {following, "closed"}  # type: ignore[index]


@pytest.mark.parametrize("state", [s for s in STATES if s not in TERMINAL])
def test_any_live_state_can_close(state: str) -> None:
    check_transition(state, "closed")


@pytest.mark.parametrize(
    ("from_state", "to_state", "reason"),
    [
        ("proposed", "developed", "allowed: closed, forbidden_check"),  # skips the check
        ("offline", "online", "allowed: awaiting_approval, closed"),  # skips the approval gate
        ("decided", "proposed", "allowed: closed, launched"),  # backwards
        ("proposed", "proposed", "allowed"),  # a no-op is not a move
        ("launched", "closed", "launched is terminal"),
        ("closed", "proposed", "closed is terminal"),
        ("proposed", "shipped", "unknown state 'shipped'"),
        ("draft", "proposed", "unknown state 'draft'"),
    ],
)
def test_moves_outside_the_table_are_refused(from_state: str, to_state: str, reason: str) -> None:
    with pytest.raises(IllegalTransitionError, match=reason) as refused:
        check_transition(from_state, to_state)
    assert (refused.value.from_state, refused.value.to_state) == (from_state, to_state)


def test_is_state() -> None:
    assert is_state("awaiting_approval")
    assert not is_state("forbidden-check")
