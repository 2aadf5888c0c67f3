"""`ScriptedLLMServer`: a scripted model behind a real OpenAI-compatible HTTP endpoint.

It lets the whole LLM path — the `openai` SDK, HTTP, retries, timeouts, the ledger — run with no
model: for recloop's tests and for offline demos. It listens on 127.0.0.1 (a free port unless
given one) in a daemon thread and answers `POST /v1/chat/completions` in the OpenAI wire format
from a queue of `ScriptedReply` items (text, a delay before it, or an HTTP error), then from an
optional `responder(request) -> ScriptedReply`. With neither left it answers HTTP 500 "script
exhausted" (marked not to be retried) so a test that under-scripts fails loudly. Every request
body is kept in `.requests`.

    with ScriptedLLMServer(['{"title": "x"}']) as server:
        config = LLMConfig(provider="openai", model="scripted", base_url=server.base_url)
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

Request = dict[str, Any]


class ScriptedReply(BaseModel):
    """One scripted answer: `content` after `delay_seconds`, or an HTTP error `status` whose
    message is `content`. Token counts default to word counts (prompt and reply)."""

    model_config = ConfigDict(frozen=True)

    content: str = ""
    status: int = 200
    delay_seconds: float = Field(default=0.0, ge=0.0)
    tokens_in: int | None = Field(default=None, ge=0)
    tokens_out: int | None = Field(default=None, ge=0)
    retry_after_seconds: float | None = Field(default=None, ge=0.0)  # sent on errors
    retryable: bool = True  # False: an error sent with `x-should-retry: false` (no SDK retry)

    @classmethod
    def failure(
        cls, status: int, message: str = "scripted failure", retry_after_seconds: float = 0.01
    ) -> ScriptedReply:
        """An HTTP error; the short `Retry-After` keeps the SDK's backoff quick in tests."""
        return cls(content=message, status=status, retry_after_seconds=retry_after_seconds)


Responder = Callable[[Request], ScriptedReply]
_EXHAUSTED = ScriptedReply(content="script exhausted", status=500, retryable=False)


def _words(text: str) -> int:
    return len(text.split())


def completion_body(request: Request, reply: ScriptedReply, created: int, n: int) -> Request:
    """The OpenAI chat-completion object for `reply` to `request`."""
    prompt = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
    tokens_in = _words(prompt) if reply.tokens_in is None else reply.tokens_in
    tokens_out = _words(reply.content) if reply.tokens_out is None else reply.tokens_out
    return {
        "id": f"chatcmpl-scripted-{n}",
        "object": "chat.completion",
        "created": created,
        "model": request.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


def error_body(reply: ScriptedReply) -> Request:
    kind = "server_error" if reply.status >= 500 else "invalid_request_error"
    return {"error": {"message": reply.content, "type": kind, "param": None, "code": None}}


class ScriptedLLMServer:
    """A loopback OpenAI-compatible server answering from a script (module docstring)."""

    def __init__(
        self,
        script: Iterable[ScriptedReply | str] = (),
        *,
        responder: Responder | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._script: deque[ScriptedReply] = deque()
        self.push(*script)
        self.responder = responder
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.scripted = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # how soon `stop` is noticed
            name="scripted-llm",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def push(self, *replies: ScriptedReply | str) -> None:
        """Append replies to the script (a string is a plain text reply)."""
        self._script.extend(
            r if isinstance(r, ScriptedReply) else ScriptedReply(content=r) for r in replies
        )

    @property
    def pending(self) -> int:
        """Scripted replies not yet served."""
        return len(self._script)

    def start(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a reply still waiting out its delay is abandoned."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _next_reply(self, request: Request) -> tuple[ScriptedReply, int]:
        with self._lock:
            self.requests.append(request)
            n = next(self._ids)
            if self._script:
                return self._script.popleft(), n
        if self.responder is not None:
            return self.responder(request), n
        return _EXHAUSTED, n

    def _answer(self, request: Request) -> tuple[int, Request, dict[str, str]]:
        """Status, JSON body and extra headers for one chat-completion request."""
        reply, n = self._next_reply(request)
        if reply.delay_seconds and self._stopping.wait(reply.delay_seconds):
            return 503, error_body(ScriptedReply.failure(503, "server stopping")), {}
        if reply.status != 200:
            headers = {} if reply.retryable else {"x-should-retry": "false"}
            if reply.retry_after_seconds is not None:
                headers["retry-after-ms"] = str(int(reply.retry_after_seconds * 1000))
            return reply.status, error_body(reply), headers
        return 200, completion_body(request, reply, int(time.time()), n), {}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    scripted: ScriptedLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected, not an error to print."""


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, error_body(ScriptedReply.failure(404, f"no route {self.path}")), {})
            return
        length = int(self.headers.get("Content-Length", 0))
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, error_body(ScriptedReply.failure(400, "body is not JSON")), {})
            return
        server = cast(_HTTPServer, self.server).scripted
        self._send(*server._answer(request))

    def do_GET(self) -> None:
        """`/v1/models`, which some clients read first."""
        if self.path.rstrip("/") != "/v1/models":
            self._send(404, error_body(ScriptedReply.failure(404, f"no route {self.path}")), {})
            return
        model = {"id": "scripted", "object": "model", "created": 0, "owned_by": "recloop"}
        self._send(200, {"object": "list", "data": [model]}, {})

    def _send(self, status: int, body: Request, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `.requests`, not a log."""
