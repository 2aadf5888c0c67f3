"""Replay of recorded LLM calls: a `ScriptedLLMServer` responder that answers from the ledger.

An audit re-runs an agent step against what the model answered then, so its decisions are
reproduced without the model. Each request's messages are rendered as the client renders them
(`render_messages`) and redacted as the ledger redacts them (`redact`, with the same `secrets`),
then matched against the recorded prompts; identical prompts are answered in recorded order.
A recorded success replays its response and token counts; a recorded failure replays as the
HTTP status its error names (500 when it names none, e.g. a timeout). A prompt no recorded call
has left answers HTTP 409 naming its first lines and where it departs from the next recorded
call not yet served — the point where the run diverged. Errors are sent marked not to be
retried, so the SDK's transport retries do not use up the recorded calls that follow.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from collections.abc import Iterable

from recloop.agents.llm.client import render_messages
from recloop.agents.llm.scripted import Request, Responder, ScriptedReply
from recloop.ledger import LLMCall
from recloop.ledger.redact import redact

DIVERGED = 409  # the status of a request no recorded call matches
FAILED = 500  # a recorded failure whose error names no HTTP status
PREVIEW_LINES = 3
_LINE_CHARS = 120
_RECORDED_STATUS = re.compile(r"\bHTTP (\d{3})\b")


class Replay:
    """The recorded calls as a responder (module docstring); safe across server threads."""

    def __init__(self, calls: Iterable[LLMCall], *, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(secrets)
        self._order = sorted(calls, key=lambda c: c.id)
        self._by_prompt: dict[str, deque[LLMCall]] = defaultdict(deque)
        for call in self._order:
            self._by_prompt[call.prompt].append(call)
        self._served: set[int] = set()
        self._requests = 0
        self._lock = threading.Lock()

    @property
    def unserved(self) -> list[LLMCall]:
        """Recorded calls no request has matched yet, in recorded order."""
        with self._lock:
            return [c for c in self._order if c.id not in self._served]

    def __call__(self, request: Request) -> ScriptedReply:
        messages = [
            {"role": str(m.get("role", "")), "content": str(m.get("content", ""))}
            for m in request.get("messages", [])
        ]
        prompt = redact(render_messages(messages), self.secrets)
        with self._lock:
            self._requests += 1
            queue = self._by_prompt.get(prompt)
            if not queue:
                return _diverged(prompt, self._requests, self._next_unserved())
            call = queue.popleft()
            self._served.add(call.id)
        return replayed(call)

    def _next_unserved(self) -> LLMCall | None:
        return next((c for c in self._order if c.id not in self._served), None)


def replay_responder(calls: Iterable[LLMCall], *, secrets: Iterable[str] = ()) -> Responder:
    """A `ScriptedLLMServer` responder answering each request with its recorded call."""
    return Replay(calls, secrets=secrets)


def replayed(call: LLMCall) -> ScriptedReply:
    """What the server answers for `call`: its response, or its failure."""
    if call.error is None:
        return ScriptedReply(
            content=call.response, tokens_in=call.tokens_in, tokens_out=call.tokens_out
        )
    found = _RECORDED_STATUS.search(call.error)
    status = int(found.group(1)) if found else FAILED
    return ScriptedReply(
        content=f"recorded call {call.id} failed: {call.error}", status=status, retryable=False
    )


def preview(text: str, lines: int = PREVIEW_LINES) -> str:
    """The first `lines` lines of `text` on one line, each cut to a readable length."""
    return " | ".join(_cut(line) for line in text.splitlines()[:lines])


def _cut(line: str) -> str:
    return line if len(line) <= _LINE_CHARS else f"{line[:_LINE_CHARS]}…"


def _diverged(prompt: str, request: int, expected: LLMCall | None) -> ScriptedReply:
    message = (
        f"replay diverged at request {request}: no recorded call is left with this prompt "
        f"(it begins: {preview(prompt)})"
    )
    if expected is None:
        message += "; every recorded call was already served"
    else:
        line, recorded, sent = _first_difference(expected.prompt, prompt)
        message += (
            f"; the next recorded call, {expected.id} ({expected.agent}), differs at prompt "
            f"line {line}: recorded {_cut(recorded)!r}, sent {_cut(sent)!r}"
        )
    return ScriptedReply(content=message, status=DIVERGED, retryable=False)


def _first_difference(recorded: str, sent: str) -> tuple[int, str, str]:
    """The 1-based number of the first line where the prompts differ, and both lines there."""
    old, new = recorded.splitlines(), sent.splitlines()
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            return number, a, b
    number = min(len(old), len(new)) + 1
    return number, _line(old, number), _line(new, number)


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1] if number <= len(lines) else "<end of prompt>"
