"""Approvals: the loop asks at a gate, a person (or the policy) answers once."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from recloop.ledger._core import ExperimentRef, LedgerCore, ref_id
from recloop.ledger.errors import ConflictError, NotFoundError
from recloop.ledger.models import ApprovalRow
from recloop.ledger.records import Approval, from_row
from recloop.ledger.vocabulary import APPROVAL_STATUSES, LEVELS, ApprovalStatus, Level, check_word


class ApprovalsPart(LedgerCore):
    def request_approval(
        self,
        experiment: ExperimentRef,
        gate: str,
        *,
        required_level: Level,
        actor: str | None = None,
    ) -> Approval:
        """Ask for an approval at `gate` (`pending`), once per (experiment, gate)."""
        check_word(LEVELS, required_level, "required_level")
        experiment_id = ref_id(experiment)
        row = ApprovalRow(
            experiment_id=experiment_id,
            gate=gate,
            required_level=required_level,
            status="pending",
            requested_by=self._actor(actor),
            requested_at=self._now(),
            decided_by=None,
            note="",
            decided_at=None,
        )
        with self._write() as session:
            self._experiment_row(session, experiment_id)
            row, created = self._insert_or_get(session, row, _lookup(experiment_id, gate))
            if created:
                session.flush()
                detail = {"gate": gate, "required_level": required_level}
                subject = f"approval:{row.id}"
                self._audit(session, "approval.request", subject, detail, experiment_id, actor)
            return from_row(Approval, row)

    def approve(self, experiment: ExperimentRef, gate: str, *, by: str, note: str = "") -> Approval:
        """`by` approves the pending approval at `gate`."""
        return self.decide_approval(experiment, gate, approved=True, by=by, note=note)

    def reject(self, experiment: ExperimentRef, gate: str, *, by: str, note: str) -> Approval:
        """`by` rejects the pending approval at `gate`, saying why in `note`."""
        return self.decide_approval(experiment, gate, approved=False, by=by, note=note)

    def decide_approval(
        self, experiment: ExperimentRef, gate: str, *, approved: bool, by: str, note: str = ""
    ) -> Approval:
        """Answer a pending approval once (compare-and-set from `pending`).

        Answering again the same way returns the recorded answer; the other way is a
        `ConflictError`. There must be a request (`NotFoundError`): nobody approves what the
        loop did not ask for.
        """
        experiment_id = ref_id(experiment)
        status: ApprovalStatus = "approved" if approved else "rejected"
        with self._write() as session:
            decided = session.execute(
                update(ApprovalRow)
                .where(
                    ApprovalRow.experiment_id == experiment_id,
                    ApprovalRow.gate == gate,
                    ApprovalRow.status == "pending",
                )
                .values(status=status, decided_by=by, note=note, decided_at=self._now())
                .execution_options(synchronize_session=False)
            )
            row = session.scalars(
                _lookup(experiment_id, gate).execution_options(populate_existing=True)
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"approval request at gate {gate!r}", experiment_id)
            if cast(CursorResult[Any], decided).rowcount != 1:
                if row.status != status:
                    raise ConflictError(
                        f"the approval of experiment {experiment_id} at {gate!r} was already "
                        f"{row.status} by {row.decided_by}"
                    )
                return from_row(Approval, row)
            detail = {"gate": gate, "status": status, "note": note}
            subject = f"approval:{row.id}"
            self._audit(session, f"approval.{status}", subject, detail, experiment_id, by)
            return from_row(Approval, row)

    def get_approval(self, experiment: ExperimentRef, gate: str) -> Approval | None:
        found = self._select(Approval, _lookup(ref_id(experiment), gate))
        return found[0] if found else None

    def approvals(
        self, *, status: ApprovalStatus | None = None, experiment: ExperimentRef | None = None
    ) -> list[Approval]:
        """Approvals, oldest request first (`status="pending"`: what waits for a person)."""
        query = select(ApprovalRow).order_by(ApprovalRow.id)
        if status is not None:
            check_word(APPROVAL_STATUSES, status, "status")
            query = query.where(ApprovalRow.status == status)
        if experiment is not None:
            query = query.where(ApprovalRow.experiment_id == ref_id(experiment))
        return self._select(Approval, query)


def _lookup(experiment_id: int, gate: str) -> Any:
    return select(ApprovalRow).where(
        ApprovalRow.experiment_id == experiment_id, ApprovalRow.gate == gate
    )
