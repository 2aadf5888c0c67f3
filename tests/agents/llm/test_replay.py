"""Replay: calls recorded through the real client into a SQLite ledger, answered again by a
second scripted server driven by `replay_responder`, through the real client and SDK."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from recloop.agents.llm import LLMClient, LLMConfig, LLMUnavailable, ScriptedLLMServer
from recloop.agents.llm.brainstorm import LLMBrainstormer
from recloop.agents.llm.replay import DIVERGED, FAILED, Replay, replay_responder, replayed
from recloop.agents.llm.scripted import ScriptedReply
from recloop.ledger import Experiment, Ledger
from recloop.ledger.redact import MASK

from ..conftest import Example
from .conftest import KEY, Idea

MakeClient = Callable[..., LLMClient]
MakeConfig = Callable[..., LLMConfig]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]


@contextmanager
def replaying(
    ledger: Ledger, make_config: MakeConfig, *, secrets: tuple[str, ...] = (), **settings: object
) -> Iterator[tuple[LLMClient, ScriptedLLMServer]]:
    """A client (keeping no ledger) on a server replaying every call `ledger` recorded."""
    responder = replay_responder(ledger.llm_calls(), secrets=secrets)
    with ScriptedLLMServer(responder=responder) as server:
        config = make_config(base_url=server.base_url, **settings)
        with LLMClient(config) as client:
            yield client, server


def test_replies_come_back_in_recorded_order_with_their_tokens(
    make_client: MakeClient,
    make_config: MakeConfig,
    server: ScriptedLLMServer,
    ledger: Ledger,
    experiment: Experiment,
) -> None:
    server.push(
        ScriptedReply(content="first A", tokens_in=11, tokens_out=3),
        ScriptedReply(content="only B", tokens_in=12, tokens_out=4),
        ScriptedReply(content="second A", tokens_in=13, tokens_out=5),
    )
    recording = make_client()
    recorded = [recording.chat(ask(q), agent="a", experiment="e-1") for q in ("A", "B", "A")]
    with replaying(ledger, make_config) as (client, replay_server):
        again = [client.chat(ask(q), agent="a") for q in ("A", "B", "A")]
    assert [r.text for r in again] == ["first A", "only B", "second A"]
    assert [r.text for r in again] == [r.text for r in recorded]
    assert [(r.usage.tokens_in, r.usage.tokens_out) for r in again] == [(11, 3), (12, 4), (13, 5)]
    assert len(replay_server.requests) == 3


def test_a_prompt_with_secrets_matches_after_redaction(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    secret_prompt = ask(f"Call the API with {KEY}; DB_PASSWORD=hunter2-and-more")
    server.push("done, quietly")
    make_client().chat(secret_prompt, agent="a")
    (call,) = ledger.llm_calls()
    assert KEY not in call.prompt and "hunter2" not in call.prompt and MASK in call.prompt
    with replaying(ledger, make_config, secrets=(KEY,)) as (client, _):
        assert client.chat(secret_prompt, agent="a").text == "done, quietly"


def test_a_secret_known_only_by_value_needs_it_given(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    """The ledger masked the configured key by value; a replay told no secrets cannot."""
    plain_key = "plainkeyvalue42"
    ledger.record_llm_call(
        agent="a",
        model="m",
        prompt=f"user:\nkey {plain_key}",
        response="ok",
        tokens_in=1,
        tokens_out=1,
        cost_usd=0.0,
        latency_seconds=0.1,
        secrets=[plain_key],
    )
    messages = [{"role": "user", "content": f"key {plain_key}"}]
    with replaying(ledger, make_config) as (client, _), pytest.raises(LLMUnavailable):
        client.chat(messages, agent="a")
    with replaying(ledger, make_config, secrets=(plain_key,)) as (client, _):
        assert client.chat(messages, agent="a").text == "ok"


def test_a_diverging_prompt_fails_naming_it_and_where_it_departs(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push("reply A", "reply B")
    recording = make_client()
    recording.chat(ask("A"), agent="a")
    recording.chat(ask("B, then more"), agent="planner")
    next_id = ledger.llm_calls()[1].id
    with replaying(ledger, make_config, max_retries=2) as (client, replay_server):
        assert client.chat(ask("A"), agent="a").text == "reply A"
        with pytest.raises(LLMUnavailable) as caught:
            client.chat(ask("Something else entirely"), agent="planner")
    assert caught.value.status == DIVERGED
    message = str(caught.value)
    assert "diverged at request 2" in message
    assert "system: | You are terse. | " in message  # the first lines of the unmatched prompt
    assert f"the next recorded call, {next_id} (planner), differs at prompt line 5" in message
    assert "recorded 'B, then more', sent 'Something else entirely'" in message
    assert len(replay_server.requests) == 2  # marked not to be retried


def test_every_call_served_then_a_further_request_diverges(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push("once")
    make_client().chat(ask("A"), agent="a")
    with replaying(ledger, make_config) as (client, _):
        client.chat(ask("A"), agent="a")
        with pytest.raises(LLMUnavailable, match="every recorded call was already served"):
            client.chat(ask("A"), agent="a")


def test_a_failed_call_replays_as_its_failure_without_retries(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(ScriptedReply.failure(503, "overloaded"), "after the outage")
    recording = make_client()
    with pytest.raises(LLMUnavailable):
        recording.chat(ask("A"), agent="a")
    recording.chat(ask("A"), agent="a")  # the agent asks again, and gets an answer
    failed, answered = ledger.llm_calls()
    assert failed.error is not None and answered.error is None
    with replaying(ledger, make_config, max_retries=2) as (client, replay_server):
        with pytest.raises(LLMUnavailable) as caught:
            client.chat(ask("A"), agent="a")
        assert client.chat(ask("A"), agent="a").text == "after the outage"
    assert caught.value.status == 503
    assert f"recorded call {failed.id} failed" in str(caught.value)
    assert "overloaded" in str(caught.value)
    assert len(replay_server.requests) == 2  # the SDK did not retry into the next recording


def test_a_failure_naming_no_status_replays_as_500(ledger: Ledger) -> None:
    call = ledger.record_llm_call(
        agent="a",
        model="m",
        prompt="user:\nA",
        response="",
        tokens_in=0,
        tokens_out=0,
        cost_usd=0.0,
        latency_seconds=1.0,
        error="no answer from the LLM endpoint in time: Request timed out.",
    )
    reply = replayed(call)
    assert (reply.status, reply.retryable) == (FAILED, False) == (500, False)
    assert "timed out" in reply.content


def test_json_mode_refusal_and_fallback_replay_alike(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    """A recorded 400 (a server without JSON mode) replays as 400, so the client falls back to
    plain calls exactly as it did, and the structured result is the same."""
    valid = '{"title": "decay old interactions", "lift": 0.02}'
    server.push(ScriptedReply.failure(400, "response_format is not supported"), valid)
    recorded = make_client().structured(ask("An idea?"), Idea, agent="a")
    with replaying(ledger, make_config) as (client, replay_server):
        again = client.structured(ask("An idea?"), Idea, agent="a")
    assert again == recorded
    assert ["response_format" in r for r in replay_server.requests] == [True, False]


def test_unserved_lists_what_no_request_asked_for(
    make_client: MakeClient, make_config: MakeConfig, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push("a", "b")
    recording = make_client()
    recording.chat(ask("A"), agent="a")
    recording.chat(ask("B"), agent="a")
    replay = Replay(ledger.llm_calls())
    assert [c.response for c in replay.unserved] == ["a", "b"]
    reply = replay({"messages": ask("B")})
    assert reply.content == "b" and [c.response for c in replay.unserved] == ["a"]


def test_a_brainstorm_step_is_reproduced_without_the_model(
    example: Example,
    make_client: MakeClient,
    make_config: MakeConfig,
    server: ScriptedLLMServer,
    ledger: Ledger,
) -> None:
    proposal = {
        "family": "time-decay",
        "hypothesis": "Recent interactions say more about taste than old ones",
        "expected_effect": "+3% ndcg@10",
        "risk": "L2",
        "files": ["movierec/data.py"],
        "parameters": {"half_life": 30.0},
    }
    server.push(json.dumps({"proposals": [proposal]}))
    recorded = LLMBrainstormer(make_client()).propose(example.context(), 3)
    with replaying(ledger, make_config) as (client, _):
        replayed_proposals = LLMBrainstormer(client).propose(example.context(), 3)
    assert replayed_proposals == recorded and recorded[0].family == "time-decay"
