"""Agents without an LLM: Brainstorm (ranked proposals) and Develop (real commits).

The seams, which the LLM agents of issue 8 implement too:

- `Brainstormer`: `propose(context, n) -> list[Proposal]`, `learn(proposal, outcome)`;
- `Developer`: `develop(proposal, candidate) -> DevelopResult`.

The non-LLM implementations:

- `CatalogueBrainstormer`: Thompson sampling over proposal families (`posterior`), each
  family's parameters from a seeded Optuna TPE search (`search`), forbidden directions skipped,
  risk levels by rule (`risk.risk_level`);
- `CatalogueDeveloper`: the family's transformation (`transforms`) edits the candidate's code
  and config through the syntax tree (`source`) and tomlkit (`tomledit`), the path policy
  checks the write, and the change is committed.

Modules: `brainstorm`, `develop` (the seams and their implementations), `transform` (the base
of a transformation and the checkout view), `transforms/` (the catalogue), `space` (typed
parameter spaces), `search` (per-family Optuna search), `posterior` (family posterior),
`memory` (both, persisted), `outcome` (what the agents learn from), `risk` (levels by rule),
`source` and `tomledit` (editing Python and TOML).
"""

from recloop.agents.brainstorm import (
    BrainstormContext,
    Brainstormer,
    CatalogueBrainstormer,
    RankedProposal,
    Skipped,
)
from recloop.agents.develop import (
    DEVELOP_CAUSES,
    CatalogueDeveloper,
    Developer,
    DevelopFailure,
    DevelopResult,
)
from recloop.agents.memory import AgentMemory, load_memory, memory_path, save_memory
from recloop.agents.outcome import Outcome
from recloop.agents.posterior import FamilyPosterior, FamilyRecord
from recloop.agents.risk import ChangeScope, risk_level
from recloop.agents.search import ParameterSearch, SearchState, TrialRecord
from recloop.agents.transform import CodeView, Transformation, TransformError
from recloop.agents.transforms import Catalogue, default_catalogue

__all__ = [
    "DEVELOP_CAUSES",
    "AgentMemory",
    "BrainstormContext",
    "Brainstormer",
    "Catalogue",
    "CatalogueBrainstormer",
    "CatalogueDeveloper",
    "ChangeScope",
    "CodeView",
    "DevelopFailure",
    "DevelopResult",
    "Developer",
    "FamilyPosterior",
    "FamilyRecord",
    "Outcome",
    "ParameterSearch",
    "RankedProposal",
    "SearchState",
    "Skipped",
    "TransformError",
    "Transformation",
    "TrialRecord",
    "default_catalogue",
    "load_memory",
    "memory_path",
    "risk_level",
    "save_memory",
]
