"""What the non-LLM agents remember between runs: the family posterior and every family's trials.

One pydantic model, so a run can be resumed from it. `save_memory` writes it as JSON
(atomically: a temporary file in the same folder, fsynced, renamed over the old one) and
`load_memory` reads it back; the default place is `<workspace>/.recloop/agents/memory.json`.
The posterior's versions are also the ledger's playbook versions of `PLAYBOOK_AGENT`, the
source of truth the loop rebuilds the posterior from (`recloop.loop.memory`); the Optuna
search states live only here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents.posterior import FamilyPosterior
from recloop.agents.search import SearchState
from recloop.atomic import write_atomic
from recloop.workspace.manifest import RECLOOP_DIR

MEMORY_FILE = f"{RECLOOP_DIR}/agents/memory.json"
FORMAT = "recloop-agents-memory"


class AgentMemory(BaseModel):
    """The posterior over families and each family's search state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = FORMAT
    version: int = 1
    posterior: FamilyPosterior = Field(default_factory=FamilyPosterior)
    searches: dict[str, SearchState] = Field(default_factory=dict)


def memory_path(workspace: str | Path) -> Path:
    return Path(workspace) / MEMORY_FILE


def save_memory(memory: AgentMemory, path: str | Path) -> None:
    """Write the memory as JSON, atomically."""
    write_atomic(Path(path), memory.model_dump_json(indent=2).encode("utf-8"))


def load_memory(path: str | Path) -> AgentMemory:
    """The memory saved at `path`, or a fresh one when there is no file yet."""
    path = Path(path)
    if not path.is_file():
        return AgentMemory()
    return AgentMemory.model_validate_json(path.read_text(encoding="utf-8"))
