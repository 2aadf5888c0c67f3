"""One experiment's state machine: each step does its work, then commits one transition.

    proposed ──forbidden check──▶ forbidden_check ──develop──▶ developed ──structural──▶
    structural ──semantic──▶ semantic ──local──▶ local ──offline──▶ offline ──gate asked──▶
    awaiting_approval ──online gate, A/B test──▶ online ──decision──▶ decided ──launch gate,
    merge──▶ launched;   any step that stops the experiment ──▶ closed

A state names the last step done. `step` reads the experiment's state from the ledger, does the
next step's work and makes the transition (`Ledger.transition`, compare-and-set), so a crash
between the work and the write repeats only that step — and every step finds its own earlier
work first: a recorded candidate is reused (and a developed worktree left by a crash), a
recorded stage run is read instead of run again, a recorded decision is not tested again.
A closing transition's payload says where (`stage`) and why (`cause`, `sentence`).

`advance` steps until the experiment is finished, waits for a person (`Parked`), or reaches a
step kept for the run loop's own process (`decided`: launches are serialised there).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from recloop.agents import CatalogueDeveloper, Developer, DevelopResult
from recloop.cascade import CascadeContext
from recloop.knowledge import KnowledgeStore, check_proposal, workspace_champion
from recloop.knowledge import Proposal as Idea
from recloop.ledger import Candidate, Experiment, Ledger, StaleStateError, State
from recloop.loop import approvals
from recloop.loop.cascade_step import run_cascade_stage
from recloop.loop.launch import launch_candidate
from recloop.loop.online import OnlineEvaluator
from recloop.workspace.errors import GitError
from recloop.workspace.git import Candidates, run_git
from recloop.workspace.manifest import Manifest, load_manifest

CASCADE_STATES: tuple[State, ...] = ("structural", "semantic", "local", "offline")
AFTER: dict[str, State] = {
    "developed": "structural",
    "structural": "semantic",
    "semantic": "local",
    "local": "offline",
}
CHAMPION_MOVED = "champion-moved"
_AGENT_LINE = re.compile(r"^agent: recloop (\S+)", re.MULTILINE)  # in develop agents' commits


class Parked(Exception):
    """The experiment waits for a person's answer at a gate."""


@dataclass
class Machine:
    """Everything the steps need, for one workspace and one process."""

    root: Path
    ledger: Ledger
    store: KnowledgeStore
    evaluator: OnlineEvaluator | None
    developer: Developer | None = None
    auto_approver: str | None = None  # approve every gate as this name (the demo policy)
    data_root: Path | None = None
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _context: CascadeContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.manifest: Manifest = load_manifest(self.root)
        self.candidates = Candidates(self.root, champion=self.manifest.main_branch)
        if self.developer is None:
            self.developer = CatalogueDeveloper(self.root, self.manifest)

    # -- shared views --------------------------------------------------------------------------

    def context(self) -> CascadeContext:
        """The cascade's context for the current champion (rebuilt when the champion moved)."""
        commit = self.candidates.champion_commit()
        if self._context is None or self._context.champion_commit != commit:
            self._context = CascadeContext(self.root, data_root=self.data_root)
        return self._context

    def idea(self, experiment: Experiment) -> Idea:
        proposal = self.ledger.get_proposal(experiment.proposal_id)
        return Idea.model_validate(proposal.payload["proposal"])

    def candidate(self, experiment: Experiment) -> Candidate | None:
        found = self.ledger.candidates(experiment)
        return found[0] if found else None

    def level(self, experiment: Experiment) -> str:
        """The higher of the planned and the actual level."""
        planned = self.ledger.get_proposal(experiment.proposal_id).level
        candidate = self.candidate(experiment)
        actual = None if candidate is None else candidate.payload.get("risk")
        return approvals.higher_level(planned, actual)

    # -- moves ---------------------------------------------------------------------------------

    def move(
        self,
        experiment: Experiment,
        to: State,
        payload: dict[str, Any] | None = None,
        gate: str | None = None,
    ) -> Experiment:
        return self.ledger.transition(
            experiment, cast(State, experiment.state), to, payload, require_approval=gate
        )

    def close(
        self, experiment: Experiment, stage: str, cause: str, sentence: str, **extra: Any
    ) -> Experiment:
        payload = {"stage": stage, "cause": cause, "sentence": sentence, **extra}
        return self.move(experiment, "closed", payload)

    def remove_worktree(self, name: str) -> None:
        """Remove the candidate's worktree, if there is one."""
        with contextlib.suppress(GitError):
            self.candidates.remove(name)


def advance(machine: Machine, key: str, *, launch: bool = False) -> Experiment:
    """Step the experiment until it is finished, parked, or (without `launch`) decided."""
    while True:
        experiment = _get(machine, key)
        if experiment.is_finished or (experiment.state == "decided" and not launch):
            return experiment
        try:
            step(machine, experiment)
        except Parked:
            return _get(machine, key)
        except StaleStateError:
            continue  # someone else moved it (a person's rejection): read it again


def _get(machine: Machine, key: str) -> Experiment:
    experiment = machine.ledger.find_experiment(key)
    if experiment is None:
        raise KeyError(f"no experiment {key!r}")
    return experiment


def step(machine: Machine, experiment: Experiment) -> Experiment:
    """Do the experiment's next step and commit its transition (see the module docstring)."""
    state = experiment.state
    if approvals.close_rejected(machine.ledger, experiment.key):
        return _get(machine, experiment.key)
    if state == "proposed":
        return _forbidden_check(machine, experiment)
    if state == "forbidden_check":
        return _develop(machine, experiment)
    if state in AFTER:
        return run_cascade_stage(machine, experiment, AFTER[state])
    if state == "offline":
        return _ask_online_gate(machine, experiment)
    if state == "awaiting_approval":
        return _go_online(machine, experiment)
    if state == "online":
        return _online_test(machine, experiment)
    if state == "decided":
        return _launch(machine, experiment)
    raise ValueError(f"experiment {experiment.key} is {state}: no step leaves it")


# -- the steps ---------------------------------------------------------------------------------


def _forbidden_check(machine: Machine, experiment: Experiment) -> Experiment:
    champion = workspace_champion(machine.root)
    match = None
    if champion is not None:
        match = check_proposal(
            machine.idea(experiment), machine.store.list(), machine.clock(), champion
        )
    if match is not None:
        return machine.close(
            experiment,
            "forbidden",
            "forbidden-direction",
            match.explanation,
            direction=match.direction.id,
        )
    return machine.move(experiment, "forbidden_check", {"forbidden": False})


def _develop(machine: Machine, experiment: Experiment) -> Experiment:
    candidate = machine.candidate(experiment)
    if candidate is None:
        result = _developed(machine, experiment)
        if not result.ok:
            machine.remove_worktree(experiment.key)
            failure = result.failure
            cause = failure.cause if failure else "develop-failed"
            sentence = failure.message if failure else "the developer made no commit"
            return machine.close(experiment, "develop", cause, sentence)
        candidate = machine.ledger.add_candidate(
            experiment,
            experiment.key,
            branch=f"recloop/{experiment.key}",
            commit=result.commit,
            diff=result.diff,
            base_commit=machine.candidates.get(experiment.key).base,
            payload={"risk": result.risk, "files": list(result.files), "agent": result.agent},
        )
    level = machine.level(experiment)
    return machine.move(experiment, "developed", {"commit": candidate.commit, "level": level})


def _developed(machine: Machine, experiment: Experiment) -> DevelopResult:
    """The developer's commit, or the one a crashed earlier attempt left in the worktree."""
    name = experiment.key
    try:
        existing = machine.candidates.get(name)
    except GitError:
        existing = None
    if existing is not None and existing.changed:
        diff = machine.candidates.diff(name)
        files = tuple(sorted({line[6:] for line in diff.splitlines() if line.startswith("+++ b/")}))
        idea = machine.idea(experiment)
        return DevelopResult(
            candidate=name,
            agent=_commit_agent(machine, existing.head),
            commit=existing.head,
            diff=diff,
            files=files,
            risk=idea.risk,
        )
    if existing is not None or machine.candidates.worktrees_dir.joinpath(name).exists():
        machine.remove_worktree(name)
    assert machine.developer is not None
    return machine.developer.develop(machine.idea(experiment), machine.candidates.create(name))


def _ask_online_gate(machine: Machine, experiment: Experiment) -> Experiment:
    level = machine.level(experiment)
    gated = approvals.needs_approval(machine.manifest.autonomy, "online", level)
    if gated:
        machine.ledger.request_approval(experiment, "online", required_level=cast(Any, level))
    return machine.move(experiment, "awaiting_approval", {"level": level, "gate": gated})


def _gate_open(machine: Machine, experiment: Experiment, gate: approvals.Gate) -> bool:
    """Whether the gate's approval is given (asking the demo policy when it answers); raises
    `Parked` while it is pending."""
    answer = machine.ledger.get_approval(experiment, gate)
    if answer is None:
        return False
    if answer.status == "pending" and machine.auto_approver is not None:
        note = "approved by the demo policy: " + approvals.describe_policy(
            machine.manifest.autonomy
        )
        answer = machine.ledger.approve(experiment, gate, by=machine.auto_approver, note=note)
    if answer.status == "pending":
        raise Parked(gate)
    return True


def _go_online(machine: Machine, experiment: Experiment) -> Experiment:
    gated = _gate_open(machine, experiment, "online")
    if _stale(machine, experiment):
        return _close_stale(machine, experiment)
    return machine.move(experiment, "online", {"approved": gated}, gate="online" if gated else None)


def _online_test(machine: Machine, experiment: Experiment) -> Experiment:
    from recloop.loop.online_step import run_online

    return run_online(machine, experiment)


def _launch(machine: Machine, experiment: Experiment) -> Experiment:
    decision = machine.ledger.get_decision(experiment)
    assert decision is not None, "a decided experiment has its decision"
    if decision.outcome != "ship":
        return machine.close(
            experiment,
            "online",
            decision.outcome.replace("_", "-"),
            decision.explanation or f"the online test said {decision.outcome}",
        )
    level = machine.level(experiment)
    gated = approvals.needs_approval(machine.manifest.autonomy, "launch", level)
    if gated:
        machine.ledger.request_approval(experiment, "launch", required_level=cast(Any, level))
        _gate_open(machine, experiment, "launch")
    commit = structural_commit(machine, experiment)
    if commit is None or _stale(machine, experiment):
        return _close_stale(machine, experiment)
    moved = launch_candidate(machine.root, machine.manifest.main_branch, commit)
    if moved is None:
        return _close_stale(machine, experiment)
    launched = machine.move(
        experiment, "launched", {"commit": commit, **moved}, gate="launch" if gated else None
    )
    machine.ledger.append_audit(
        "champion.move", f"experiment:{experiment.id}", moved, experiment=experiment
    )
    machine.remove_worktree(experiment.key)
    return launched


# -- helpers -----------------------------------------------------------------------------------


def _commit_agent(machine: Machine, commit: str) -> str:
    """The develop agent that made the commit, as its message records (`agent: recloop NAME`;
    "unknown" when it records none)."""
    message = run_git(["log", "-1", "--format=%B", commit], machine.root).decode()
    found = _AGENT_LINE.search(message)
    return found.group(1) if found else "unknown"


def structural_commit(machine: Machine, experiment: Experiment) -> str | None:
    """The commit the cascade judged (made by the structural stage)."""
    for run in machine.ledger.stage_runs(experiment):
        if run.stage == "structural":
            commit = run.evidence.get("details", {}).get("commit")
            return commit if isinstance(commit, str) else None
    return None


def _stale(machine: Machine, experiment: Experiment) -> bool:
    """Whether the champion moved since the cascade judged the candidate."""
    commit = structural_commit(machine, experiment)
    if commit is None:
        return True
    try:
        parent = machine.candidates._rev(f"{commit}^")
    except GitError:
        return True
    return parent != machine.candidates.champion_commit()


def _close_stale(machine: Machine, experiment: Experiment) -> Experiment:
    machine.remove_worktree(experiment.key)
    return machine.close(
        experiment,
        experiment.state,
        CHAMPION_MOVED,
        "the champion moved after the cascade judged this candidate; its "
        "gains were measured against a champion that is gone",
    )
