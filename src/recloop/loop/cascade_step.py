"""The cascade steps: one verification stage of a developed candidate, recorded once.

A stage run is recorded before the transition; a repeated step (a crash after the work) reads
the recorded run instead of running the stage again. The offline stage also records its
metrics. A failed stage closes the experiment with the stage's cause and sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from recloop.cascade import Submission, Verdict, run_stage
from recloop.cascade.runner import default_stages
from recloop.cascade.verdict import Evidence
from recloop.ledger import Candidate, Experiment, MetricValue, State

if TYPE_CHECKING:
    from recloop.loop.machine import Machine


def run_cascade_stage(machine: Machine, experiment: Experiment, stage: State) -> Experiment:
    candidate = machine.candidate(experiment)
    assert candidate is not None, "a developed experiment has its candidate"
    verdict = _recorded_verdict(machine, experiment, candidate, stage)
    if verdict is None:
        verdict = _run_stage(machine, experiment, candidate, stage)
    if verdict.outcome == "pass":
        payload: dict[str, Any] = {"cause": verdict.cause}
        if stage == "structural":
            payload["commit"] = verdict.evidence.details.get("commit")
        return machine.move(experiment, stage, payload)
    if stage != "offline":
        machine.remove_worktree(experiment.key)
    return machine.close(
        experiment, stage, verdict.cause, verdict.sentence, verdict=verdict.outcome
    )


def _recorded_verdict(
    machine: Machine, experiment: Experiment, candidate: Candidate, stage: str
) -> Verdict | None:
    for run in machine.ledger.stage_runs(experiment, candidate=candidate):
        if run.stage == stage:
            outcome = "pass" if run.verdict == "pass" else run.verdict
            return Verdict(
                stage=cast(Any, stage),
                outcome=cast(Any, outcome),
                cause=run.cause or "passed",
                sentence=run.sentence,
                evidence=Evidence.model_validate(run.evidence),
            )
    return None


def _run_stage(
    machine: Machine, experiment: Experiment, candidate: Candidate, stage: str
) -> Verdict:
    idea = machine.idea(experiment)
    submission = Submission(
        name=experiment.key,
        patch=candidate.diff,
        proposal_family=idea.family,
        proposal_params=dict(idea.parameters),
    )
    if stage == "structural":
        machine.remove_worktree(experiment.key)  # the developer's; structural makes its own
    chosen = next(s for s in default_stages() if s.name == stage)
    verdict = run_stage(chosen, submission, machine.context())
    machine.ledger.record_stage_run(
        experiment,
        candidate,
        stage,
        verdict=verdict.outcome,
        sentence=verdict.sentence,
        cause=verdict.cause,
        evidence=verdict.evidence.model_dump(mode="json"),
        wall_seconds=verdict.cost.wall_seconds,
        cpu_seconds=verdict.cost.cpu_seconds,
    )
    if stage == "offline" and verdict.evidence.metrics:
        values = {
            row.metric: MetricValue(
                row.candidate,
                payload={
                    "champion": row.champion,
                    "difference": row.difference,
                    "role": row.role,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "status": row.status,
                },
            )
            for row in verdict.evidence.metrics
        }
        machine.ledger.record_metrics(experiment, candidate, "offline", values)
    return verdict
