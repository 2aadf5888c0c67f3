"""The autonomy gates: which transitions need a person, and the people's answers.

Two gates, both named after the transition they guard:

    online   awaiting_approval → online   when the experiment's level ≥ `approve_online_from`
    launch   decided → launched           when `approve_launch` (default: every launch)

An experiment's level is the higher of its proposal's planned level and the level of the change
the developer actually wrote (`recloop.agents.risk_level`). The loop asks at a gate
(`Ledger.request_approval`), parks the experiment and moves on; `approve` and `reject` answer,
and the ledger refuses the guarded transition without an approved answer
(`Ledger.transition(..., require_approval=gate)`). Every request and answer is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from recloop.ledger import Approval, Experiment, Ledger, NotFoundError, StaleStateError, State
from recloop.workspace.manifest import AutonomyPolicy, Level

Gate = Literal["online", "launch"]
GATES: tuple[Gate, ...] = ("online", "launch")
LEVELS: tuple[Level, ...] = ("L1", "L2", "L3", "L4")
DEMO_APPROVER = "demo-policy"


def higher_level(*levels: str | None) -> Level:
    """The highest of the given levels (L1 when none is given)."""
    known = [cast(Level, lv) for lv in levels if lv in LEVELS]
    return max(known, key=LEVELS.index, default="L1")


def needs_approval(policy: AutonomyPolicy, gate: Gate, level: str) -> bool:
    """Whether the policy demands a person at `gate` for an experiment at `level`."""
    if gate == "launch":
        return policy.approve_launch
    threshold = policy.approve_online_from
    if threshold == "never":
        return False
    return LEVELS.index(higher_level(level)) >= LEVELS.index(threshold)


def describe_policy(policy: AutonomyPolicy) -> str:
    """The policy in one sentence."""
    online = (
        "no experiment needs a person to go online"
        if policy.approve_online_from == "never"
        else f"going online needs a person from {policy.approve_online_from}"
    )
    launch = "every launch needs a person" if policy.approve_launch else "launches need no person"
    return f"{online}; {launch}"


@dataclass(frozen=True)
class PendingApproval:
    """An approval that waits for a person, with what it is about."""

    experiment: str
    gate: str
    level: str
    state: str
    family: str
    title: str
    requested_at: str


def pending_approvals(ledger: Ledger) -> list[PendingApproval]:
    """Every approval still waiting for an answer, oldest request first."""
    out = []
    for approval in ledger.approvals(status="pending"):
        experiment = ledger.get_experiment(approval.experiment_id)
        proposal = ledger.get_proposal(experiment.proposal_id)
        out.append(
            PendingApproval(
                experiment=experiment.key,
                gate=approval.gate,
                level=approval.required_level,
                state=experiment.state,
                family=proposal.family,
                title=proposal.title,
                requested_at=approval.requested_at.isoformat(timespec="seconds"),
            )
        )
    return out


class ApprovalError(ValueError):
    """An approval command that cannot be applied; the message says why."""


def _experiment(ledger: Ledger, key: str) -> Experiment:
    experiment = ledger.find_experiment(key)
    if experiment is None:
        raise ApprovalError(f"no experiment {key!r} in this workspace's ledger")
    return experiment


def _pending_gate(ledger: Ledger, experiment: Experiment) -> Approval:
    pending = ledger.approvals(status="pending", experiment=experiment)
    if not pending:
        raise ApprovalError(
            f"experiment {experiment.key} has no pending approval (it is {experiment.state})"
        )
    return pending[0]


def approve(ledger: Ledger, key: str, *, by: str, note: str = "") -> Approval:
    """`by` approves the experiment's pending gate; the loop moves it on at its next pass."""
    if not by.strip():
        raise ApprovalError("an approval names who gives it (--by)")
    experiment = _experiment(ledger, key)
    gate = _pending_gate(ledger, experiment)
    return ledger.approve(experiment, gate.gate, by=by, note=note)


def reject(ledger: Ledger, key: str, *, by: str, reason: str) -> Approval:
    """`by` rejects the experiment's pending gate, and the experiment is closed."""
    if not by.strip() or not reason.strip():
        raise ApprovalError("a rejection names who gives it (--by) and why (--reason)")
    experiment = _experiment(ledger, key)
    gate = _pending_gate(ledger, experiment)
    answer = ledger.reject(experiment, gate.gate, by=by, note=reason)
    close_rejected(ledger, experiment.key)
    return answer


def close_rejected(ledger: Ledger, key: str) -> bool:
    """Close the experiment if a person rejected one of its gates (idempotent)."""
    experiment = _experiment(ledger, key)
    rejected = ledger.approvals(status="rejected", experiment=experiment)
    if not rejected or experiment.is_finished:
        return False
    answer = rejected[0]
    payload = {
        "stage": f"approval:{answer.gate}",
        "cause": "rejected-by-person",
        "sentence": f"{answer.decided_by} rejected it at the {answer.gate} gate: {answer.note}",
    }
    try:
        ledger.transition(
            experiment, cast(State, experiment.state), "closed", payload, actor=answer.decided_by
        )
    except (StaleStateError, NotFoundError):
        return False  # a running loop moved it first; its next pass closes it
    return True
