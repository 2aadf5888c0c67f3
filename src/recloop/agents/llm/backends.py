"""The wire to a model: one small adapter per provider SDK behind the `Backend` protocol.

`OpenAIBackend` speaks to any OpenAI-compatible endpoint through the official `openai` SDK;
`AnthropicBackend` uses the `anthropic` SDK (the optional extra `recloop[anthropic]`, imported
only when chosen). Both turn the SDK's errors into the layer's (`errors`); the SDK does the
transport retries with backoff (`max_retries`), so one `complete` is one logical call.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from recloop.agents.llm.errors import LLMConfigError, LLMTimeout, LLMUnavailable
from recloop.agents.llm.settings import LLMConfig

Messages = list[dict[str, str]]
_ANTHROPIC_MAX_TOKENS = 4096  # Anthropic's API requires a cap; used when none is configured


@dataclass(frozen=True, slots=True)
class Completion:
    """What a provider answered: the text and the tokens it counted."""

    text: str
    tokens_in: int
    tokens_out: int


class Backend(Protocol):
    def complete(self, messages: Messages, *, json_mode: bool) -> Completion: ...

    def close(self) -> None: ...


def make_backend(config: LLMConfig) -> Backend:
    """The adapter for the configured provider."""
    if config.provider == "anthropic":
        return AnthropicBackend(config)
    return OpenAIBackend(config)


def _translated(exc: Exception, sdk: Any) -> Exception:
    """The SDK's error as the layer's (both SDKs name their errors alike)."""
    if isinstance(exc, sdk.APITimeoutError):
        return LLMTimeout(f"no answer from the LLM endpoint in time: {exc}")
    if isinstance(exc, sdk.APIStatusError):
        return LLMUnavailable(
            f"the LLM endpoint answered HTTP {exc.status_code}: {exc.message}",
            status=exc.status_code,
        )
    if isinstance(exc, sdk.APIError):
        return LLMUnavailable(f"the LLM endpoint could not be used: {exc}")
    return exc


class OpenAIBackend:
    """Chat completions on an OpenAI-compatible endpoint."""

    def __init__(self, config: LLMConfig) -> None:
        self._config = config
        self._client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value(),
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
        )

    def complete(self, messages: Messages, *, json_mode: bool) -> Completion:
        extra: dict[str, Any] = {}
        if json_mode:
            extra["response_format"] = {"type": "json_object"}
        if self._config.max_output_tokens is not None:
            extra["max_tokens"] = self._config.max_output_tokens
        try:
            reply = self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,  # type: ignore[arg-type]  # role/content dicts, as sent
                temperature=self._config.temperature,
                **extra,
            )
        except openai.OpenAIError as exc:
            raise _translated(exc, openai) from exc
        if not reply.choices:
            raise LLMUnavailable("the LLM endpoint answered with no choices")
        usage = reply.usage
        return Completion(
            text=reply.choices[0].message.content or "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
        )

    def close(self) -> None:
        self._client.close()


class AnthropicBackend:
    """Anthropic's Messages API; system messages go to its `system` parameter."""

    def __init__(self, config: LLMConfig) -> None:
        try:
            self._sdk: Any = importlib.import_module("anthropic")
        except ImportError as exc:
            raise LLMConfigError(
                "provider 'anthropic' needs the anthropic package: pip install 'recloop[anthropic]'"
            ) from exc
        self._config = config
        self._client = self._sdk.Anthropic(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value(),
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
        )

    def complete(self, messages: Messages, *, json_mode: bool) -> Completion:
        """`json_mode` has no Anthropic switch: the schema in the system prompt asks for JSON."""
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        turns = [m for m in messages if m["role"] != "system"]
        try:
            reply = self._client.messages.create(
                model=self._config.model,
                system=system,
                messages=turns,
                temperature=self._config.temperature,
                max_tokens=self._config.max_output_tokens or _ANTHROPIC_MAX_TOKENS,
            )
        except self._sdk.AnthropicError as exc:
            raise _translated(exc, self._sdk) from exc
        text = "".join(block.text for block in reply.content if block.type == "text")
        return Completion(text, reply.usage.input_tokens, reply.usage.output_tokens)

    def close(self) -> None:
        self._client.close()
