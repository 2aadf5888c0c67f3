import math
from collections.abc import Callable

import pytest

from recloop.ledger import Candidate, ConflictError, Experiment, Ledger, MetricValue, NotFoundError

EVIDENCE = {
    "file": "movierec/model.py",
    "line": 12,
    "log_tail": ["Traceback (most recent call last):", "NameError: name 'np' is not defined"],
}


def _run(ledger: Ledger, experiment: Experiment, candidate: Candidate, **kw: object) -> object:
    fields: dict[str, object] = {
        "verdict": "reject",
        "cause": "undefined-name",
        "sentence": "movierec/model.py:12 uses np without importing it",
        "evidence": EVIDENCE,
        "wall_seconds": 0.8,
        "cpu_seconds": 0.6,
    }
    return ledger.record_stage_run(experiment, candidate, "structural", **{**fields, **kw})  # type: ignore[arg-type]


def test_a_stage_run_is_recorded_once_per_key(
    ledger: Ledger, experiment: Experiment, candidate: Candidate
) -> None:
    first = _run(ledger, experiment, candidate)
    again = _run(ledger, experiment, candidate, verdict="pass", cause=None, wall_seconds=9.0)
    assert again == first  # the resumed worker gets what its first life recorded
    retry = _run(ledger, experiment, candidate, attempt=2, verdict="pass", cause=None)
    assert retry.id != first.id and retry.passed  # type: ignore[attr-defined]
    runs = ledger.stage_runs(experiment)
    assert runs == [first, retry]
    assert runs[0].evidence == EVIDENCE
    assert (runs[0].stage, runs[0].attempt, runs[0].cause) == ("structural", 1, "undefined-name")
    assert ledger.stage_runs(experiment, candidate=candidate) == runs
    assert len(ledger.audit_log(action="stage_run.record")) == 2


def test_a_stage_run_is_checked_before_it_is_written(
    ledger: Ledger, experiment: Experiment, candidate: Candidate
) -> None:
    with pytest.raises(ValueError, match="verdict must be one of"):
        _run(ledger, experiment, candidate, verdict="fail")
    with pytest.raises(ValueError, match="wall_seconds"):
        _run(ledger, experiment, candidate, wall_seconds=math.nan)
    with pytest.raises(ValueError, match="cpu_seconds"):
        _run(ledger, experiment, candidate, cpu_seconds=-1.0)
    with pytest.raises(NotFoundError):
        _run(ledger, experiment, 999)  # type: ignore[arg-type]
    assert ledger.stage_runs(experiment) == []


def test_metrics_are_recorded_by_name_once(
    ledger: Ledger, experiment: Experiment, candidate: Candidate
) -> None:
    recorded = ledger.record_metrics(
        experiment,
        candidate,
        "offline",
        {
            "ndcg@10": MetricValue(0.3125, 0.301, 0.324, {"p_value": 0.003, "n_users": 925}),
            "coverage@10": 0.41,
            "latency_ms": MetricValue(12.0, math.nan, math.inf),
        },
    )
    assert [(m.name, m.value, m.ci_low, m.ci_high) for m in recorded] == [
        ("ndcg@10", 0.3125, 0.301, 0.324),
        ("coverage@10", 0.41, None, None),
        ("latency_ms", 12.0, None, math.inf),
    ]
    assert recorded[0].payload == {"p_value": 0.003, "n_users": 925}
    again = ledger.record_metrics(experiment, candidate, "offline", {"ndcg@10": 0.9, "mrr@10": 0.2})
    assert again[0] == recorded[0]
    assert [m.name for m in ledger.metrics(experiment, kind="offline")] == [
        "ndcg@10",
        "coverage@10",
        "latency_ms",
        "mrr@10",
    ]
    assert ledger.metrics(experiment, candidate=candidate, kind="online") == []
    assert [e.payload["names"] for e in ledger.audit_log(action="metrics.record")] == [
        ["ndcg@10", "coverage@10", "latency_ms"],
        ["mrr@10"],
    ]


def test_a_nan_metric_is_refused(
    ledger: Ledger, experiment: Experiment, candidate: Candidate
) -> None:
    with pytest.raises(ValueError, match="'ndcg@10' is NaN"):
        ledger.record_metrics(experiment, candidate, "online", {"ndcg@10": math.nan})
    with pytest.raises(ValueError, match="kind must be one of"):
        ledger.record_metrics(experiment, candidate, "shadow", {"x": 1.0})  # type: ignore[arg-type]


def test_an_online_test_runs_then_ends_once(
    ledger: Ledger, experiment: Experiment, candidate: Candidate, clock: object
) -> None:
    started = ledger.start_online_test(
        experiment, candidate, tables_location="sim://run-3/tables", payload={"ramp": [1, 5, 10]}
    )
    assert started.status == "running" and started.ended_at is None
    assert ledger.start_online_test(experiment, candidate, tables_location="elsewhere") == started
    decision = {"verdict": "ship", "effects": {"ctr": {"lift": 0.012, "ci": [0.004, 0.02]}}}
    ended = ledger.end_online_test(started, status="stopped", decision_payload=decision)
    assert (ended.status, ended.decision_payload) == ("stopped", decision)
    assert ended.ended_at is not None
    assert ledger.end_online_test(started.id, status="stopped") == ended
    with pytest.raises(ConflictError, match="already ended as stopped"):
        ledger.end_online_test(started, status="completed")
    with pytest.raises(ValueError, match="ends as"):
        ledger.end_online_test(started, status="running")
    assert ledger.online_tests(experiment) == [ended]


def test_a_decision_is_recorded_once_per_experiment(
    ledger: Ledger,
    experiment: Experiment,
    candidate: Candidate,
    make_experiment: Callable[..., Experiment],
) -> None:
    test = ledger.start_online_test(experiment, candidate, tables_location="sim://t")
    rule = {"reasons": ["success_improved"], "guardrails": {"coverage@10": "non_inferior"}}
    decision = ledger.record_decision(
        experiment,
        outcome="ship",
        rule_outcome=rule,
        decided_by="agent:evaluate",
        explanation="CTR up 1.2% (CI 0.4–2.0%), every guardrail non-inferior",
        candidate=candidate,
        online_test=test,
    )
    assert (decision.outcome, decision.rule_outcome, decision.online_test_id) == (
        "ship",
        rule,
        test.id,
    )
    repeat = ledger.record_decision(
        experiment, outcome="no_ship", rule_outcome={}, decided_by="agent:evaluate"
    )
    assert repeat == decision
    assert ledger.get_decision(experiment) == decision
    assert ledger.get_decision(make_experiment(ledger, "e-2")) is None
    with pytest.raises(ValueError, match="outcome must be one of"):
        ledger.record_decision(experiment, outcome="maybe", rule_outcome={}, decided_by="x")  # type: ignore[arg-type]
