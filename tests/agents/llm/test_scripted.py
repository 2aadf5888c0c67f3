"""`ScriptedLLMServer` on the wire, read with plain urllib (the SDK tests are in test_client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from recloop.agents.llm import ScriptedLLMServer, ScriptedReply

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "one two three"}]}

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with DIRECT.open(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read()), dict(exc.headers)


def test_openai_wire_format_with_word_counts(server: ScriptedLLMServer) -> None:
    server.push("four words of reply")
    status, body, _ = post(f"{server.base_url}/chat/completions", REQUEST)
    assert status == 200 and body["object"] == "chat.completion" and body["model"] == "m"
    assert body["id"] and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": "four words of reply"}
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert server.requests == [REQUEST]


def test_errors_have_openai_bodies_and_retry_hints(server: ScriptedLLMServer) -> None:
    server.push(ScriptedReply.failure(429, "slow down", retry_after_seconds=0.25))
    status, body, headers = post(f"{server.base_url}/chat/completions", REQUEST)
    assert status == 429 and body["error"]["message"] == "slow down"
    assert headers["retry-after-ms"] == "250"


def test_script_then_responder_then_exhausted() -> None:
    def echo(request: dict[str, Any]) -> ScriptedReply:
        return ScriptedReply(content=request["messages"][-1]["content"].upper(), tokens_out=1)

    with ScriptedLLMServer(["first"]) as server:
        url = f"{server.base_url}/chat/completions"
        assert post(url, REQUEST)[1]["choices"][0]["message"]["content"] == "first"
        server.responder = echo
        _, body, _ = post(url, REQUEST)
        assert body["choices"][0]["message"]["content"] == "ONE TWO THREE"
        assert body["usage"]["completion_tokens"] == 1
        server.responder = None
        status, body, headers = post(url, REQUEST)
    assert status == 500 and body["error"]["message"] == "script exhausted"
    assert headers["x-should-retry"] == "false"
    assert len(server.requests) == 3


def test_unknown_routes_and_the_model_list(server: ScriptedLLMServer) -> None:
    status, body, _ = post(f"{server.base_url}/completions", REQUEST)
    assert status == 404 and "no route" in body["error"]["message"]
    with DIRECT.open(f"{server.base_url}/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["id"] == "scripted"
    assert server.requests == []
