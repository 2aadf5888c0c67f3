"""The LLM agents in the run loop: which agents run, the shared budget, the playbooks.

`choose_llm` settles `recloop run --agents auto|llm|catalogue` against the workspace's `[llm]`
settings: `auto` uses the LLM agents when an LLM is configured, `llm` demands one.

In the loop's main process `LLMSide` holds one client and its `LLMBudget` (the run's limits,
counted from the run's start; the ledger is the account, so the workers' calls count too), the
`LLMBrainstormer` and one `PlaybookKeeper` per LLM agent. The brainstormer prompts with its
playbook version in force; each new experiment is tagged with the versions it runs with; after
each finished experiment the keepers score and reflect when a batch is complete.

In each worker process `PlaybookDeveloper` wraps the `LLMDeveloper` (its own client, the same
budget): before developing an experiment it reads from the ledger the developer's playbook
version the experiment was tagged with, so every process runs the version the main one chose.
The catalogue's fallback proposals are developed by the catalogue's developer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from recloop.agents import BrainstormContext, CatalogueDeveloper, DevelopResult
from recloop.agents.llm import (
    BRAINSTORMER,
    DEVELOP_PLAYBOOK,
    DEVELOPER,
    BatchReport,
    LLMBadOutput,
    LLMBrainstormer,
    LLMBudget,
    LLMClient,
    LLMConfig,
    LLMConfigError,
    LLMDeveloper,
    LLMUnavailable,
    PlaybookKeeper,
    ran_with,
    resolve_llm,
    tag,
)
from recloop.agents.llm.backends import make_backend
from recloop.agents.llm.brainstorm import DEFAULT_PLAYBOOK
from recloop.knowledge.assets import ASSET_KIND
from recloop.knowledge.proposal import Proposal
from recloop.ledger import Ledger
from recloop.loop.finalize import closing, outcome_of, withdrawn
from recloop.loop.machine import Machine
from recloop.loop.propose import CATALOGUE, Choice, llm_choice
from recloop.workspace.git import Candidate
from recloop.workspace.manifest import Manifest

AgentChoice = Literal["auto", "llm", "catalogue"]
DEFAULT_PLAYBOOKS = {BRAINSTORMER: DEFAULT_PLAYBOOK, DEVELOPER: DEVELOP_PLAYBOOK}
Notify = Callable[[str], None]


def choose_llm(choice: AgentChoice, manifest: Manifest) -> LLMConfig | None:
    """The LLM settings the run uses, None for the catalogue agents; `LLMConfigError` when the
    LLM is demanded but not configured, or configured but unusable."""
    if choice == "catalogue":
        return None
    config = resolve_llm(manifest.llm)
    if config is None and choice == "llm":
        raise LLMConfigError(
            "--agents llm needs a configured LLM: set [llm] provider and model in recloop.toml "
            "(or RECLOOP_LLM_PROVIDER and RECLOOP_LLM_MODEL), or run with --agents catalogue"
        )
    if config is not None:
        make_backend(config).close()  # a missing provider package fails here, before the run
    return config


class LLMSide:
    """The main process's LLM agents and playbook keepers (see the module docstring)."""

    def __init__(
        self, ledger: Ledger, config: LLMConfig, run_started: dt.datetime, reflect_every: int
    ) -> None:
        self.ledger = ledger
        self.budget = LLMBudget.from_config(ledger, config, run_started)
        self.client = LLMClient(config, ledger, self.budget)
        self.keepers = {
            agent: PlaybookKeeper(
                ledger, agent, self.client, default_text=text, batch_size=reflect_every
            )
            for agent, text in DEFAULT_PLAYBOOKS.items()
        }
        self.brainstormer = LLMBrainstormer(
            self.client, self.keepers[BRAINSTORMER].current_text(), documents=self.knowledge
        )

    def knowledge(self) -> list[str]:
        """What finished experiments taught (their knowledge assets), for retrieval."""
        return [asset.text for asset in self.ledger.knowledge_assets(kind=ASSET_KIND)]

    def choose(self, context: BrainstormContext, notify: Notify) -> Choice | None:
        """The brainstormer's proposal, with its playbook in force; None (said) when the model
        is unreachable or nothing it proposed passed the harness. Raises `BudgetExhausted`."""
        self.brainstormer.playbook = self.keepers[BRAINSTORMER].current_text()
        before = self.ledger.llm_usage(agent=BRAINSTORMER).calls
        try:
            ideas = self.brainstormer.propose(context, 1)
        except (LLMUnavailable, LLMBadOutput) as exc:
            notify(f"LLM unavailable: {exc}; the catalogue proposes")
            return None
        skipped = self.brainstormer.skipped
        if not ideas:
            reasons = "; ".join(s.reason for s in skipped) or "no proposal"
            notify(f"the LLM proposed nothing usable ({reasons}); the catalogue proposes")
            return None
        return llm_choice(self.ledger, ideas[0], skipped, before)

    def recall(self, machine: Machine, learned: Sequence[str]) -> None:
        """Give the brainstormer the outcomes learned before this run: its memory is the
        prompt's recent outcomes, which a new process starts without."""
        keep = self.brainstormer.config.recent_outcomes
        for key in learned[-keep:] if keep else ():
            experiment = self.ledger.find_experiment(key)
            if experiment is None or not experiment.is_finished:
                continue
            info = closing(machine, experiment)
            if withdrawn(info) is None:
                outcome = outcome_of(machine, experiment, info)
                self.brainstormer.learn(machine.idea(experiment), outcome)

    def tag(self, *, proposed_by_llm: bool) -> dict[str, Any]:
        """The experiment payload naming the playbook versions it runs with: none for the
        catalogue's proposals (the catalogue develops them too: no LLM agent acts on them)."""
        agents = (BRAINSTORMER, DEVELOPER) if proposed_by_llm else ()
        return tag(self.keepers[a] for a in agents)

    def reflect(self, notify: Notify) -> list[BatchReport]:
        """Score and reflect on each agent's complete batch, saying what became of it; raises
        `BudgetExhausted`, also when the workers spent a run budget."""
        self.budget.check()
        reports = [r for k in self.keepers.values() if (r := k.after_batch()) is not None]
        for batch in reports:
            scored = batch.scored
            verdict = ""
            if scored is not None:
                kept = "accepted" if scored.accepted else "rolled back"
                verdict = f"v{scored.version} scored {scored.outcome_rate or 0.0:.0%} ({kept}); "
            made = f"trial v{batch.trial.version}" if batch.trial else f"no trial: {batch.failure}"
            notify(f"playbook {batch.agent}: {verdict}{made}")
        return reports

    def close(self) -> None:
        self.client.close()


class PlaybookDeveloper:
    """`LLMDeveloper` running, for each experiment, the playbook version it was tagged with;
    the catalogue's own proposals (its fallback when the model fails) go to the catalogue's
    developer, which applies their typed parameters exactly and costs no tokens."""

    def __init__(
        self, ledger: Ledger, developer: LLMDeveloper, catalogue: CatalogueDeveloper
    ) -> None:
        self.ledger = ledger
        self.developer = developer
        self.catalogue = catalogue

    def develop(self, proposal: Proposal, candidate: Candidate) -> DevelopResult:
        experiment = self.ledger.find_experiment(candidate.name)
        idea = None if experiment is None else self.ledger.get_proposal(experiment.proposal_id)
        if idea is not None and idea.source == CATALOGUE:
            return self.catalogue.develop(proposal, candidate)
        self.developer.playbook = tagged_playbook(self.ledger, candidate.name)
        return self.developer.develop(proposal, candidate)

    def close(self) -> None:
        self.developer.client.close()


def tagged_playbook(ledger: Ledger, key: str) -> str:
    """The developer's playbook text for the experiment `key` (named like its candidate): the
    version it was tagged with; the newest accepted one, or the default, when it has no tag."""
    versions = ledger.playbook_versions(DEVELOPER)
    experiment = ledger.find_experiment(key)
    wanted = None if experiment is None else ran_with(experiment, DEVELOPER)
    chosen = [v for v in versions if v.version == wanted] or [v for v in versions if v.accepted]
    return chosen[-1].text if chosen else DEVELOP_PLAYBOOK


def llm_developer(
    root: Path,
    manifest: Manifest,
    ledger: Ledger,
    config: LLMConfig,
    run_started: dt.datetime | None,
    data_root: Path | None,
) -> PlaybookDeveloper:
    """A worker's LLM developer: its own client on the run's shared budget."""
    client = LLMClient(config, ledger, LLMBudget.from_config(ledger, config, run_started))
    developer = LLMDeveloper(root, manifest, client, data_root=data_root)
    return PlaybookDeveloper(ledger, developer, CatalogueDeveloper(root, manifest))
