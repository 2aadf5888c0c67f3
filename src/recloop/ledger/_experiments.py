"""Proposals, experiments and their state transitions, candidates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from recloop.ledger._core import CandidateRef, ExperimentRef, LedgerCore, Payload, ref_id
from recloop.ledger.errors import ApprovalRequiredError, NotFoundError, StaleStateError
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import ApprovalRow, CandidateRow, ExperimentRow, ProposalRow
from recloop.ledger.records import AuditEntry, Candidate, Experiment, Proposal, from_row
from recloop.ledger.states import State, check_transition
from recloop.ledger.vocabulary import LEVELS, Level, check_word


class ExperimentsPart(LedgerCore):
    # -- proposals ---------------------------------------------------------------------------

    def add_proposal(
        self,
        key: str,
        *,
        family: str,
        title: str,
        level: Level,
        source: str,
        hypothesis: str = "",
        params: Payload = None,
        payload: Payload = None,
        actor: str | None = None,
    ) -> Proposal:
        """Record a proposal once per `key` (a later call returns the first one)."""
        check_word(LEVELS, level, "level")
        row = ProposalRow(
            key=key,
            family=family,
            title=title,
            hypothesis=hypothesis,
            level=level,
            source=source,
            params=to_json_object(params, "params"),
            payload=to_json_object(payload, "payload"),
            created_at=self._now(),
        )
        with self._write() as session:
            row, created = self._insert_or_get(
                session, row, select(ProposalRow).where(ProposalRow.key == key)
            )
            if created:
                session.flush()
                detail = {"key": key, "family": family, "level": level}
                self._audit(session, "proposal.add", f"proposal:{row.id}", detail, None, actor)
            return from_row(Proposal, row)

    def get_proposal(self, proposal_id: int) -> Proposal:
        with self._read() as session:
            return from_row(Proposal, self._get(session, ProposalRow, proposal_id, "proposal"))

    def proposals(self, *, family: str | None = None) -> list[Proposal]:
        query = select(ProposalRow).order_by(ProposalRow.id)
        if family is not None:
            query = query.where(ProposalRow.family == family)
        return self._select(Proposal, query)

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self,
        key: str,
        proposal: int | Proposal,
        *,
        base_commit: str | None = None,
        payload: Payload = None,
        actor: str | None = None,
    ) -> Experiment:
        """A new experiment in state `proposed`, once per `key`."""
        now = self._now()
        proposal_id = ref_id(proposal)
        row = ExperimentRow(
            key=key,
            proposal_id=proposal_id,
            state="proposed",
            state_version=0,
            base_commit=base_commit,
            payload=to_json_object(payload, "payload"),
            created_at=now,
            updated_at=now,
        )
        with self._write() as session:
            self._get(session, ProposalRow, proposal_id, "proposal")
            row, created = self._insert_or_get(
                session, row, select(ExperimentRow).where(ExperimentRow.key == key)
            )
            if created:
                session.flush()
                detail = {"key": key, "proposal_id": proposal_id, "state": "proposed"}
                self._audit(session, "experiment.create", _subject(row.id), detail, row.id, actor)
            return from_row(Experiment, row)

    def get_experiment(self, experiment: ExperimentRef) -> Experiment:
        with self._read() as session:
            return from_row(Experiment, self._experiment_row(session, experiment))

    def find_experiment(self, key: str) -> Experiment | None:
        found = self._select(Experiment, select(ExperimentRow).where(ExperimentRow.key == key))
        return found[0] if found else None

    def experiments(self, *, states: Iterable[State] | None = None) -> list[Experiment]:
        """Experiments, oldest first, optionally only those in `states`."""
        query = select(ExperimentRow).order_by(ExperimentRow.id)
        if states is not None:
            query = query.where(ExperimentRow.state.in_(list(states)))
        return self._select(Experiment, query)

    def transition(
        self,
        experiment: ExperimentRef,
        from_state: State,
        to_state: State,
        payload: Payload = None,
        *,
        require_approval: str | None = None,
        actor: str | None = None,
    ) -> Experiment:
        """Move the experiment `from_state → to_state` in one committed transaction.

        Refused before touching the database when the move is not in `TRANSITIONS`
        (`IllegalTransitionError`). Applied only if the experiment is still in `from_state`
        (compare-and-set: `StaleStateError` otherwise, and nothing is written), and only if
        `require_approval` names a gate whose approval is approved (`ApprovalRequiredError`).
        The audit entry (from, to, payload) is written in the same transaction.
        """
        check_transition(from_state, to_state)
        body = to_json_object(payload, "payload")
        experiment_id = ref_id(experiment)
        with self._write() as session:
            if require_approval is not None:
                _check_approved(session, experiment_id, require_approval)
            now = self._now()
            moved = session.execute(
                update(ExperimentRow)
                .where(ExperimentRow.id == experiment_id, ExperimentRow.state == from_state)
                .values(
                    state=to_state,
                    state_version=ExperimentRow.state_version + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], moved).rowcount != 1:
                actual = session.scalar(
                    select(ExperimentRow.state).where(ExperimentRow.id == experiment_id)
                )
                if actual is None:
                    raise NotFoundError("experiment", experiment_id)
                raise StaleStateError(experiment_id, from_state, actual)
            detail: dict[str, Any] = {"from": from_state, "to": to_state, "payload": body}
            if require_approval is not None:
                detail["gate"] = require_approval
            subject = _subject(experiment_id)
            self._audit(session, "experiment.transition", subject, detail, experiment_id, actor)
            row = session.scalars(
                select(ExperimentRow)
                .where(ExperimentRow.id == experiment_id)
                .execution_options(populate_existing=True)
            ).one()
            return from_row(Experiment, row)

    def history(self, experiment: ExperimentRef) -> list[AuditEntry]:
        """The experiment's transitions, in order (audit entries with from/to/payload)."""
        return self.audit_log(experiment=experiment, action="experiment.transition")

    # -- candidates --------------------------------------------------------------------------

    def add_candidate(
        self,
        experiment: ExperimentRef,
        name: str,
        *,
        branch: str,
        commit: str | None,
        diff: str,
        base_commit: str | None = None,
        payload: Payload = None,
        actor: str | None = None,
    ) -> Candidate:
        """Record a candidate once per (experiment, name); the first record wins."""
        experiment_id = ref_id(experiment)
        row = CandidateRow(
            experiment_id=experiment_id,
            name=name,
            branch=branch,
            commit=commit,
            base_commit=base_commit,
            diff=diff,
            payload=to_json_object(payload, "payload"),
            created_at=self._now(),
        )
        lookup = select(CandidateRow).where(
            CandidateRow.experiment_id == experiment_id, CandidateRow.name == name
        )
        with self._write() as session:
            self._experiment_row(session, experiment_id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"name": name, "branch": branch, "commit": commit}
                subject = f"candidate:{row.id}"
                self._audit(session, "candidate.add", subject, detail, experiment_id, actor)
            return from_row(Candidate, row)

    def get_candidate(self, candidate: CandidateRef) -> Candidate:
        with self._read() as session:
            row = self._get(session, CandidateRow, ref_id(candidate), "candidate")
            return from_row(Candidate, row)

    def candidates(self, experiment: ExperimentRef) -> list[Candidate]:
        query = (
            select(CandidateRow)
            .where(CandidateRow.experiment_id == ref_id(experiment))
            .order_by(CandidateRow.id)
        )
        return self._select(Candidate, query)


def _subject(experiment_id: int) -> str:
    return f"experiment:{experiment_id}"


def _check_approved(session: Session, experiment_id: int, gate: str) -> None:
    status = session.scalar(
        select(ApprovalRow.status).where(
            ApprovalRow.experiment_id == experiment_id, ApprovalRow.gate == gate
        )
    )
    if status != "approved":
        raise ApprovalRequiredError(experiment_id, gate, status)
