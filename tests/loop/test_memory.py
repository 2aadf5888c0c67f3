"""The brainstormer's posterior versions in the ledger, and the state file kept consistent."""

from __future__ import annotations

from pathlib import Path

from recloop.agents import AgentMemory, FamilyPosterior, Outcome
from recloop.agents.posterior import PLAYBOOK_AGENT
from recloop.ledger import Ledger
from recloop.loop.memory import LoopAgentState, load_state, publish_posterior, save_state
from recloop.loop.status import workspace_status

PASS = Outcome.measured(0.01, passed=True)
FAIL = Outcome.failed("semantic", "tests-failed")


def _state(posterior: FamilyPosterior, *learned: str) -> LoopAgentState:
    return LoopAgentState(memory=AgentMemory(posterior=posterior), learned=learned)


def test_each_adopted_posterior_is_an_accepted_playbook_version(tmp_path: Path) -> None:
    first = FamilyPosterior().update("ease-ranking", PASS)
    second = first.update("time-decay", FAIL)
    with Ledger.open(tmp_path) as ledger:
        assert publish_posterior(ledger, FamilyPosterior(), None) is None  # the prior
        assert workspace_status(ledger, "ndcg@10").posterior_version is None
        v1 = publish_posterior(ledger, first, "ease-ranking-t0")
        again = publish_posterior(ledger, first, "ease-ranking-t0")  # a resumed finalize
        v2 = publish_posterior(ledger, second, "time-decay-t0")
        assert v1 is not None and v2 is not None and again == v1
        assert (v1.version, v2.version, v2.parent_version) == (1, 2, 1)
        assert v2.text == second.canonical_json() and v2.accepted
        assert (v2.n_outcomes, v2.outcome_rate) == (2, 0.5)
        assert v2.payload["experiment"] == "time-decay-t0"
        assert v2.payload["posterior_version"] == 2 and v2.payload["failures"] == 1.0
        assert workspace_status(ledger, "ndcg@10").posterior_version == 2
        assert workspace_status(ledger, "ndcg@10").to_json()["posterior_version"] == 2


def test_a_lost_state_file_is_rebuilt_from_the_ledger(tmp_path: Path) -> None:
    first = FamilyPosterior().update("ease-ranking", PASS)
    second = first.update("time-decay", FAIL)
    with Ledger.open(tmp_path) as ledger:
        publish_posterior(ledger, first, "e-1")
        publish_posterior(ledger, second, "e-2")
        rebuilt = load_state(tmp_path, ledger)  # no file
        assert rebuilt.memory.posterior == second and rebuilt.learned == ("e-1", "e-2")
        save_state(tmp_path, _state(first, "e-1", "e-0"))  # an older file
        older = load_state(tmp_path, ledger)
        assert older.memory.posterior == second and older.learned == ("e-1", "e-0", "e-2")


def test_a_file_ahead_of_the_ledger_is_published_on_load(tmp_path: Path) -> None:
    """A run killed between saving the file and writing the ledger, or an older workspace."""
    posterior = FamilyPosterior().update("ease-ranking", PASS).update("ease-ranking", PASS)
    save_state(tmp_path, _state(posterior, "e-1", "e-2"))
    with Ledger.open(tmp_path) as ledger:
        assert load_state(tmp_path) == _state(posterior, "e-1", "e-2")  # no ledger: the file
        assert ledger.current_playbook(PLAYBOOK_AGENT) is None
        assert load_state(tmp_path, ledger) == _state(posterior, "e-1", "e-2")
        current = ledger.current_playbook(PLAYBOOK_AGENT)
        assert current is not None and current.text == posterior.canonical_json()
        assert current.payload["experiment"] == "e-2"
        assert load_state(tmp_path, ledger) == _state(posterior, "e-1", "e-2")
        assert len(ledger.playbook_versions(PLAYBOOK_AGENT)) == 1
