"""After an experiment finishes: its worktree goes, its failure is remembered, the agents learn.

Each part is idempotent — the worktree removal, the failure record (its id is derived from the
closing transition, so a repeat is the same record), the learning (the learned keys are saved
with the agents' memory in one write), the posterior's version in the ledger (published after
that write, again on a repeat) and the experiment's knowledge asset (`outcome_asset`, keyed by
the experiment) — and a `loop.finalize` audit entry marks the experiment done, so
a resumed run finalizes exactly the experiments it has not.

An experiment stopped by recloop or its LLM rather than by its idea (`NOT_THE_IDEAS_FAULT`: a
step failing inside recloop, an LLM budget spent, the LLM unusable, the checks unable to judge)
teaches the agents nothing: it is withdrawn, not counted as a failure of its family. Its closing
verdict is `error` or it stopped at develop, so no failure record of it counts toward a
forbidden direction either (`knowledge.failures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from recloop.agents import Brainstormer, CatalogueBrainstormer, Outcome
from recloop.agents.outcome import NOT_THE_IDEAS_FAULT, Reached
from recloop.knowledge import FailureRecord, record_failure, workspace_champion
from recloop.ledger import Experiment
from recloop.loop.machine import Machine
from recloop.loop.memory import LoopAgentState, publish_posterior, save_state
from recloop.loop.outcome_asset import record_outcome_asset

FINALIZE = "loop.finalize"
EARLY = {
    "forbidden": "forbidden",
    "develop": "develop",
    "structural": "structural",
    "semantic": "semantic",
    "local": "local",
    "offline": "offline",
}


def closing(machine: Machine, experiment: Experiment) -> dict[str, Any]:
    """The closing (or launching) transition's payload, with its time."""
    history = machine.ledger.history(experiment)
    last = history[-1]
    payload = dict(last.payload.get("payload", {}))
    payload["at"] = last.at
    return payload


def is_finalized(machine: Machine, experiment: Experiment) -> bool:
    return bool(machine.ledger.audit_log(experiment=experiment, action=FINALIZE))


def finalize(
    machine: Machine,
    experiment: Experiment,
    brainstormer: CatalogueBrainstormer,
    state: LoopAgentState,
    learners: Sequence[Brainstormer] = (),
) -> LoopAgentState:
    """Clean up after a finished experiment; return the agents' state after learning.
    `learners` (the LLM brainstormer) learn the outcome too, in this process only."""
    if is_finalized(machine, experiment):
        return state
    machine.remove_worktree(experiment.key)
    info = closing(machine, experiment)
    _remember_failure(machine, experiment, info)
    record_outcome_asset(machine, experiment, info)
    if experiment.key not in state.learned:
        idea = machine.idea(experiment)
        reason = withdrawn(info)
        if reason is not None:
            brainstormer.withdraw(idea, reason)
        else:
            outcome = outcome_of(machine, experiment, info)
            for learner in (brainstormer, *learners):
                learner.learn(idea, outcome)
        state = LoopAgentState(memory=brainstormer.memory, learned=(*state.learned, experiment.key))
        save_state(machine.root, state)
    publish_posterior(machine.ledger, state.memory.posterior, experiment.key)
    machine.ledger.append_audit(
        FINALIZE,
        f"experiment:{experiment.id}",
        {"state": experiment.state, "cause": info.get("cause")},
        experiment=experiment,
    )
    return state


def withdrawn(info: dict[str, Any]) -> str | None:
    """Why the agents learn nothing from an experiment that closed so (None: they learn)."""
    cause = info.get("cause")
    if cause == "forbidden-direction":
        return "forbidden"
    return str(cause) if cause in NOT_THE_IDEAS_FAULT else None


def primary_difference(machine: Machine, experiment: Experiment) -> float | None:
    """The offline primary metric's improvement (higher is better), when it was measured."""
    for metric in machine.ledger.metrics(experiment, kind="offline"):
        if metric.payload.get("role") == "primary":
            difference = metric.payload.get("difference")
            if isinstance(difference, int | float):
                sign = -1.0 if machine.manifest.metrics.primary.direction == "minimize" else 1.0
                return sign * float(difference)
    return None


def outcome_of(machine: Machine, experiment: Experiment, info: dict[str, Any]) -> Outcome:
    improvement = primary_difference(machine, experiment)
    stage = str(info.get("stage", "online"))
    cause = str(info.get("cause", "closed"))
    if experiment.state == "launched":
        return Outcome.measured(improvement or 0.0, passed=True, shipped=True)
    if improvement is None:
        reached = cast(Reached, EARLY.get(stage, "online"))
        return Outcome.failed(reached, cause)
    passed = stage not in ("offline",)
    guardrail_ok = cause != "guardrail-violated"
    return Outcome.measured(improvement, passed=passed, feasible=guardrail_ok)


def _remember_failure(machine: Machine, experiment: Experiment, info: dict[str, Any]) -> None:
    stage = info.get("stage")
    verdict = info.get("verdict")
    if stage not in ("structural", "semantic", "local", "offline") or verdict not in (
        "reject",
        "error",
    ):
        return
    candidate = machine.candidate(experiment)
    runs = [r for r in machine.ledger.stage_runs(experiment) if r.stage == stage]
    evidence = runs[0].evidence if runs else None
    record = FailureRecord.from_rejection(
        stage=stage,
        cause=str(info["cause"]),
        sentence=str(info.get("sentence", "")),
        now=info["at"],
        verdict=verdict,
        evidence=evidence,
        changed_files=tuple(candidate.payload.get("files", ())) if candidate else (),
        diff=candidate.diff if candidate else "",
        proposal=machine.idea(experiment),
        proposal_id=experiment.key,
        candidate=experiment.key,
        champion=candidate.base_commit if candidate else None,
    )
    champion = workspace_champion(machine.root)
    if champion is not None:
        record_failure(machine.store, record, now=info["at"], champion=champion)
