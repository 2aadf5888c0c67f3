"""The LLM brainstormer through the real client and the scripted HTTP server, on the example
workspace: typed ranked proposals, a grounded prompt, and the harness' last word (protected and
non-editable files, forbidden directions, risk by rule) whatever the model says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recloop.agents.brainstorm import BrainstormContext, Brainstormer
from recloop.agents.llm import LLMClient, ScriptedLLMServer
from recloop.agents.llm.brainstorm import (
    AGENT,
    DEFAULT_PLAYBOOK,
    LLMBrainstormConfig,
    LLMBrainstormer,
    planned_level,
)
from recloop.agents.outcome import Outcome
from recloop.knowledge.champion import workspace_champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import ForbiddenDirection, forbid
from recloop.knowledge.pattern import NumericRange, Pattern
from recloop.knowledge.proposal import Proposal
from recloop.ledger import Ledger

from ..conftest import NOW, Example

MakeClient = Callable[..., LLMClient]
EARLIER = NOW.replace(hour=9)
CONFIG_TWEAK = {
    "family": "free-form",
    "hypothesis": "More co-occurrence candidates give the ranker more to choose from",
    "expected_effect": "+2% ndcg@10",
    "risk": "L1",
    "files": ["config/pipeline.toml"],
    "parameters": {"cooccurrence": 300},
}
DECAY = {
    "family": "time-decay",
    "hypothesis": "Recent interactions say more about taste than old ones",
    "expected_effect": "+3% ndcg@10, coverage flat",
    "risk": "L3",
    "files": ["movierec/data.py"],
    "parameters": {"half_life": 30.0},
}


def reply(*proposals: dict[str, Any]) -> str:
    return json.dumps({"proposals": list(proposals)})


def change(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**base, **fields}


def context(
    example: Example,
    directions: tuple[ForbiddenDirection, ...] = (),
    failures: tuple[FailureRecord, ...] = (),
) -> BrainstormContext:
    champion = workspace_champion(example.root)
    assert champion is not None
    return BrainstormContext(example.root, example.manifest, champion, NOW, directions, failures)


def failure(family: str, cause: str, sentence: str, files: tuple[str, ...]) -> FailureRecord:
    return FailureRecord.from_rejection(
        stage="offline",
        cause=cause,
        sentence=sentence,
        now=EARLIER,
        family=family,
        changed_files=files,
    )


def prompt(server: ScriptedLLMServer, index: int = 0) -> str:
    return "\n".join(m["content"] for m in server.requests[index]["messages"])


def test_a_valid_answer_comes_back_ranked_typed_and_in_the_ledger(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(reply(CONFIG_TWEAK, DECAY))
    brainstormer = LLMBrainstormer(make_client())
    assert isinstance(brainstormer, Brainstormer)
    proposals = brainstormer.propose(context(example), 5)
    assert all(isinstance(p, Proposal) for p in proposals)
    assert [p.family for p in proposals] == ["free-form", "time-decay"]
    tweak, decay = proposals
    assert tweak.parameters == {"cooccurrence": 300} and tweak.files == ("config/pipeline.toml",)
    assert (tweak.risk, decay.risk) == ("L1", "L3")
    assert decay.expected_effect == "+3% ndcg@10, coverage flat"
    assert brainstormer.skipped == []
    (call,) = ledger.llm_calls()
    assert call.agent == AGENT == "llm-brainstormer" and call.error is None
    assert call.payload["schema"] == "LLMProposals" and call.tokens_in > 0


def test_n_bounds_the_answer_in_the_models_order(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    server.push(reply(DECAY, CONFIG_TWEAK))
    proposals = LLMBrainstormer(make_client()).propose(context(example), 1)
    assert [p.family for p in proposals] == ["time-decay"]
    assert "Propose up to 1 distinct changes" in prompt(server)


def test_the_prompt_is_grounded(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    direction = forbid(
        Pattern(family="diversity-rerank"),
        origin="person",
        by="alice",
        reason="genre caps hurt the long tail",
        now=EARLIER,
    )
    failed = failure(
        "time-decay", "offline-rejected", "decay of 2 days lost 4% ndcg@10", ("movierec/data.py",)
    )
    server.push(reply(DECAY))
    playbook = "- PLAYBOOK-V7: try the cheapest test of an idea first."
    summaries = ["Summary exp-9: genre affinity weight 0.3 shipped, +2.1% ndcg@10"]
    brainstormer = LLMBrainstormer(make_client(), playbook, documents=lambda: summaries)
    brainstormer.propose(context(example, (direction,), (failed,)), 3)
    system, user = (m["content"] for m in server.requests[0]["messages"])
    assert "PLAYBOOK-V7" in system and DEFAULT_PLAYBOOK not in system
    assert '"proposals"' in system  # the client's schema instruction
    assert direction.id in user and "genre caps hurt the long tail" in user
    assert failed.id in user and "decay of 2 days lost 4% ndcg@10" in user
    assert summaries[0] in user
    assert "movierec/pipeline.py  [movierec.pipeline" in user  # the repository map
    assert "def build_recommender" in user
    assert "Primary metric: ndcg@10" in user and "tests/**" in user and "recloop.toml" in user


def test_retrieval_picks_the_failures_related_to_recent_work(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    related = failure(
        "time-decay", "offline-rejected", "recency half life decay hurt ndcg", ("movierec/data.py",)
    )
    unrelated = failure(
        "cold-start-fallback",
        "offline-rejected",
        "fallback for users with little history",
        ("movierec/pipeline.py",),
    )
    brainstormer = LLMBrainstormer(
        make_client(),
        config=LLMBrainstormConfig(knowledge_k=1),
        documents=lambda: ["Summary exp-9: genre affinity weight 0.3 shipped"],
    )
    decay = Proposal(
        family="time-decay",
        hypothesis="recency decay",
        files=("movierec/data.py",),
        parameters={"half_life": 2.0},
    )
    brainstormer.learn(decay, Outcome.measured(-0.004, passed=False))
    server.push(reply(DECAY))
    brainstormer.propose(context(example, failures=(unrelated, related)), 2)
    user = prompt(server)
    assert related.id in user and unrelated.id not in user and "exp-9" not in user
    assert "time-decay(half_life=2.0) on movierec/data.py: -0.004 on the primary metric" in user


def test_learn_keeps_a_bounded_list_of_recent_outcomes(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    brainstormer = LLMBrainstormer(make_client(), config=LLMBrainstormConfig(recent_outcomes=2))
    for half_life in (1.0, 2.0, 3.0):
        tried = Proposal(family="time-decay", hypothesis="h", parameters={"half_life": half_life})
        brainstormer.learn(tried, Outcome.failed("structural", "undefined-name"))
    assert len(brainstormer.recent) == 2
    server.push(reply(DECAY))
    brainstormer.propose(context(example), 1)
    user = prompt(server)
    assert "half_life=1.0" not in user and "half_life=3.0" in user
    assert "stopped at structural: undefined-name" in user


def test_proposals_touching_protected_or_outside_files_are_dropped(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    server.push(
        reply(
            change(DECAY, files=["movierec/data.py", "recloop.toml"]),
            change(DECAY, files=["tests/test_ranking.py"]),
            change(DECAY, files=["../outside.py"]),
            change(DECAY, files=["scripts/train.py"]),
            change(DECAY, files=[]),
            CONFIG_TWEAK,
        )
    )
    brainstormer = LLMBrainstormer(make_client())
    proposals = brainstormer.propose(context(example), 6)
    assert [p.files for p in proposals] == [("config/pipeline.toml",)]
    reasons = [s.reason for s in brainstormer.skipped]
    assert len(reasons) == 5
    assert "[protected-path] recloop.toml" in reasons[0]
    assert "[protected-path] tests/test_ranking.py" in reasons[1]
    assert "[path-traversal]" in reasons[2]
    assert "[outside-editable] scripts/train.py" in reasons[3]
    assert reasons[4] == "names no file to touch"


def test_a_forbidden_proposal_is_dropped_with_the_reason(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    direction = forbid(
        Pattern(family="time-decay", params={"half_life": NumericRange(low=10, high=60)}),
        origin="person",
        by="alice",
        reason="short memories were tried",
        now=EARLIER,
    )
    server.push(reply(DECAY, change(DECAY, parameters={"half_life": 365.0})))
    brainstormer = LLMBrainstormer(make_client())
    proposals = brainstormer.propose(context(example, (direction,)), 3)
    assert [p.parameters for p in proposals] == [{"half_life": 365.0}]
    (skipped,) = brainstormer.skipped
    assert skipped.family == "time-decay"
    assert skipped.reason.startswith("forbidden:") and direction.id in skipped.reason


def test_malformed_json_then_valid_works_in_two_calls(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push('{"proposals": [{"family": "time-decay", ', reply(DECAY))
    proposals = LLMBrainstormer(make_client()).propose(context(example), 2)
    assert [p.family for p in proposals] == ["time-decay"]
    calls = ledger.llm_calls(agent=AGENT)
    assert [c.payload["attempt"] for c in calls] == [1, 2]
    assert "did not validate" in server.requests[1]["messages"][-1]["content"]


def test_the_rule_raises_the_models_risk_level(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    cross = change(DECAY, risk="L1", files=["movierec/candidates.py", "movierec/pipeline.py"])
    cautious = change(CONFIG_TWEAK, risk="L3")
    server.push(reply(cross, cautious, change(DECAY, risk="L1")))
    proposals = LLMBrainstormer(make_client()).propose(context(example), 3)
    assert [p.risk for p in proposals] == ["L4", "L3", "L3"]


@pytest.mark.parametrize(
    ("files", "claimed", "expected"),
    [
        (["config/pipeline.toml"], "L1", "L1"),
        (["config/pipeline.toml"], "L2", "L2"),
        (["config/pipeline.toml", "config/other.toml"], "L1", "L2"),
        (["movierec/data.py"], "L1", "L3"),
        (["movierec/data.py", "movierec/ranking.py"], "L2", "L4"),
        (["movierec/data.py"], "L4", "L4"),
    ],
)
def test_planned_level_is_the_higher_of_rule_and_claim(
    files: list[str], claimed: str, expected: str
) -> None:
    assert planned_level(files, claimed) == expected  # type: ignore[arg-type]


def test_the_map_is_cut_to_its_budget(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    server.push(reply(DECAY))
    config = LLMBrainstormConfig(map_chars=400)
    LLMBrainstormer(make_client(), config=config).propose(context(example), 1)
    user = prompt(server)
    start = user.index("## Repository map\n") + len("## Repository map\n")
    shown = user[start : user.index("\n\n## Task")]
    assert "more characters not shown" in shown
    assert len(shown.rsplit("\n", 1)[0]) <= 400


def test_the_data_profile_is_in_the_prompt(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer, ml100k_root: Path
) -> None:
    server.push(reply(DECAY))
    LLMBrainstormer(make_client()).propose(context(example), 1)
    user = prompt(server)
    assert "943 users, 1,682 items, 100,000 interactions" in user
    assert "Gini of item popularity" in user and "time span" in user


def test_a_proposal_recloop_cannot_hold_is_dropped_not_retried(
    example: Example, make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    twins = change(DECAY, parameters={"half_life": 30.0, "Half-Life": 7.0})
    server.push(reply(twins, CONFIG_TWEAK))
    brainstormer = LLMBrainstormer(make_client())
    assert [p.family for p in brainstormer.propose(context(example), 2)] == ["free-form"]
    (skipped,) = brainstormer.skipped
    assert skipped.reason.startswith("invalid proposal:") and "same name" in skipped.reason
    assert len(server.requests) == 1
