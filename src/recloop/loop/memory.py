"""What the loop keeps for its non-LLM agents between runs: their memory and what they learned.

One JSON file (`.recloop/loop/agents.json`), written atomically, holding the agents' memory and
the keys of the experiments they already learned from — in the same write, so an outcome is
learned exactly once however the run is killed.

Every posterior the brainstormer adopts is also a playbook version of `PLAYBOOK_AGENT` in the
ledger, written right after the file (`publish_posterior`: the version added and scored as
accepted, both idempotent, with the experiment it learned from in the payload). A run killed
between the two writes leaves the file one version ahead; finalizing that experiment again, or
the next `load_state`, publishes it. A ledger ahead of the file means the file was lost or is
older: `load_state` then takes the posterior and the learned keys from the ledger, keeping the
file's search states (the ledger does not hold them; without a file they start afresh).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents import AgentMemory, FamilyPosterior
from recloop.agents.posterior import PLAYBOOK_AGENT
from recloop.atomic import write_atomic
from recloop.ledger import Ledger, PlaybookVersion
from recloop.workspace.manifest import RECLOOP_DIR

STATE_FILE = f"{RECLOOP_DIR}/loop/agents.json"


class LoopAgentState(BaseModel):
    """The brainstormer's memory and the experiments it has learned from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory: AgentMemory = Field(default_factory=AgentMemory)
    learned: tuple[str, ...] = ()


def state_path(root: Path) -> Path:
    return root / STATE_FILE


def load_state(root: Path, ledger: Ledger | None = None) -> LoopAgentState:
    """The state in the file, made consistent with the ledger's posterior versions when a
    ledger is given (see the module docstring)."""
    path = state_path(root)
    state = (
        LoopAgentState.model_validate_json(path.read_text(encoding="utf-8"))
        if path.is_file()
        else LoopAgentState()
    )
    return state if ledger is None else _reconcile(state, ledger)


def save_state(root: Path, state: LoopAgentState) -> None:
    """Write atomically (a temporary file renamed over the old one, as `save_memory` does)."""
    write_atomic(state_path(root), state.model_dump_json(indent=1).encode("utf-8"))


def publish_posterior(
    ledger: Ledger, posterior: FamilyPosterior, experiment: str | None
) -> PlaybookVersion | None:
    """Record an adopted posterior as the brainstormer's playbook version, accepted (the same
    posterior again changes nothing); None for the prior, which no outcome has changed."""
    if posterior.version == 0:
        return None
    counts = posterior.counts()
    current = ledger.current_playbook(PLAYBOOK_AGENT)
    added = ledger.add_playbook_version(
        PLAYBOOK_AGENT,
        posterior.canonical_json(),
        parent_version=None if current is None else current.version,
        payload={"posterior_version": posterior.version, "experiment": experiment, **counts},
    )
    return ledger.score_playbook_version(
        PLAYBOOK_AGENT,
        added.version,
        outcome_rate=posterior.success_rate,
        n_outcomes=counts["outcomes"],
        accepted=True,
    )


def _reconcile(state: LoopAgentState, ledger: Ledger) -> LoopAgentState:
    versions = [v for v in ledger.playbook_versions(PLAYBOOK_AGENT) if v.accepted]
    mine = state.memory.posterior
    newest = FamilyPosterior.model_validate_json(versions[-1].text) if versions else None
    if newest is not None and newest.version >= mine.version and newest != mine:
        keys = [v.payload.get("experiment") for v in versions]
        learned = tuple(dict.fromkeys([*state.learned, *(k for k in keys if isinstance(k, str))]))
        memory = state.memory.model_copy(update={"posterior": newest})
        return LoopAgentState(memory=memory, learned=learned)
    if newest is None or mine.version > newest.version:
        publish_posterior(ledger, mine, state.learned[-1] if state.learned else None)
    return state
