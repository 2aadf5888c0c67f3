"""`LLMClient`: chat and structured output, each call budgeted and kept in the ledger.

Every call — a failed one too, with its error — becomes one ledger row: the rendered prompt and
the response (redacted, the API key masked by value), tokens, cost at the configured prices and
latency. The SDK's transport retries happen inside one call. `structured` re-asks the model,
quoting the validation errors, up to `max_output_attempts` calls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from recloop.agents.llm.backends import Backend, Completion, Messages, make_backend
from recloop.agents.llm.budget import ExperimentKey, LLMBudget, experiment_id
from recloop.agents.llm.errors import LLMBadOutput, LLMError, LLMUnavailable
from recloop.agents.llm.output import parse_reply, retry_instruction, schema_instruction
from recloop.agents.llm.settings import LLMConfig
from recloop.ledger import Ledger

T = TypeVar("T", bound=BaseModel)
_BAD_REQUEST = 400  # how servers without JSON mode refuse `response_format`


class Usage(BaseModel):
    tokens_in: int
    tokens_out: int
    cost_usd: float


class LLMReply(BaseModel):
    text: str
    usage: Usage
    latency_seconds: float
    call_id: int | None  # the ledger row, when a ledger is kept


def render_messages(messages: Messages) -> str:
    """The prompt as the ledger keeps it: one `role:` block per message."""
    return "\n\n".join(f"{m['role']}:\n{m['content']}" for m in messages)


class LLMClient:
    """A configured model with its ledger and budget (both optional)."""

    def __init__(
        self, config: LLMConfig, ledger: Ledger | None = None, budget: LLMBudget | None = None
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.budget = budget
        self._backend: Backend = make_backend(config)
        self._json_mode = True  # until the server refuses `response_format`

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def chat(
        self, messages: Messages, *, agent: str, experiment: ExperimentKey | None = None
    ) -> LLMReply:
        """One completion of `messages`."""
        return self._call(messages, agent, experiment, json_mode=False, payload={})

    def structured(
        self,
        messages: Messages,
        schema: type[T],
        *,
        agent: str,
        experiment: ExperimentKey | None = None,
    ) -> T:
        """A reply validated against `schema`; `LLMBadOutput` after `max_output_attempts`."""
        conversation = _with_instruction(messages, schema_instruction(schema))
        errors: list[str] = []
        attempts = self.config.max_output_attempts
        for attempt in range(1, attempts + 1):
            payload = {"schema": schema.__name__, "attempt": attempt}
            reply = self._json_call(conversation, agent, experiment, payload)
            parsed = parse_reply(reply.text, schema)
            if not isinstance(parsed, list):
                return parsed
            errors = parsed
            conversation = [
                *conversation,
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": retry_instruction(errors)},
            ]
        raise LLMBadOutput(
            f"no reply validated as {schema.__name__} in {attempts} attempts: {'; '.join(errors)}",
            errors=errors,
            attempts=attempts,
        )

    def _json_call(
        self,
        messages: Messages,
        agent: str,
        experiment: ExperimentKey | None,
        payload: Mapping[str, Any],
    ) -> LLMReply:
        """A call in JSON mode; once a server refuses it, plain calls (the schema still asks)."""
        if self._json_mode:
            try:
                return self._call(messages, agent, experiment, json_mode=True, payload=payload)
            except LLMUnavailable as exc:
                if exc.status != _BAD_REQUEST:
                    raise
                self._json_mode = False
        return self._call(messages, agent, experiment, json_mode=False, payload=payload)

    def _call(
        self,
        messages: Messages,
        agent: str,
        experiment: ExperimentKey | None,
        *,
        json_mode: bool,
        payload: Mapping[str, Any],
    ) -> LLMReply:
        if self.budget is not None:
            self.budget.check(experiment)
        exp_id = None if self.ledger is None else experiment_id(self.ledger, experiment)
        payload = {"json_mode": json_mode, **payload}
        started = time.perf_counter()
        try:
            done = self._backend.complete(messages, json_mode=json_mode)
        except LLMError as exc:
            failed = Completion("", 0, 0)
            self._record(
                messages,
                failed,
                time.perf_counter() - started,
                agent,
                exp_id,
                payload,
                error=str(exc),
            )
            raise
        latency = time.perf_counter() - started
        call_id = self._record(messages, done, latency, agent, exp_id, payload)
        usage = Usage(
            tokens_in=done.tokens_in,
            tokens_out=done.tokens_out,
            cost_usd=self.config.cost_usd(done.tokens_in, done.tokens_out),
        )
        return LLMReply(text=done.text, usage=usage, latency_seconds=latency, call_id=call_id)

    def _record(
        self,
        messages: Messages,
        done: Completion,
        latency: float,
        agent: str,
        experiment: int | None,
        payload: Mapping[str, Any],
        error: str | None = None,
    ) -> int | None:
        if self.ledger is None:
            return None
        call = self.ledger.record_llm_call(
            agent=agent,
            model=self.config.model,
            prompt=render_messages(messages),
            response=done.text,
            tokens_in=done.tokens_in,
            tokens_out=done.tokens_out,
            cost_usd=self.config.cost_usd(done.tokens_in, done.tokens_out),
            latency_seconds=latency,
            experiment=experiment,
            error=error,
            payload=payload,
            secrets=[self.config.api_key.get_secret_value()],
        )
        return call.id


def _with_instruction(messages: Messages, instruction: str) -> Messages:
    """`messages` with `instruction` in the (first) system message: some chat templates
    accept only one."""
    if messages and messages[0]["role"] == "system":
        first = {"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]
