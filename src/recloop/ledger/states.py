"""The experiment state machine: every state, and the only moves between them.

    proposed → forbidden_check → developed → structural → semantic → local → offline
             → awaiting_approval → online → decided → launched
    any state that is not terminal → closed          (a rejection, a veto, a no-ship, a person)

`launched` and `closed` are terminal. The ledger refuses any other move before it touches the
database (`IllegalTransitionError`), and applies a legal one only if the experiment is still in
the state the caller saw (compare-and-set; `StaleStateError` otherwise).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Literal, cast, get_args

from recloop.ledger.errors import IllegalTransitionError

State = Literal[
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
    "closed",
]
STATES: tuple[State, ...] = get_args(State)
TERMINAL: frozenset[State] = frozenset({"launched", "closed"})

_CHAIN: tuple[State, ...] = tuple(s for s in STATES if s != "closed")  # in `State` order


def _table() -> dict[State, frozenset[State]]:
    table: dict[State, frozenset[State]] = {}
    for state, following in itertools.pairwise(_CHAIN):
        table[state] = frozenset({following, "closed"})
    for state in TERMINAL:
        table[state] = frozenset()
    return table


TRANSITIONS: Mapping[State, frozenset[State]] = _table()
"""State → the states it may move to; terminal states map to nothing."""


def is_state(value: str) -> bool:
    """Whether `value` names a state of the machine."""
    return value in STATES


def check_transition(from_state: str, to_state: str) -> None:
    """Raise `IllegalTransitionError` unless `from_state → to_state` is in `TRANSITIONS`."""
    if not is_state(from_state):
        raise IllegalTransitionError(from_state, to_state, f"unknown state {from_state!r}")
    if not is_state(to_state):
        raise IllegalTransitionError(from_state, to_state, f"unknown state {to_state!r}")
    allowed = TRANSITIONS[cast(State, from_state)]
    if to_state not in allowed:
        reason = (
            f"{from_state} is terminal" if not allowed else "allowed: " + ", ".join(sorted(allowed))
        )
        raise IllegalTransitionError(from_state, to_state, reason)
