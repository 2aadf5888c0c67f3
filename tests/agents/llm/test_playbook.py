"""Playbook evolution against a real SQLite ledger and the scripted model over HTTP.

Experiments are built with the ledger's own API (proposal, experiment tagged with the version
in force, transitions, candidate, metrics, decision), so outcome rates are read from the same
facts the loop writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import get_args

import pytest

from recloop.agents.llm import (
    BRAINSTORMER,
    DEVELOPER,
    BudgetExhausted,
    LLMBudget,
    LLMClient,
    PlaybookKeeper,
    ScriptedLLMServer,
    ran_with,
    tag,
)
from recloop.agents.llm.playbook import REFLECT_FAILED
from recloop.agents.llm.reflect import reflector
from recloop.ledger import Experiment, Ledger, MetricValue, State

MakeClient = Callable[..., LLMClient]
DEFAULT = "Prefer small, parameter-level changes to the candidate generator."
CHAIN: tuple[State, ...] = get_args(State)[:-1]  # proposed … launched (closed is no step)
BEFORE: dict[str, State] = {  # the state a stage's rejection closes the experiment from
    "forbidden": "proposed",
    "develop": "forbidden_check",
    "structural": "developed",
    "semantic": "structural",
    "local": "semantic",
    "offline": "local",
}
UNDEFINED = (
    "structural",
    "undefined-name",
    "ruff F821: undefined name 'np' at movierec/ease.py:12",
)
FLAKY = ("semantic", "nondeterministic", "two fits ranked user 7 differently")


def edit(text: str, rationale: str = "the batch failed on undefined names") -> str:
    return json.dumps({"text": text, "rationale": rationale})


def experiment(
    ledger: Ledger, key: str, keepers: Sequence[PlaybookKeeper], reach: State
) -> Experiment:
    """A tagged experiment moved along the chain up to `reach` (a candidate once developed;
    offline metrics and a ship decision on the way to a launch)."""
    proposal = ledger.add_proposal(
        f"p-{key}",
        family="time-decay",
        title=f"Decay old interactions ({key})",
        level="L1",
        source="test",
        hypothesis=f"Recent interactions predict better ({key}).",
    )
    made = ledger.create_experiment(key, proposal, payload=tag(keepers))
    for state in CHAIN[1 : CHAIN.index(reach) + 1]:
        made = ledger.transition(made, made.state, state)  # type: ignore[arg-type]
        if state == "developed":
            ledger.add_candidate(
                made,
                key,
                branch=f"recloop/{key}",
                commit="c0ffee",
                diff="",
                payload={"files": ["movierec/ease.py"]},
            )
        if state == "offline":
            (candidate,) = ledger.candidates(made)
            primary = MetricValue(0.08, payload={"role": "primary", "difference": 0.012})
            ledger.record_metrics(made, candidate, "offline", {"ndcg@10": primary})
        if state == "decided":
            ledger.record_decision(made, outcome="ship", rule_outcome={}, decided_by="test")
    return made


def failed(
    ledger: Ledger, key: str, keepers: Sequence[PlaybookKeeper], why: tuple[str, str, str]
) -> Experiment:
    stage, cause, sentence = why
    made = experiment(ledger, key, keepers, BEFORE[stage])
    payload = {"stage": stage, "cause": cause, "sentence": sentence, "verdict": "reject"}
    return ledger.transition(made, made.state, "closed", payload)  # type: ignore[arg-type]


def batch(
    ledger: Ledger, prefix: str, keepers: Sequence[PlaybookKeeper], passing: int, total: int = 3
) -> list[str]:
    """`total` settled experiments, the first `passing` launched, the rest rejected."""
    for i in range(total):
        key = f"{prefix}-{i}"
        if i < passing:
            experiment(ledger, key, keepers, "launched")
        else:
            failed(ledger, key, keepers, UNDEFINED if i % 2 else FLAKY)
    return [f"{prefix}-{i}" for i in range(total)]


@pytest.fixture
def keeper(ledger: Ledger, make_client: MakeClient) -> PlaybookKeeper:
    return PlaybookKeeper(ledger, DEVELOPER, make_client(), default_text=DEFAULT, batch_size=3)


def test_version_one_is_the_default_in_force_and_recorded_per_experiment(
    ledger: Ledger, keeper: PlaybookKeeper, make_client: MakeClient
) -> None:
    assert keeper.current_text() == DEFAULT
    again = PlaybookKeeper(ledger, DEVELOPER, make_client(), default_text="another default")
    assert again.in_force().version == 1 and again.current_text() == DEFAULT  # made once
    (root,) = ledger.playbook_versions(DEVELOPER)
    assert root.parent_version is None and root.accepted is None  # scored by its first batch
    made = experiment(ledger, "e-1", [keeper], "developed")
    assert made.payload == {"playbooks": {DEVELOPER: 1}}
    assert ran_with(made, DEVELOPER) == 1 and ran_with(made, BRAINSTORMER) is None
    assert keeper.playbook_for(made) == root


def test_an_edit_whose_rate_does_not_fall_is_accepted(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer
) -> None:
    server.push(edit("v2: import what you use."), edit("v3: import what you use; seed fits."))
    first = batch(ledger, "a", [keeper], passing=1)
    straggler = experiment(ledger, "a-late", [keeper], "developed")  # v1, beyond its batch
    assert keeper.after_batch() is not None
    assert keeper.in_force().version == 2
    made = experiment(ledger, "b-0", [keeper], "online")  # passed offline: has its outcome
    assert ran_with(made, DEVELOPER) == 2
    ledger.transition(straggler, "developed", "closed", {"stage": "structural", "cause": "x"})
    second = ["b-0", *batch(ledger, "c", [keeper], passing=0, total=2)]  # 1/3 again
    report = keeper.after_batch()

    assert report is not None and report.batch_version == 2 and list(report.batch) == second
    assert report.scored is not None and report.scored.accepted is True
    v1, v2, v3 = ledger.playbook_versions(DEVELOPER)
    assert (v1.outcome_rate, v1.n_outcomes, v1.accepted) == (pytest.approx(1 / 3), 3, True)
    assert (v2.outcome_rate, v2.n_outcomes, v2.accepted) == (pytest.approx(1 / 3), 3, True)
    assert v2.payload["batch"] == first and v2.payload["rationale"]
    assert (v3.parent_version, v3.accepted, v3.text) == (
        2,
        None,
        "v3: import what you use; seed fits.",
    )
    assert ledger.current_playbook(DEVELOPER) == v2
    assert keeper.in_force() == v3 and report.trial == v3


def test_an_edit_that_lowers_the_rate_is_rolled_back(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer
) -> None:
    server.push(edit("v2: rewrite whole modules."), edit("v3: small edits again."))
    batch(ledger, "a", [keeper], passing=2)
    keeper.after_batch()
    batch(ledger, "b", [keeper], passing=1)
    report = keeper.after_batch()

    assert report is not None and report.scored is not None and report.scored.accepted is False
    v1, v2, v3 = ledger.playbook_versions(DEVELOPER)
    assert (v1.outcome_rate, v1.accepted) == (pytest.approx(2 / 3), True)
    assert (v2.outcome_rate, v2.accepted) == (pytest.approx(1 / 3), False)
    assert ledger.current_playbook(DEVELOPER) == v1  # the parent stays current
    assert v3.parent_version == 1 and keeper.in_force() == v3  # the next edit is of v1
    second_prompt = server.requests[1]["messages"][-1]["content"]
    assert "Current playbook (version 1)" in second_prompt
    assert "v2 (edit of v1): outcome rate 33% over 3, rejected" in second_prompt


def test_reflection_prompt_holds_the_current_text_and_the_trajectories(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer
) -> None:
    server.push(edit("v2"))
    batch(ledger, "a", [keeper], passing=1)
    keeper.after_batch()

    (sent,) = server.requests
    prompt = "\n".join(m["content"] for m in sent["messages"])
    assert DEFAULT in prompt and "Current playbook (version 1)" in prompt
    assert "- v1 (default): outcome rate 33% over 3, accepted" in prompt
    assert "3 experiments that ran with version 1; 1 passed the offline stage, 1 shipped" in prompt
    assert "a-0 [time-decay] Decay old interactions (a-0)" in prompt
    assert "shipped (launched)" in prompt and "offline primary difference: +0.0120" in prompt
    assert f"stopped at structural (undefined-name): {UNDEFINED[2]}" in prompt
    assert f"stopped at semantic (nondeterministic): {FLAKY[2]}" in prompt
    assert "files: movierec/ease.py" in prompt
    (call,) = ledger.llm_calls()
    assert call.agent == reflector(DEVELOPER) and DEFAULT in call.prompt


def test_a_restart_mid_trial_neither_reflects_again_nor_scores_twice(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.push(edit("v2: import what you use."))
    batch(ledger, "a", [keeper], passing=1)
    keeper.after_batch()
    experiment(ledger, "b-0", [keeper], "launched")
    held = experiment(ledger, "b-1", [keeper], "developed")  # still in the cascade
    experiment(ledger, "b-2", [keeper], "launched")
    experiment(ledger, "b-3", [keeper], "launched")

    restarted = PlaybookKeeper(ledger, DEVELOPER, make_client(), default_text=DEFAULT, batch_size=3)
    assert restarted.after_batch() is None  # b-1 holds the batch back
    assert len(server.requests) == 1 and ledger.playbook_versions(DEVELOPER)[1].accepted is None

    ledger.transition(held, "developed", "closed", {"stage": "structural", "cause": "x"})
    server.push(edit("v3"))
    report = restarted.after_batch()
    assert report is not None and report.batch == ("b-0", "b-1", "b-2")
    assert again_nothing(restarted, server, requests=2)
    scores = ledger.audit_log(action="playbook.score")
    assert [e.payload["version"] for e in scores] == [1, 2]


def again_nothing(keeper: PlaybookKeeper, server: ScriptedLLMServer, requests: int) -> bool:
    """Calling again changes nothing and asks the model nothing."""
    before = keeper.versions()
    return (
        keeper.after_batch() is None
        and keeper.versions() == before
        and (len(server.requests) == requests)
    )


def test_a_crash_between_scoring_and_reflecting_reflects_on_the_same_batch(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.push(edit("v2: rewrite whole modules."))
    batch(ledger, "a", [keeper], passing=2)
    keeper.after_batch()
    trial_batch = batch(ledger, "b", [keeper], passing=0)
    spent = LLMBudget(ledger, max_tokens_per_run=1)  # the first reflection spent more
    broke = PlaybookKeeper(
        ledger, DEVELOPER, make_client(budget=spent), default_text=DEFAULT, batch_size=3
    )
    with pytest.raises(BudgetExhausted):
        broke.after_batch()
    v2 = ledger.playbook_versions(DEVELOPER)[1]
    assert v2.accepted is False and len(server.requests) == 1  # scored; nothing asked
    assert keeper.in_force().version == 1  # rolled back while no new trial exists

    server.push(edit("v3: small edits again."))
    report = keeper.after_batch()
    assert report is not None and report.scored is None  # not scored twice
    assert report.batch_version == 2 and list(report.batch) == trial_batch
    assert report.trial is not None and report.trial.parent_version == 1
    assert ledger.playbook_versions(DEVELOPER)[1] == v2
    assert again_nothing(keeper, server, requests=2)


def test_a_malformed_reflection_leaves_the_current_version_in_place(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer
) -> None:
    server.push("I would rather not.", '{"text": "  "}', '{"rationale": "no text"}')
    first = batch(ledger, "a", [keeper], passing=1)
    report = keeper.after_batch()

    assert report is not None and report.trial is None and report.failure is not None
    assert "no valid reflection" in report.failure and len(server.requests) == 3
    (v1,) = ledger.playbook_versions(DEVELOPER)
    assert v1.accepted is True and keeper.in_force() == v1
    (entry,) = ledger.audit_log(action=REFLECT_FAILED)
    assert entry.payload["batch"] == first
    assert again_nothing(keeper, server, requests=3)  # the same batch is not reflected again

    server.push(edit("v2: import what you use."))
    batch(ledger, "b", [keeper], passing=1)  # the current version's next batch
    report = keeper.after_batch()
    assert report is not None and report.scored is None and report.trial is not None
    assert report.trial.version == 2 and report.trial.parent_version == 1


def test_an_edit_repeating_a_known_text_makes_no_trial(
    ledger: Ledger, keeper: PlaybookKeeper, server: ScriptedLLMServer
) -> None:
    server.push(edit(DEFAULT))
    batch(ledger, "a", [keeper], passing=1)
    report = keeper.after_batch()
    assert report is not None and report.trial is None
    assert report.failure == "the edit repeats version 1"
    assert [v.version for v in ledger.playbook_versions(DEVELOPER)] == [1]


def test_experiments_the_forbidden_check_closed_count_only_for_the_brainstormer(
    ledger: Ledger, server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    client = make_client()
    developer = PlaybookKeeper(ledger, DEVELOPER, client, default_text=DEFAULT, batch_size=2)
    brainstormer = PlaybookKeeper(ledger, BRAINSTORMER, client, default_text="Ideas", batch_size=2)
    keepers = [developer, brainstormer]
    experiment(ledger, "a-0", keepers, "launched")
    failed(ledger, "a-1", keepers, ("forbidden", "forbidden-direction", "matches fd-3"))
    server.push(edit("brainstormer v2"))
    report = brainstormer.after_batch()
    assert report is not None and report.batch == ("a-0", "a-1")
    assert ledger.playbook_versions(BRAINSTORMER)[0].outcome_rate == pytest.approx(0.5)
    assert developer.after_batch() is None  # a-1 is not the developer's outcome

    experiment(ledger, "a-2", keepers, "launched")
    server.push(edit("developer v2"))
    report = developer.after_batch()
    assert report is not None and report.batch == ("a-0", "a-2")
    assert ledger.playbook_versions(DEVELOPER)[0].outcome_rate == 1.0


def test_experiments_closed_for_a_spent_budget_or_a_harness_error_count_for_nobody(
    ledger: Ledger, server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    keeper = PlaybookKeeper(ledger, DEVELOPER, make_client(), default_text=DEFAULT, batch_size=2)
    experiment(ledger, "b-0", [keeper], "launched")
    failed(ledger, "b-1", [keeper], ("develop", "budget-exhausted", "tokens per run used 9 of 8"))
    failed(ledger, "b-2", [keeper], ("semantic", "harness-error", "RuntimeError('disk full')"))
    assert keeper.after_batch() is None  # neither b-1 nor b-2 is an outcome of the playbook
    failed(ledger, "b-3", [keeper], UNDEFINED)
    server.push(edit("developer v2"))
    report = keeper.after_batch()
    assert report is not None and report.batch == ("b-0", "b-3")
    assert ledger.playbook_versions(DEVELOPER)[0].outcome_rate == pytest.approx(0.5)
