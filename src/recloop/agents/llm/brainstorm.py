"""`LLMBrainstormer`: ranked proposals from a language model, vetted by the harness.

It implements the `Brainstormer` port, so the loop cannot tell it from the catalogue agent.
The prompt carries the agent's playbook (versioned guidance, evolved elsewhere), the metrics
contract, the editable and protected paths, the active forbidden directions stated outright,
the outcomes it learned recently, the knowledge most similar to what it has been trying
(failure records and extra documents such as experiment summaries, via `knowledge.retrieval`),
a data profile (`profile`) and the repository map cut to a character budget.

The model answers `LLMProposals` (validated by pydantic; the client re-asks on invalid JSON),
best first. The model only suggests; the harness has the last word on each proposal:

1. it must name files to touch, each a plain relative path the manifest lets agents edit
   (`PathPolicy`): one protected or outside file drops the whole proposal;
2. `check_proposal` must find no active forbidden direction covering it;
3. its risk level is the higher of the model's and the rule's (`risk.risk_level` on the
   planned files; only config files count as a values-only change before code exists).

Dropped proposals are listed in `skipped` with the reason, as the catalogue agent does. Every
call goes through `LLMClient` as agent `llm-brainstormer`, so tokens and cost are in the
ledger. LLM errors (`LLMError`: budget spent, bad output, endpoint down) propagate; the caller
falls back to the non-LLM agent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recloop.agents.brainstorm import BrainstormContext, Skipped
from recloop.agents.llm.backends import Messages
from recloop.agents.llm.client import LLMClient
from recloop.agents.llm.profile import ProfileCache
from recloop.agents.llm.prompts import (
    directions_text,
    failure_text,
    objective_text,
    paths_text,
    repo_map_text,
    section,
    trim,
)
from recloop.agents.outcome import Outcome
from recloop.agents.risk import PYTHON_SUFFIXES, ChangeScope, risk_level
from recloop.knowledge.forbidden import check_proposal
from recloop.knowledge.proposal import FAMILIES, Family, ParamValue, Proposal
from recloop.knowledge.retrieval import Embedder, Retriever
from recloop.recsys.datadir import DataUnavailableError
from recloop.workspace.manifest import Level, Manifest
from recloop.workspace.patch import PathPolicy, refuse_path_syntax

AGENT = "llm-brainstormer"
LEVELS: tuple[Level, ...] = ("L1", "L2", "L3", "L4")

DEFAULT_PLAYBOOK = """\
- Ground every idea in the repository map: name the real files and symbols it changes.
- Prefer small, testable changes with one clear hypothesis over broad rewrites.
- Learn from the outcomes and failures below: do not repeat an idea that failed, change it.
- Say what you expect on the primary metric and on each guardrail it may move.
- A parameter tweak in the config file is cheapest to verify; use it when it tests the idea.
- Use family free-form only for a kind of change no other family describes."""

SYSTEM = """\
You are the brainstorm agent of recloop, which improves a team's recommender repository in a \
loop: you propose changes, another agent writes them, recloop verifies them offline and online \
and keeps what measurably helps. Proposals that touch a protected or non-editable file, or that \
a forbidden direction covers, are discarded by the harness, whatever you say.

Families of change: {families}.
Risk levels: L1 a parameter value, L2 a config change, L3 code in one module, L4 code across \
modules.

## Playbook
{playbook}"""


class LLMProposal(BaseModel):
    """One proposal as the model states it (files unchecked: the harness vets them)."""

    family: Family
    hypothesis: str = Field(min_length=1, description="why it should improve the metric")
    expected_effect: str = Field(default="", description="e.g. '+3% ndcg@10, coverage flat'")
    risk: Level
    files: list[str] = Field(description="workspace-relative paths the change will edit")
    parameters: dict[str, ParamValue] = Field(default_factory=dict)


class LLMProposals(BaseModel):
    """The model's answer: proposals, best first."""

    proposals: list[LLMProposal] = Field(min_length=1)


class LLMBrainstormConfig(BaseModel):
    """Prompt budgets of the LLM brainstormer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    map_chars: int = Field(default=6000, ge=200)  # the repository map's share of the prompt
    knowledge_k: int = Field(default=8, ge=0)  # retrieved documents
    doc_chars: int = Field(default=600, ge=80)  # each retrieved document at most
    recent_outcomes: int = Field(default=12, ge=0)  # outcomes kept from `learn`


Documents = Callable[[], Iterable[str]]


class LLMBrainstormer:
    """The LLM brainstorm agent (see the module docstring)."""

    def __init__(
        self,
        client: LLMClient,
        playbook: str = DEFAULT_PLAYBOOK,
        *,
        documents: Documents | None = None,
        config: LLMBrainstormConfig | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """`documents` is called at every `propose` for extra knowledge to retrieve from (say
        the ledger's latest experiment summaries); `embedder` defaults to `default_embedder`."""
        self.client = client
        self.playbook = playbook
        self.config = config or LLMBrainstormConfig()
        self.documents = documents
        self.embedder = embedder
        self.recent: deque[str] = deque(maxlen=self.config.recent_outcomes)
        self.skipped: list[Skipped] = []  # proposals dropped from the last answer, and why
        self._profiles = ProfileCache()

    def propose(self, context: BrainstormContext, n: int) -> list[Proposal]:
        """Up to n vetted proposals, in the model's order."""
        answer = self.client.structured(self.messages(context, n), LLMProposals, agent=AGENT)
        policy = _policy(context.manifest)
        vetted = [vet(p, context, policy) for p in answer.proposals]
        self.skipped = [v for v in vetted if isinstance(v, Skipped)]
        return [v for v in vetted if isinstance(v, Proposal)][:n]

    def learn(self, proposal: Proposal, outcome: Outcome) -> None:
        """Remember the outcome for the next prompts (the last `recent_outcomes`)."""
        self.recent.append(outcome_text(proposal, outcome))

    def messages(self, context: BrainstormContext, n: int) -> Messages:
        """The conversation `propose` sends (the client adds the output schema)."""
        system = SYSTEM.format(families=", ".join(FAMILIES), playbook=self.playbook.strip())
        manifest = context.manifest
        parts = [
            section("Objective", objective_text(manifest)),
            section("Paths", paths_text(manifest)),
            section(
                "Forbidden directions (never propose what these cover)",
                directions_text(context.directions, context.now, context.champion),
            ),
            section("Recent outcomes (oldest first)", "\n".join(f"- {r}" for r in self.recent)),
            section("Relevant knowledge", self._knowledge(context)),
            section("Data profile", self._profile(context)),
            section(
                "Repository map",
                repo_map_text(context.workspace, manifest, self.config.map_chars),
            ),
            section(
                "Task",
                f"Propose up to {n} distinct changes to the champion "
                f"({context.champion.short}), best first.",
            ),
        ]
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": "\n\n".join(parts)},
        ]

    # -- internals -----------------------------------------------------------------------------

    def _knowledge(self, context: BrainstormContext) -> str:
        """The documents most similar to the objective and what was tried recently."""
        docs = [failure_text(f) for f in context.failures]
        if self.documents is not None:
            docs.extend(self.documents())
        if not docs or self.config.knowledge_k == 0:
            return ""
        query = "\n".join([objective_text(context.manifest), *self.recent])
        retriever = Retriever(self.embedder).fit(docs)
        top = retriever.top(query, self.config.knowledge_k)
        return "\n".join(f"- {trim(doc, self.config.doc_chars)}" for doc, _ in top)

    def _profile(self, context: BrainstormContext) -> str:
        try:
            profile = self._profiles.get(
                context.workspace, context.manifest, context.champion.commit
            )
        except (DataUnavailableError, OSError, ValueError) as exc:
            return f"(unavailable: {exc})"
        return profile.render()


def _policy(manifest: Manifest) -> PathPolicy:
    return PathPolicy(
        editable=tuple(manifest.paths.editable), protected=manifest.paths.all_protected
    )


def vet(answer: LLMProposal, context: BrainstormContext, policy: PathPolicy) -> Proposal | Skipped:
    """The proposal as the harness accepts it, or why it is dropped."""
    reason = _refused_files(answer.files, policy)
    if reason is not None:
        return Skipped(family=answer.family, reason=reason)
    try:
        proposal = _proposal(answer)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        return Skipped(family=answer.family, reason=f"invalid proposal: {error['msg']}")
    match = check_proposal(proposal, context.directions, context.now, context.champion)
    if match is not None:
        return Skipped(family=answer.family, reason=f"forbidden: {match.explanation}")
    return proposal


def _refused_files(files: Iterable[str], policy: PathPolicy) -> str | None:
    """Why the planned files may not be touched (None when every one may be)."""
    files = list(files)
    if not files:
        return "names no file to touch"
    for path in files:
        rejection = refuse_path_syntax(path) or policy.refuse_write(path)
        if rejection is not None:
            return f"refused file {rejection}"
    return None


def planned_level(files: Iterable[str], claimed: Level) -> Level:
    """The higher of the model's level and the rule's on the planned files (a change to config
    files only may be values-only; code is code until the written diff says otherwise)."""
    files = tuple(files)
    config_only = all(PurePosixPath(f).suffix not in PYTHON_SUFFIXES for f in files)
    rule = risk_level(ChangeScope.planned(files, values_only=config_only))
    return max(rule, claimed, key=LEVELS.index)


def _proposal(answer: LLMProposal) -> Proposal:
    return Proposal(
        family=answer.family,
        hypothesis=answer.hypothesis,
        parameters=answer.parameters,
        files=tuple(answer.files),
        risk=planned_level(answer.files, answer.risk),
        expected_effect=answer.expected_effect,
    )


def outcome_text(proposal: Proposal, outcome: Outcome) -> str:
    """One learned outcome as a prompt line."""
    params = ", ".join(f"{k}={v}" for k, v in proposal.parameters.items())
    what = f"{proposal.family}({params}) on {', '.join(proposal.files) or 'no files'}"
    if outcome.improvement is None:
        result = f"stopped at {outcome.reached}: {outcome.failure or 'no cause given'}"
    else:
        verdict = (
            "shipped"
            if outcome.shipped
            else ("passed offline" if outcome.passed_offline else "rejected offline")
        )
        guardrails = "" if outcome.feasible else ", a guardrail failed"
        result = f"{outcome.improvement:+.4g} on the primary metric, {verdict}{guardrails}"
    return f"{what}: {result}. Hypothesis was: {trim(proposal.hypothesis, 200)}"
