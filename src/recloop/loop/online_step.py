"""The online step: one A/B test of an approved candidate, recorded once, then the decision.

The test is recorded as started before it runs and ended with its result; the decision is
recorded before the transition. A crash mid-test runs the (seeded) test again on resume; a
crash after the decision was recorded only makes the transition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recloop.ledger import Experiment, MetricValue
from recloop.loop.online import OnlineRequest, OnlineResult

if TYPE_CHECKING:
    from recloop.loop.machine import Machine


def run_online(machine: Machine, experiment: Experiment) -> Experiment:
    decision = machine.ledger.get_decision(experiment)
    if decision is None:
        candidate = machine.candidate(experiment)
        assert candidate is not None
        if machine.evaluator is None:
            return machine.close(
                experiment, "online", "online-unavailable", "no online evaluator is configured"
            )
        settings = machine.manifest.online
        test = machine.ledger.start_online_test(
            experiment,
            candidate,
            tables_location="memory",
            payload={"settings": settings.model_dump(mode="json")},
        )
        try:
            result = machine.evaluator.evaluate(_request(machine, experiment))
        except Exception as exc:  # the test could not run: an error, not the candidate's fault
            machine.ledger.end_online_test(
                test, status="failed", decision_payload={"error": repr(exc)}
            )
            return machine.close(
                experiment,
                "online",
                "online-error",
                f"the online test could not run: {exc!r}",
                verdict="error",
            )
        _record(machine, experiment, candidate, result)
        payload = _payload(result)
        machine.ledger.end_online_test(test, status="completed", decision_payload=payload)
        decision = machine.ledger.record_decision(
            experiment,
            outcome=result.decision,
            rule_outcome=payload,
            decided_by="evaluation-agent",
            explanation=_sentence(result),
            candidate=candidate,
            online_test=test,
        )
    return machine.move(experiment, "decided", {"outcome": decision.outcome})


def _request(machine: Machine, experiment: Experiment) -> OnlineRequest:
    context = machine.context()
    idea = machine.idea(experiment)
    worktree = context.worktree(experiment.key)
    if worktree is None:
        raise RuntimeError(f"the candidate {experiment.key} has no worktree")
    return OnlineRequest(
        experiment=experiment.key,
        champion=context.champion_checkout(),
        candidate=worktree,
        manifest=context.manifest,
        settings=context.manifest.online,
        change_summary=f"{idea.family}: {idea.hypothesis}",
        hidden_paths=tuple(context.hidden_paths),
        data_root=machine.data_root,
    )


def _record(
    machine: Machine, experiment: Experiment, candidate: object, result: OnlineResult
) -> None:
    values: dict[str, float | MetricValue] = {k: float(v) for k, v in result.metrics.items()}
    if result.primary_lift is not None and result.primary_metric:
        values[f"{result.primary_metric}:lift"] = float(result.primary_lift)
    if values:
        machine.ledger.record_metrics(experiment, candidate, "online", values)  # type: ignore[arg-type]


def _payload(result: OnlineResult) -> dict[str, object]:
    return {
        "decision": result.decision,
        "primary_metric": result.primary_metric,
        "primary_lift": result.primary_lift,
        "report": result.report,
        "details": result.details,
    }


def _sentence(result: OnlineResult) -> str:
    """'online test: DECISION (LIFT METRIC; REASON stop on day D of H)', what is known of it."""
    parts = []
    if result.primary_lift is not None:
        parts.append(f"{result.primary_lift:+.2%} {result.primary_metric}")
    reason, day, horizon = (result.details.get(k) for k in ("stop_reason", "stop_day",
                                                              "horizon_days"))  # fmt: skip
    if isinstance(reason, str) and isinstance(day, int) and isinstance(horizon, int):
        parts.append(f"{reason.replace('_', ' ')} stop on day {day} of {horizon}")
    return f"online test: {result.decision}" + (f" ({'; '.join(parts)})" if parts else "")
