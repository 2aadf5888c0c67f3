"""The closed vocabularies of ledger columns (one place; the tables check them too).

The experiment states are in `states`; everything else that is a fixed set of words is here.
Each `Literal` has a tuple of its values beside it for checks and CHECK constraints.
"""

from __future__ import annotations

from typing import Literal, get_args

Verdict = Literal["pass", "reject", "error", "pending"]
"""A stage run's verdict; `pending` is the online slot before the online test has run."""
VERDICTS: tuple[str, ...] = get_args(Verdict)

MetricKind = Literal["offline", "online"]
METRIC_KINDS: tuple[str, ...] = get_args(MetricKind)

Outcome = Literal["ship", "no_ship", "inconclusive"]
"""A decision's outcome (the same words as `recloop.stats.decision.Verdict`)."""
OUTCOMES: tuple[str, ...] = get_args(Outcome)

ApprovalStatus = Literal["pending", "approved", "rejected"]
APPROVAL_STATUSES: tuple[str, ...] = get_args(ApprovalStatus)

OnlineTestStatus = Literal["running", "completed", "stopped", "failed"]
"""`stopped`: ended early (a veto, a decisive sequential result); `failed`: could not run."""
ONLINE_TEST_STATUSES: tuple[str, ...] = get_args(OnlineTestStatus)

Level = Literal["L1", "L2", "L3", "L4"]
"""Autonomy level of a proposal: L1 parameter tweak … L4 cross-module change."""
LEVELS: tuple[str, ...] = get_args(Level)


def check_word(vocabulary: tuple[str, ...], value: str, what: str) -> None:
    """Raise `ValueError` naming `what` unless `value` is one of `vocabulary`."""
    if value not in vocabulary:
        raise ValueError(f"{what} must be one of {', '.join(vocabulary)}; got {value!r}")
