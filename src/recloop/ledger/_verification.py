"""What the cascade and the online test find: stage runs, metrics, online tests, decisions."""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import select

from recloop.ledger._core import CandidateRef, ExperimentRef, LedgerCore, Payload, ref_id
from recloop.ledger.errors import ConflictError
from recloop.ledger.jsonable import to_json_object
from recloop.ledger.models import DecisionRow, MetricRow, OnlineTestRow, StageRunRow
from recloop.ledger.records import (
    Decision,
    Metric,
    MetricValue,
    OnlineTest,
    StageRun,
    from_row,
)
from recloop.ledger.vocabulary import (
    METRIC_KINDS,
    ONLINE_TEST_STATUSES,
    OUTCOMES,
    VERDICTS,
    MetricKind,
    OnlineTestStatus,
    Outcome,
    Verdict,
    check_word,
)


class VerificationPart(LedgerCore):
    # -- stage runs --------------------------------------------------------------------------

    def record_stage_run(
        self,
        experiment: ExperimentRef,
        candidate: CandidateRef,
        stage: str,
        *,
        verdict: Verdict,
        sentence: str,
        wall_seconds: float,
        cpu_seconds: float,
        cause: str | None = None,
        evidence: Payload = None,
        attempt: int = 1,
        actor: str | None = None,
    ) -> StageRun:
        """Record a stage's verdict once per (experiment, candidate, stage, attempt).

        Idempotent: when that key is already recorded, the recorded run is returned unchanged
        (the first write wins; a resumed worker reads what its first life wrote).
        """
        check_word(VERDICTS, verdict, "verdict")
        _check_seconds(wall_seconds, "wall_seconds")
        _check_seconds(cpu_seconds, "cpu_seconds")
        experiment_id, candidate_id = ref_id(experiment), ref_id(candidate)
        row = StageRunRow(
            experiment_id=experiment_id,
            candidate_id=candidate_id,
            stage=stage,
            attempt=attempt,
            verdict=verdict,
            cause=cause,
            sentence=sentence,
            evidence=to_json_object(evidence, "evidence"),
            wall_seconds=float(wall_seconds),
            cpu_seconds=float(cpu_seconds),
            created_at=self._now(),
        )
        lookup = select(StageRunRow).where(
            StageRunRow.experiment_id == experiment_id,
            StageRunRow.candidate_id == candidate_id,
            StageRunRow.stage == stage,
            StageRunRow.attempt == attempt,
        )
        with self._write() as session:
            self._candidate_of(session, experiment_id, candidate_id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"stage": stage, "attempt": attempt, "verdict": verdict, "cause": cause}
                subject = f"stage_run:{row.id}"
                self._audit(session, "stage_run.record", subject, detail, experiment_id, actor)
            return from_row(StageRun, row)

    def stage_runs(
        self, experiment: ExperimentRef, *, candidate: CandidateRef | None = None
    ) -> list[StageRun]:
        """An experiment's stage runs in the order they were recorded."""
        query = select(StageRunRow).where(StageRunRow.experiment_id == ref_id(experiment))
        if candidate is not None:
            query = query.where(StageRunRow.candidate_id == ref_id(candidate))
        return self._select(StageRun, query.order_by(StageRunRow.id))

    # -- metrics -----------------------------------------------------------------------------

    def record_metrics(
        self,
        experiment: ExperimentRef,
        candidate: CandidateRef,
        kind: MetricKind,
        values: Mapping[str, float | MetricValue],
        *,
        attempt: int = 1,
        actor: str | None = None,
    ) -> list[Metric]:
        """Record metrics by name, once per (candidate, kind, name, attempt), in one transaction.

        A NaN value is refused (`ValueError`); a NaN interval bound is stored as unknown (None).
        """
        check_word(METRIC_KINDS, kind, "kind")
        experiment_id, candidate_id = ref_id(experiment), ref_id(candidate)
        rows = [
            _metric_row(experiment_id, candidate_id, kind, name, value, attempt)
            for name, value in values.items()
        ]
        recorded: list[Metric] = []
        with self._write() as session:
            self._candidate_of(session, experiment_id, candidate_id)
            now = self._now()
            new: list[str] = []
            for row in rows:
                row.created_at = now
                lookup = select(MetricRow).where(
                    MetricRow.candidate_id == candidate_id,
                    MetricRow.kind == kind,
                    MetricRow.name == row.name,
                    MetricRow.attempt == attempt,
                )
                row, created = self._insert_or_get(session, row, lookup)
                if created:
                    new.append(row.name)
                recorded.append(from_row(Metric, row))
            if new:
                detail = {"candidate_id": candidate_id, "kind": kind, "names": new}
                subject = f"candidate:{candidate_id}"
                self._audit(session, "metrics.record", subject, detail, experiment_id, actor)
        return recorded

    def metrics(
        self,
        experiment: ExperimentRef,
        *,
        candidate: CandidateRef | None = None,
        kind: MetricKind | None = None,
    ) -> list[Metric]:
        query = select(MetricRow).where(MetricRow.experiment_id == ref_id(experiment))
        if candidate is not None:
            query = query.where(MetricRow.candidate_id == ref_id(candidate))
        if kind is not None:
            query = query.where(MetricRow.kind == kind)
        return self._select(Metric, query.order_by(MetricRow.id))

    # -- online tests ------------------------------------------------------------------------

    def start_online_test(
        self,
        experiment: ExperimentRef,
        candidate: CandidateRef,
        *,
        tables_location: str,
        payload: Payload = None,
        attempt: int = 1,
        actor: str | None = None,
    ) -> OnlineTest:
        """Record a running online test once per (candidate, attempt)."""
        experiment_id, candidate_id = ref_id(experiment), ref_id(candidate)
        row = OnlineTestRow(
            experiment_id=experiment_id,
            candidate_id=candidate_id,
            attempt=attempt,
            tables_location=tables_location,
            status="running",
            payload=to_json_object(payload, "payload"),
            decision_payload={},
            started_at=self._now(),
            ended_at=None,
        )
        lookup = select(OnlineTestRow).where(
            OnlineTestRow.candidate_id == candidate_id, OnlineTestRow.attempt == attempt
        )
        with self._write() as session:
            self._candidate_of(session, experiment_id, candidate_id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"candidate_id": candidate_id, "tables_location": tables_location}
                subject = f"online_test:{row.id}"
                self._audit(session, "online_test.start", subject, detail, experiment_id, actor)
            return from_row(OnlineTest, row)

    def end_online_test(
        self,
        online_test: int | OnlineTest,
        *,
        status: OnlineTestStatus,
        decision_payload: Payload = None,
        actor: str | None = None,
    ) -> OnlineTest:
        """Close a running test with its final status and decision payload.

        Ending it again with the same status returns it unchanged; another status is a
        `ConflictError` (a test ends once).
        """
        check_word(ONLINE_TEST_STATUSES, status, "status")
        if status == "running":
            raise ValueError("an online test ends as completed, stopped or failed")
        body = to_json_object(decision_payload, "decision_payload")
        with self._write() as session:
            row = self._get(session, OnlineTestRow, ref_id(online_test), "online test")
            if row.status != "running":
                if row.status != status:
                    raise ConflictError(f"online test {row.id} already ended as {row.status}")
                return from_row(OnlineTest, row)
            row.status, row.decision_payload, row.ended_at = status, body, self._now()
            detail = {"status": status, "decision_payload": body}
            subject = f"online_test:{row.id}"
            self._audit(session, "online_test.end", subject, detail, row.experiment_id, actor)
            return from_row(OnlineTest, row)

    def online_tests(self, experiment: ExperimentRef) -> list[OnlineTest]:
        query = select(OnlineTestRow).where(OnlineTestRow.experiment_id == ref_id(experiment))
        return self._select(OnlineTest, query.order_by(OnlineTestRow.id))

    # -- decisions ---------------------------------------------------------------------------

    def record_decision(
        self,
        experiment: ExperimentRef,
        *,
        outcome: Outcome,
        rule_outcome: Payload,
        decided_by: str,
        explanation: str = "",
        candidate: CandidateRef | None = None,
        online_test: int | OnlineTest | None = None,
        actor: str | None = None,
    ) -> Decision:
        """Record the experiment's decision (one per experiment; the first one stands)."""
        check_word(OUTCOMES, outcome, "outcome")
        experiment_id = ref_id(experiment)
        row = DecisionRow(
            experiment_id=experiment_id,
            candidate_id=None if candidate is None else ref_id(candidate),
            online_test_id=None if online_test is None else ref_id(online_test),
            outcome=outcome,
            rule_outcome=to_json_object(rule_outcome, "rule_outcome"),
            decided_by=decided_by,
            explanation=explanation,
            created_at=self._now(),
        )
        lookup = select(DecisionRow).where(DecisionRow.experiment_id == experiment_id)
        with self._write() as session:
            self._experiment_row(session, experiment_id)
            if row.candidate_id is not None:
                self._candidate_of(session, experiment_id, row.candidate_id)
            row, created = self._insert_or_get(session, row, lookup)
            if created:
                session.flush()
                detail = {"outcome": outcome, "decided_by": decided_by}
                subject = f"decision:{row.id}"
                self._audit(session, "decision.record", subject, detail, experiment_id, actor)
            return from_row(Decision, row)

    def get_decision(self, experiment: ExperimentRef) -> Decision | None:
        query = select(DecisionRow).where(DecisionRow.experiment_id == ref_id(experiment))
        found = self._select(Decision, query)
        return found[0] if found else None


def _check_seconds(value: float, what: str) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a finite number of seconds ≥ 0, got {value!r}")


def _metric_row(
    experiment_id: int,
    candidate_id: int,
    kind: str,
    name: str,
    value: float | MetricValue,
    attempt: int,
) -> MetricRow:
    metric = value if isinstance(value, MetricValue) else MetricValue(float(value))
    if math.isnan(metric.value):
        raise ValueError(f"metric {name!r} is NaN: record a number or leave the metric out")
    return MetricRow(
        experiment_id=experiment_id,
        candidate_id=candidate_id,
        kind=kind,
        name=name,
        attempt=attempt,
        value=float(metric.value),
        ci_low=_bound(metric.ci_low),
        ci_high=_bound(metric.ci_high),
        payload=to_json_object(metric.payload, f"metrics.{name}.payload"),
    )


def _bound(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
