"""Versioned playbooks with accept/rollback: harness evolution for the LLM agents.

Each LLM agent (`llm-brainstormer`, `llm-developer`) has a playbook — text guidance included
in its prompts — kept as numbered versions in the ledger. `PlaybookKeeper` runs the cycle:

1. Version 1 is the agent's default text, accepted by construction (the ledger scores a
   version once, so v1's score — its rate over its first batch — is written when that batch
   is measured; until then `Ledger.current_playbook` has none and v1 is in force).
2. Every new experiment records the version it runs with in its payload (`tag`, under
   `"playbooks"`): the newest version while it is unscored (the trial), otherwise the current
   one (the newest accepted).
3. A version's batch is the first B experiments, in ledger order, that ran with it, that the
   agent acted on, and that no earlier reflection used; it is complete once each has an
   outcome (an earlier experiment without one holds the batch back, so the batch is always
   the same experiments).
4. A complete batch of an unscored version scores it (`Ledger.score_playbook_version`): the
   root is accepted; a trial is accepted if its outcome rate is not below its parent's
   recorded rate, otherwise rejected — rolled back, the parent stays current. Then the
   reflection (`reflect`) edits the current version with the batch's trajectories and the
   edit is added as the next trial (its payload holds the batch, the rationale and the
   version the batch ran with).

Outcome rate, fixed before any batch is seen: the share of the batch's experiments that passed
the offline stage (entered the state `offline`: structural, semantic, local and offline all
passed). An experiment has an outcome once it passed offline or finished; no gate parks an
experiment before offline, so none waits for a person. The developer does not act on
experiments the forbidden-direction check closed: they do not count for it; nor does any
experiment closed for a cause that is not the idea's (`agents.outcome.NOT_THE_IDEAS_FAULT`: a
spent budget, an unusable LLM, a harness error), for either agent. No significance
test: B is small, and the rule and B are what is pre-registered. Rates are computed here from
the ledger's facts, never by the model.

Everything is read from the ledger, so any process and a run started again after a crash
continue the same cycle; call `after_batch` from one process (the loop's main one). A
reflection that succeeded is its new version (naming its batch); one that failed — a reply
that never validated, an unreachable endpoint, an edit repeating a known text — is an audit
entry `playbook.reflect-failed` naming its batch, and the current version runs the next batch.
A crash between scoring and reflecting reflects on the same batch when started again, without
scoring twice. `BudgetExhausted` propagates and writes nothing, so the loop stops cleanly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recloop.agents.llm.client import LLMClient
from recloop.agents.llm.errors import BudgetExhausted, LLMError
from recloop.agents.llm.reflect import Trajectory, read_trajectory, reflect
from recloop.agents.outcome import NOT_THE_IDEAS_FAULT
from recloop.ledger import Experiment, Ledger, PlaybookVersion

BRAINSTORMER = "llm-brainstormer"
DEVELOPER = "llm-developer"
PLAYBOOKS = "playbooks"  # the experiment payload key: {agent: playbook version it ran with}
REFLECT_FAILED = "playbook.reflect-failed"
DEFAULT_BATCH_SIZE = 5
_ACTS_FROM = {DEVELOPER: "forbidden_check"}  # the state an agent needs reached to have acted


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What one complete batch did: the version it scored, the trial reflection made."""

    agent: str
    batch_version: int  # the version the batch ran with
    batch: tuple[str, ...]  # its experiments' keys
    scored: PlaybookVersion | None  # the version scored now (None when it already was)
    trial: PlaybookVersion | None  # the new trial version (None when reflection failed)
    failure: str | None  # why no trial was made


def ran_with(experiment: Experiment, agent: str) -> int | None:
    """The version of `agent`'s playbook the experiment ran with, as its payload records."""
    versions = experiment.payload.get(PLAYBOOKS)
    version = versions.get(agent) if isinstance(versions, dict) else None
    return version if isinstance(version, int) else None


def tag(keepers: Iterable[PlaybookKeeper]) -> dict[str, Any]:
    """The payload entry recording, for a new experiment, each agent's version in force."""
    return {PLAYBOOKS: {k.agent: k.version_for_new_experiment() for k in keepers}}


class PlaybookKeeper:
    """One agent's playbook versions: which is in force, and the accept/rollback cycle."""

    def __init__(
        self,
        ledger: Ledger,
        agent: str,
        client: LLMClient,
        *,
        default_text: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be ≥ 1")
        self.ledger = ledger
        self.agent = agent
        self.client = client
        self.default_text = default_text
        self.batch_size = batch_size

    # -- what runs now -----------------------------------------------------------------------

    def versions(self) -> list[PlaybookVersion]:
        """Every version, oldest first; version 1 (the default text) is made on first use."""
        found = self.ledger.playbook_versions(self.agent)
        if found:
            return found
        self.ledger.add_playbook_version(self.agent, self.default_text, payload={"default": True})
        return self.ledger.playbook_versions(self.agent)

    def in_force(self) -> PlaybookVersion:
        """The version new experiments run with: the trial while one is open, else the
        current (newest accepted) version."""
        found = version_in_force(self.versions())
        assert found is not None, "versions() makes version 1"
        return found

    def current_text(self) -> str:
        return self.in_force().text

    def version_for_new_experiment(self) -> int:
        return self.in_force().version

    def playbook_for(self, experiment: Experiment) -> PlaybookVersion:
        """The version the experiment ran with (the one in force when it records none)."""
        version = ran_with(experiment, self.agent)
        for candidate in self.versions():
            if candidate.version == version:
                return candidate
        return self.in_force()

    # -- the cycle ---------------------------------------------------------------------------

    def after_batch(self) -> BatchReport | None:
        """Score and reflect when a batch is complete (module docstring); None otherwise.
        Idempotent: a batch is scored and reflected on once."""
        pending = self._pending()
        if pending is None:
            return None
        subject, batch = pending
        scored = self._score(subject, batch) if subject.accepted is None else None
        return self._reflect(subject.version, batch, scored)

    def _pending(self) -> tuple[PlaybookVersion, list[Trajectory]] | None:
        """The version whose batch is due, with the batch: the newest version's first batch
        until a reflection used it, then the current version's next unused batch."""
        versions = self.versions()
        newest = versions[-1]
        first = self._batch(newest.version, frozenset())
        used = self._used(versions)
        if newest.accepted is None or (first is not None and not _keys(first) <= used):
            return None if first is None else (newest, first)
        current = _current(versions)
        batch = self._batch(current.version, used)
        return None if batch is None else (current, batch)

    def _batch(self, version: int, used: frozenset[str]) -> list[Trajectory] | None:
        """The first `batch_size` unused experiments that ran with `version` and that the
        agent acted on, once every one up to the last has an outcome; None before."""
        batch: list[Trajectory] = []
        for experiment in self.ledger.experiments():
            if ran_with(experiment, self.agent) != version or experiment.key in used:
                continue
            trajectory = read_trajectory(self.ledger, experiment)
            if not trajectory.settled:
                return None
            if self._acted(trajectory):
                batch.append(trajectory)
                if len(batch) == self.batch_size:
                    return batch
        return None

    def _acted(self, trajectory: Trajectory) -> bool:
        if trajectory.cause in NOT_THE_IDEAS_FAULT:
            return False
        needed = _ACTS_FROM.get(self.agent)
        return needed is None or needed in trajectory.reached

    def _used(self, versions: list[PlaybookVersion]) -> frozenset[str]:
        """Experiments an earlier reflection used: successful ones name them in their new
        version's payload, failed ones in their audit entry."""
        keys = {str(k) for v in versions for k in v.payload.get("batch", ())}
        for entry in self.ledger.audit_log(subject=_subject(self.agent), action=REFLECT_FAILED):
            keys.update(str(k) for k in entry.payload.get("batch", ()))
        return frozenset(keys)

    def _score(self, version: PlaybookVersion, batch: list[Trajectory]) -> PlaybookVersion:
        rate = sum(t.passed_offline for t in batch) / len(batch)
        accepted = True
        if version.parent_version is not None:
            parent = next(v for v in self.versions() if v.version == version.parent_version)
            accepted = rate >= (parent.outcome_rate or 0.0)
        return self.ledger.score_playbook_version(
            self.agent, version.version, outcome_rate=rate, n_outcomes=len(batch), accepted=accepted
        )

    def _reflect(
        self, batch_version: int, batch: list[Trajectory], scored: PlaybookVersion | None
    ) -> BatchReport:
        versions = self.versions()
        current = _current(versions)
        keys = tuple(t.key for t in batch)

        def report(trial: PlaybookVersion | None, failure: str | None) -> BatchReport:
            return BatchReport(self.agent, batch_version, keys, scored, trial, failure)

        try:
            edit = reflect(self.client, self.agent, current, versions, batch, batch_version)
        except BudgetExhausted:
            raise
        except LLMError as exc:
            return report(None, self._failed(batch_version, keys, f"no valid reflection: {exc}"))
        trial = self.ledger.add_playbook_version(
            self.agent,
            edit.text,
            parent_version=current.version,
            payload={
                "batch": list(keys),
                "batch_version": batch_version,
                "rationale": edit.rationale,
            },
        )
        if trial.accepted is not None:  # the text of a version already measured
            why = f"the edit repeats version {trial.version}"
            return report(None, self._failed(batch_version, keys, why))
        return report(trial, None)

    def _failed(self, batch_version: int, keys: tuple[str, ...], why: str) -> str:
        payload = {"agent": self.agent, "version": batch_version, "batch": list(keys), "why": why}
        self.ledger.append_audit(REFLECT_FAILED, _subject(self.agent), payload)
        return why


def version_in_force(versions: Sequence[PlaybookVersion]) -> PlaybookVersion | None:
    """The version new experiments run with: the trial (newest, unscored, with a parent) while
    one is measured, else the newest accepted, else the root (nothing scored yet); None when
    the agent has no version."""
    if not versions:
        return None
    newest = versions[-1]
    if newest.accepted is None and newest.parent_version is not None:
        return newest
    return _current(versions)


def _current(versions: Sequence[PlaybookVersion]) -> PlaybookVersion:
    """The newest accepted version; the root while nothing is scored yet."""
    accepted = [v for v in versions if v.accepted]
    return accepted[-1] if accepted else versions[0]


def _keys(batch: list[Trajectory]) -> frozenset[str]:
    return frozenset(t.key for t in batch)


def _subject(agent: str) -> str:
    return f"playbook:{agent}"
