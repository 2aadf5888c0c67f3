"""A new experiment from a proposal: the brainstormer's choice, recorded in the ledger.

The catalogue's choice is keyed by its family and trial (`ease-ranking-t3`), so brainstorming
again after a crash finds the experiment it already recorded. The LLM's is keyed by its family
and the ledger's proposal count (`free-form-llm7`); its payload names the brainstorm calls
that produced it and the proposals the harness dropped. The proposal's `source` is the agent
that proposed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recloop.agents import BrainstormContext, CatalogueBrainstormer, Skipped
from recloop.agents.llm import BRAINSTORMER
from recloop.knowledge.proposal import Proposal
from recloop.ledger import Experiment, Ledger

CATALOGUE = "catalogue-brainstormer"


@dataclass(frozen=True)
class Choice:
    """A proposal chosen to run, with its key and what the ledger keeps about its choice."""

    key: str
    idea: Proposal
    source: str  # the agent that proposed it
    payload: dict[str, Any]


def catalogue_choice(
    brainstormer: CatalogueBrainstormer, context: BrainstormContext
) -> Choice | None:
    """The catalogue's best proposal; None when it has nothing left."""
    ranked = brainstormer.rank(context, 1)
    if not ranked:
        return None
    choice = ranked[0]
    payload = {"draw": choice.draw, "trial": choice.trial}
    return Choice(f"{choice.proposal.family}-t{choice.trial}", choice.proposal, CATALOGUE, payload)


def llm_choice(ledger: Ledger, idea: Proposal, skipped: list[Skipped], calls_before: int) -> Choice:
    """The LLM's proposal; `calls_before` is the brainstormer's call count before it asked."""
    calls = ledger.llm_calls(agent=BRAINSTORMER)[calls_before:]
    payload = {
        "llm_calls": [c.id for c in calls],
        "skipped": [s.model_dump() for s in skipped],
    }
    key = f"{idea.family}-llm{len(ledger.proposals()) + 1}"
    return Choice(key, idea, BRAINSTORMER, payload)


def record(
    ledger: Ledger,
    choice: Choice,
    base_commit: str,
    tags: dict[str, Any] | None = None,
) -> Experiment:
    """The proposal and its experiment, each recorded once per key."""
    idea = choice.idea
    proposal = ledger.add_proposal(
        choice.key,
        family=idea.family,
        title=idea.hypothesis.split(".")[0][:200],
        level=idea.risk,
        source=choice.source,
        hypothesis=idea.hypothesis,
        params=dict(idea.parameters),
        payload={
            "proposal": idea.model_dump(mode="json"),
            "expected": idea.expected_effect,
            **choice.payload,
        },
    )
    return ledger.create_experiment(choice.key, proposal, base_commit=base_commit, payload=tags)
