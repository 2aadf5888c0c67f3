"""`LLMClient` through the real openai SDK, over HTTP, to the scripted server, into a ledger."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from recloop.agents.llm import (
    LLMBadOutput,
    LLMClient,
    LLMConfig,
    LLMTimeout,
    LLMUnavailable,
    ScriptedLLMServer,
    ScriptedReply,
)
from recloop.ledger import Experiment, Ledger
from recloop.ledger.errors import NotFoundError
from recloop.ledger.redact import MASK

from .conftest import KEY, MODEL, Idea, new_experiment

MakeClient = Callable[..., LLMClient]
ASK = [{"role": "user", "content": "Propose one idea."}]
VALID = '{"title": "decay old interactions", "lift": 0.02}'


def test_chat_reply_usage_and_ledger_row(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger, experiment: Experiment
) -> None:
    server.push(ScriptedReply(content="Try time decay.", tokens_in=100, tokens_out=50))
    reply = make_client().chat(ASK, agent="brainstorm", experiment="e-1")
    assert reply.text == "Try time decay."
    assert (reply.usage.tokens_in, reply.usage.tokens_out) == (100, 50)
    assert reply.usage.cost_usd == pytest.approx(100 * 1 / 1e6 + 50 * 2 / 1e6)
    (call,) = ledger.llm_calls()
    assert call.id == reply.call_id and call.experiment_id == experiment.id
    assert (call.agent, call.model, call.tokens_in, call.tokens_out) == (
        "brainstorm",
        MODEL,
        100,
        50,
    )
    assert call.prompt == "user:\nPropose one idea." and call.response == "Try time decay."
    assert call.error is None and call.latency_seconds == pytest.approx(reply.latency_seconds)
    (sent,) = server.requests
    assert sent["model"] == MODEL and sent["temperature"] == 0.2 and sent["messages"] == ASK
    assert "response_format" not in sent


def test_structured_reads_fenced_json_and_sends_schema(
    make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    server.push(f"Here is my idea:\n```json\n{VALID}\n```\nHope it helps {{!}}")
    messages = [{"role": "system", "content": "You are a recsys engineer."}, *ASK]
    idea = make_client().structured(messages, Idea, agent="brainstorm")
    assert idea == Idea(title="decay old interactions", lift=0.02)
    (sent,) = server.requests
    assert sent["response_format"] == {"type": "json_object"}
    system = [m for m in sent["messages"] if m["role"] == "system"]
    assert len(system) == 1  # the schema joins the caller's system message
    assert system[0]["content"].startswith("You are a recsys engineer.")
    assert '"lift"' in system[0]["content"] and "Idea" in system[0]["content"]


def test_malformed_json_then_valid_retry(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(
        ScriptedReply(content='{"title": "decay", "lift": ', tokens_in=40, tokens_out=7),
        ScriptedReply(content=VALID, tokens_in=60, tokens_out=9),
    )
    idea = make_client().structured(ASK, Idea, agent="brainstorm")
    assert idea.lift == 0.02
    calls = ledger.llm_calls(agent="brainstorm")
    assert [c.payload["attempt"] for c in calls] == [1, 2]
    usage = ledger.llm_usage(agent="brainstorm")
    assert (usage.calls, usage.tokens_in, usage.tokens_out) == (2, 100, 16)
    assert usage.cost_usd == pytest.approx((100 * 1 + 16 * 2) / 1e6)
    asked_again = server.requests[1]["messages"]
    assert asked_again[-2] == {"role": "assistant", "content": '{"title": "decay", "lift": '}
    assert "no JSON object" in asked_again[-1]["content"]


def test_schema_invalid_three_times_is_bad_output(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(*['{"title": "decay", "lift": "high"}'] * 3)
    with pytest.raises(LLMBadOutput) as caught:
        make_client(max_output_attempts=3).structured(ASK, Idea, agent="brainstorm")
    assert caught.value.attempts == 3
    assert caught.value.errors == [
        "lift: Input should be a valid number, unable to parse string as a number"
    ]
    assert len(server.requests) == 3 and server.pending == 0
    assert len(ledger.llm_calls()) == 3
    assert "lift: Input should be a valid number" in server.requests[2]["messages"][-1]["content"]


def test_server_without_json_mode_falls_back(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    def refuse_json_mode(request: dict[str, object]) -> ScriptedReply:
        if "response_format" in request:
            return ScriptedReply.failure(400, "response_format is not supported")
        return ScriptedReply(content=VALID)

    server.responder = refuse_json_mode
    client = make_client()
    assert client.structured(ASK, Idea, agent="develop").title == "decay old interactions"
    assert client.structured(ASK, Idea, agent="develop").lift == 0.02
    assert ["response_format" in r for r in server.requests] == [True, False, False]
    refused, *answered = ledger.llm_calls()
    assert refused.error is not None and "HTTP 400" in refused.error
    assert [c.error for c in answered] == [None, None]


def test_http_500_is_retried_by_the_transport(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(ScriptedReply.failure(500, "overloaded"), "recovered")
    assert make_client(max_retries=2).chat(ASK, agent="brainstorm").text == "recovered"
    assert len(server.requests) == 2
    (call,) = ledger.llm_calls()  # one logical call, its retries inside
    assert call.error is None and call.response == "recovered"


def test_http_errors_past_retries_are_unavailable_and_recorded(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(*[ScriptedReply.failure(429, "rate limited")] * 2)
    with pytest.raises(LLMUnavailable) as caught:
        make_client(max_retries=1).chat(ASK, agent="brainstorm")
    assert caught.value.status == 429 and len(server.requests) == 2
    (call,) = ledger.llm_calls()
    assert call.error is not None and "429" in call.error and call.tokens_in == 0


def test_exhausted_script_fails_loudly_without_retries(
    make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    with pytest.raises(LLMUnavailable, match="script exhausted"):
        make_client(max_retries=2).chat(ASK, agent="brainstorm")
    assert len(server.requests) == 1


def test_slow_server_times_out(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    server.push(ScriptedReply(content="too late", delay_seconds=3.0))
    client = make_client(timeout_seconds=0.3, max_retries=0)
    started = time.perf_counter()
    with pytest.raises(LLMTimeout):
        client.chat(ASK, agent="brainstorm")
    elapsed = time.perf_counter() - started
    assert 0.3 <= elapsed < 2.0
    (call,) = ledger.llm_calls()
    assert call.error is not None and call.latency_seconds == pytest.approx(elapsed, abs=0.1)


def test_secrets_never_reach_the_ledger(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger
) -> None:
    other = "sk-proj-ABCDEFGHIJKLMNOPQRSTUV"
    server.push(f"I saw {KEY} and {other}")
    prompt = [{"role": "user", "content": f"my key is {KEY}, the team's is {other}"}]
    make_client().chat(prompt, agent="brainstorm")
    assert KEY in server.requests[0]["messages"][0]["content"]  # sent as given, kept masked
    (call,) = ledger.llm_calls()
    for text in (call.prompt, call.response):
        assert KEY not in text and other not in text and text.count(MASK) == 2


def test_usage_per_agent_and_per_experiment(
    make_client: MakeClient, server: ScriptedLLMServer, ledger: Ledger, experiment: Experiment
) -> None:
    second = new_experiment(ledger, "e-2")
    plan = [
        ("brainstorm", experiment, 10, 1),
        ("develop", "e-1", 20, 2),
        ("develop", second.id, 30, 3),
        ("brainstorm", None, 40, 4),
    ]
    server.push(*[ScriptedReply(content="ok", tokens_in=i, tokens_out=o) for *_, i, o in plan])
    client = make_client()
    for agent, ref, *_ in plan:
        client.chat(ASK, agent=agent, experiment=ref)

    def totals(**where: object) -> tuple[int, int, int]:
        usage = ledger.llm_usage(**where)  # type: ignore[arg-type]
        return usage.calls, usage.tokens_in, usage.tokens_out

    assert totals(agent="brainstorm") == (2, 50, 5)
    assert totals(agent="develop") == (2, 50, 5)
    assert totals(experiment=experiment) == (2, 30, 3)
    assert totals(experiment=second) == (1, 30, 3)
    assert totals(experiment=experiment, agent="develop") == (1, 20, 2)
    assert totals() == (4, 100, 10)


def test_unknown_experiment_key_sends_nothing(
    make_client: MakeClient, server: ScriptedLLMServer
) -> None:
    server.push("unused")
    with pytest.raises(NotFoundError):
        make_client().chat(ASK, agent="brainstorm", experiment="no-such-experiment")
    assert server.requests == [] and server.pending == 1


def test_without_a_ledger_nothing_is_recorded(
    make_config: Callable[..., LLMConfig], server: ScriptedLLMServer
) -> None:
    server.push("hello")
    with LLMClient(make_config()) as client:
        reply = client.chat(ASK, agent="brainstorm", experiment="e-1")
    assert reply.text == "hello" and reply.call_id is None
