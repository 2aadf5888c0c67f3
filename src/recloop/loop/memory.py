"""What the loop keeps for its non-LLM agents between runs: their memory and what they learned.

One JSON file (`.recloop/loop/agents.json`), written atomically, holding the agents' memory and
the keys of the experiments they already learned from — in the same write, so an outcome is
learned exactly once however the run is killed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents import AgentMemory
from recloop.workspace.manifest import RECLOOP_DIR

STATE_FILE = f"{RECLOOP_DIR}/loop/agents.json"


class LoopAgentState(BaseModel):
    """The brainstormer's memory and the experiments it has learned from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory: AgentMemory = Field(default_factory=AgentMemory)
    learned: tuple[str, ...] = ()


def state_path(root: Path) -> Path:
    return root / STATE_FILE


def load_state(root: Path) -> LoopAgentState:
    path = state_path(root)
    if not path.is_file():
        return LoopAgentState()
    return LoopAgentState.model_validate_json(path.read_text(encoding="utf-8"))


def save_state(root: Path, state: LoopAgentState) -> None:
    """Write atomically (a temporary file renamed over the old one, as `save_memory` does)."""
    _atomic_write(state_path(root), state.model_dump_json(indent=1))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
