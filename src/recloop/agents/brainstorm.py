"""Brainstorm: ranked proposals. The `Brainstormer` seam and its non-LLM implementation.

`Brainstormer` is the port every brainstorm agent implements: `propose(context, n)` returns up
to n proposals, best first, and `learn(proposal, outcome)` takes back what became of one. The
LLM agent (issue 8) implements the same two methods; the loop cannot tell them apart.

`CatalogueBrainstormer` proposes from the transformation catalogue:

1. the families whose transformation applies to the champion (the repository map has the
   symbols it edits; the manifest declares search spaces for the config-level family);
2. minus the families a forbidden direction covers whatever their parameters;
3. in the order of one Thompson draw per family from the family posterior (`posterior`);
4. each with the parameters its Optuna search asks for next (`search`), re-asked when a
   forbidden direction covers that point (`knowledge.forbidden.check_proposal`);
5. with its risk level by rule (`risk.risk_level`) from the files the transformation plans
   to change and whether its code is already in place (then only values change).

Everything it ranks with is in `memory` (an `AgentMemory`), and every draw is seeded from the
memory's state, so a brainstormer rebuilt from its memory proposes what the original would have.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from recloop.agents.memory import AgentMemory
from recloop.agents.outcome import Outcome
from recloop.agents.posterior import FamilyPosterior
from recloop.agents.risk import ChangeScope, risk_level
from recloop.agents.search import ParameterSearch, SearchState
from recloop.agents.space import Scalar, Space
from recloop.agents.transform import CodeView, Transformation
from recloop.agents.transforms import Catalogue, default_catalogue
from recloop.knowledge.champion import Champion, workspace_champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import ForbiddenDirection, check_proposal
from recloop.knowledge.proposal import Proposal
from recloop.knowledge.store import KnowledgeStore
from recloop.workspace.manifest import Manifest, load_manifest

MAX_FORBIDDEN_ASKS = 5


@dataclass(frozen=True)
class BrainstormContext:
    """What a brainstorm agent may know: the champion's checkout and the knowledge base."""

    workspace: Path  # the champion's checkout (the workspace root)
    manifest: Manifest
    champion: Champion
    now: datetime
    directions: tuple[ForbiddenDirection, ...] = ()
    failures: tuple[FailureRecord, ...] = ()  # memory of stopped candidates, for the LLM agent
    view: CodeView = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "view", CodeView(self.workspace, self.manifest))

    @classmethod
    def of(
        cls, workspace: str | Path, now: datetime, store: KnowledgeStore | None = None
    ) -> BrainstormContext:
        """The context of a workspace's champion: its manifest, commit and knowledge store."""
        root = Path(workspace)
        manifest = load_manifest(root)
        champion = workspace_champion(root)
        if champion is None:
            raise ValueError(f"{root} has no champion branch {manifest.main_branch!r}")
        directions = tuple(store.list()) if store is not None else ()
        failures = tuple(store.failures()) if store is not None else ()
        return cls(root, manifest, champion, now, directions, failures)


@runtime_checkable
class Brainstormer(Protocol):
    """The brainstorm port: ranked proposals out, outcomes in."""

    def propose(self, context: BrainstormContext, n: int) -> list[Proposal]: ...

    def learn(self, proposal: Proposal, outcome: Outcome) -> None: ...


class RankedProposal(BaseModel):
    """A proposal with why it ranks where it does (for the ledger and the funnel)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal: Proposal
    draw: float  # the family's Thompson draw
    posterior_version: int
    trial: int  # the number of its trial in the family's search


class Skipped(BaseModel):
    """A family not proposed, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    reason: str


class CatalogueBrainstormer:
    """The non-LLM brainstormer (see the module docstring)."""

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        memory: AgentMemory | None = None,
        *,
        seed: int = 0,
    ) -> None:
        self.catalogue = catalogue or default_catalogue()
        self.seed = seed
        memory = memory or AgentMemory()
        self.posterior: FamilyPosterior = memory.posterior
        self._states: dict[str, SearchState] = dict(memory.searches)
        self.skipped: list[Skipped] = []  # families left out of the last ranking

    @property
    def memory(self) -> AgentMemory:
        return AgentMemory(posterior=self.posterior, searches=dict(self._states))

    def propose(self, context: BrainstormContext, n: int) -> list[Proposal]:
        return [ranked.proposal for ranked in self.rank(context, n)]

    def rank(self, context: BrainstormContext, n: int) -> list[RankedProposal]:
        """Up to n proposals, best first: one per family per round of Thompson draws."""
        available = self._available(context)
        rng = random.Random(f"{self.seed}:{self.posterior.version}:{self._trial_count()}")
        out: list[RankedProposal] = []
        while len(out) < n and available:
            for family, draw in self.posterior.rank(available, rng):
                if len(out) == n:
                    break
                ranked = self._propose(available[family], context, draw)
                if ranked is None:
                    del available[family]
                    reason = f"every one of {MAX_FORBIDDEN_ASKS} points asked was forbidden"
                    self.skipped.append(Skipped(family=family, reason=reason))
                else:
                    out.append(ranked)
        return out

    def learn(self, proposal: Proposal, outcome: Outcome) -> None:
        """Count the outcome for the family; give the measured value to the family's search."""
        self.posterior = self.posterior.update(proposal.family, outcome)
        params = _scalars(proposal.parameters)
        if proposal.family not in self.catalogue or params is None:
            return
        search = self._search(proposal.family, ())
        if outcome.improvement is not None:
            search.tell_params(params, value=outcome.improvement, feasible=outcome.feasible)
        else:
            search.tell_params(params, failure=outcome.failure or f"stopped at {outcome.reached}")
        self._states[proposal.family] = search.state

    def withdraw(self, proposal: Proposal, reason: str = "withdrawn") -> None:
        """A proposal that will never run: its pending trial fails, the posterior is unchanged."""
        params = _scalars(proposal.parameters)
        if proposal.family in self._states and params is not None:
            search = self._search(proposal.family, ())
            for trial in search.pending():
                if trial.params == params:
                    search.tell(trial.number, failure=reason)
                    self._states[proposal.family] = search.state
                    return

    # -- internals -----------------------------------------------------------------------------

    def _available(self, context: BrainstormContext) -> dict[str, Transformation]:
        self.skipped = []
        available: dict[str, Transformation] = {}
        for transformation in self.catalogue:
            reason = transformation.not_applicable(context.view)
            if reason is None:
                reason = _family_forbidden(transformation, context)
            if reason is None:
                available[transformation.family] = transformation
            else:
                self.skipped.append(Skipped(family=transformation.family, reason=reason))
        return available

    def _propose(
        self, transformation: Transformation, context: BrainstormContext, draw: float
    ) -> RankedProposal | None:
        view, commit = context.view, context.champion.commit
        search = self._search(transformation.family, transformation.space(view))
        current = transformation.current(view)
        if current is not None:
            search.observe_baseline(current, commit)
        try:
            for _ in range(MAX_FORBIDDEN_ASKS):
                trial = search.ask(transformation.defaults(view), champion=commit)
                proposal = self._proposal(transformation, view, trial.params, search)
                match = check_proposal(proposal, context.directions, context.now, context.champion)
                if match is None:
                    return RankedProposal(
                        proposal=proposal,
                        draw=draw,
                        posterior_version=self.posterior.version,
                        trial=trial.number,
                    )
                search.tell(trial.number, failure=f"forbidden: {match.direction.id}")
            return None
        finally:
            self._states[transformation.family] = search.state

    def _proposal(
        self,
        transformation: Transformation,
        view: CodeView,
        params: Mapping[str, Scalar],
        search: ParameterSearch,
    ) -> Proposal:
        files = transformation.files(view)
        scope = ChangeScope.planned(files, values_only=transformation.applied(view))
        return Proposal(
            family=transformation.family,
            hypothesis=transformation.hypothesis(params),
            parameters=dict(params),
            files=files,
            risk=risk_level(scope),
            expected_effect=self._expected(transformation.family, search, view),
        )

    def _expected(self, family: str, search: ParameterSearch, view: CodeView) -> str:
        record = self.posterior.record(family)
        text = (
            f"P(passes offline) ~ {self.posterior.mean(family):.2f} "
            f"after {record.outcomes} outcome(s) of this family"
        )
        best = search.best()
        if best is not None and best.source != "baseline" and best.value is not None:
            metric = view.manifest.metrics.primary.name
            text += f"; best so far {best.value:+.4g} {metric} (trial {best.number})"
        return text

    def _search(self, family: str, space: Space) -> ParameterSearch:
        state = self._states.get(family) or SearchState(family=family, seed=self.seed)
        return ParameterSearch.from_state(state, space)

    def _trial_count(self) -> int:
        return sum(len(state.trials) for state in self._states.values())


def _family_forbidden(transformation: Transformation, context: BrainstormContext) -> str | None:
    """Why a direction covers the whole family (it names no parameter), or None."""
    probe = Proposal(
        family=transformation.family,
        hypothesis=transformation.title,
        files=transformation.files(context.view),
    )
    match = check_proposal(probe, context.directions, context.now, context.champion)
    pattern = None if match is None else match.direction.pattern
    if match is None or pattern is None or pattern.params or pattern.exact:
        return None
    return f"forbidden: {match.explanation}"


def _scalars(params: Mapping[str, object]) -> dict[str, Scalar] | None:
    """The parameters if every value is a scalar (what a search can record), else None."""
    if all(isinstance(v, bool | int | float | str) for v in params.values()):
        return {k: v for k, v in params.items() if isinstance(v, bool | int | float | str)}
    return None
