"""The agents' memory on disk: atomic JSON, a fresh one when there is none."""

from pathlib import Path

from recloop.agents.memory import AgentMemory, load_memory, memory_path, save_memory
from recloop.agents.outcome import Outcome
from recloop.agents.posterior import FamilyPosterior
from recloop.agents.search import ParameterSearch
from recloop.agents.space import float_param


def test_memory_round_trips_and_starts_fresh(tmp_path: Path) -> None:
    path = memory_path(tmp_path)
    assert path == tmp_path / ".recloop/agents/memory.json"
    assert load_memory(path) == AgentMemory()
    search = ParameterSearch("time-decay", (float_param("half_life", 0.5, 100.0, log=True),))
    search.tell(search.ask().number, value=0.004)
    memory = AgentMemory(
        posterior=FamilyPosterior().update("time-decay", Outcome.measured(0.004, passed=True)),
        searches={"time-decay": search.state},
    )
    save_memory(memory, path)
    save_memory(memory, path)  # overwriting leaves no temporary file behind
    assert load_memory(path) == memory
    assert sorted(p.name for p in path.parent.iterdir()) == ["memory.json"]
