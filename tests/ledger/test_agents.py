import pytest

from recloop.ledger import ConflictError, Experiment, Ledger, LLMUsage, NotFoundError
from recloop.ledger.redact import MASK

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz"


def _call(ledger: Ledger, **kw: object) -> object:
    fields: dict[str, object] = {
        "agent": "develop",
        "model": "qwen2.5-coder-7b",
        "prompt": f"Authorization: Bearer {KEY}\nEdit movierec/model.py",
        "response": "--- a/movierec/model.py\n+++ b/movierec/model.py",
        "tokens_in": 1200,
        "tokens_out": 300,
        "cost_usd": 0.0021,
        "latency_seconds": 1.8,
    }
    return ledger.record_llm_call(**{**fields, **kw})  # type: ignore[arg-type]


def test_llm_calls_are_kept_redacted(ledger: Ledger, experiment: Experiment) -> None:
    call = _call(
        ledger,
        experiment=experiment,
        secrets=["team-secret-42"],
        response="ok team-secret-42",
        error="401 for team-secret-42",
    )
    stored = ledger.llm_calls(experiment=experiment)[0]
    assert stored == call
    assert KEY not in stored.prompt and MASK in stored.prompt
    assert stored.response == f"ok {MASK}" and stored.error == f"401 for {MASK}"
    assert "Edit movierec/model.py" in stored.prompt


def test_one_call_is_read_by_its_id(ledger: Ledger) -> None:
    _call(ledger)
    second = _call(ledger, agent="brainstorm")
    assert ledger.get_llm_call(second.id) == second  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError):
        ledger.get_llm_call(second.id + 1)  # type: ignore[attr-defined]


def test_usage_sums_by_experiment_and_agent(ledger: Ledger, experiment: Experiment) -> None:
    assert ledger.llm_usage() == LLMUsage(0, 0, 0, 0.0)
    _call(ledger, experiment=experiment)
    _call(ledger, experiment=experiment, agent="brainstorm", tokens_in=800, cost_usd=0.001)
    _call(ledger)
    assert ledger.llm_usage() == LLMUsage(3, 3200, 900, pytest.approx(0.0052))  # type: ignore[arg-type]
    assert ledger.llm_usage(experiment=experiment).calls == 2
    assert ledger.llm_usage(agent="brainstorm") == LLMUsage(1, 800, 300, 0.001)
    assert len(ledger.llm_calls(agent="develop")) == 2


def test_a_keyed_call_is_recorded_once(ledger: Ledger) -> None:
    first = _call(ledger, key="e-1/develop/attempt-1")
    assert _call(ledger, key="e-1/develop/attempt-1", cost_usd=9.0) == first
    _call(ledger)
    _call(ledger)  # unkeyed calls are always new rows
    assert ledger.llm_usage().calls == 3


def test_bad_accounting_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        _call(ledger, tokens_in=-1)
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        _call(ledger, cost_usd=float("nan"))
    with pytest.raises(NotFoundError):
        _call(ledger, experiment=77)


def test_playbook_versions_are_numbered_once_per_text(ledger: Ledger) -> None:
    v1 = ledger.add_playbook_version("develop", "Prefer small diffs.")
    v2 = ledger.add_playbook_version("develop", "Prefer small diffs. Run tests.", parent_version=1)
    assert (v1.version, v2.version, v2.parent_version) == (1, 2, 1)
    assert ledger.add_playbook_version("develop", "Prefer small diffs.") == v1
    assert ledger.add_playbook_version("brainstorm", "Prefer small diffs.").version == 1
    assert v1.accepted is None and ledger.current_playbook("develop") is None
    scored = ledger.score_playbook_version(
        "develop", 1, outcome_rate=0.30, n_outcomes=20, accepted=True
    )
    assert (scored.outcome_rate, scored.accepted, scored.scored_at) == (
        0.30,
        True,
        scored.scored_at,
    )
    ledger.score_playbook_version("develop", 2, outcome_rate=0.25, n_outcomes=20, accepted=False)
    assert ledger.current_playbook("develop") == scored  # v2 was rolled back
    assert [v.accepted for v in ledger.playbook_versions("develop")] == [True, False]
    assert (
        ledger.score_playbook_version("develop", 1, outcome_rate=0.9, n_outcomes=1, accepted=True)
        == scored
    )
    with pytest.raises(ConflictError, match="already scored"):
        ledger.score_playbook_version("develop", 2, outcome_rate=0.3, n_outcomes=20, accepted=True)
    with pytest.raises(NotFoundError):
        ledger.score_playbook_version("develop", 9, outcome_rate=0, n_outcomes=0, accepted=True)
