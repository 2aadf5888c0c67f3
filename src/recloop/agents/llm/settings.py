"""The LLM settings in force: the manifest's `[llm]` section, overridden by the environment.

An operator points a workspace at another endpoint without editing its manifest (which is
protected from agents) by setting `RECLOOP_LLM_PROVIDER`, `RECLOOP_LLM_BASE_URL`,
`RECLOOP_LLM_MODEL` or `RECLOOP_LLM_API_KEY_ENV`. The key is read from the variable
`api_key_env` names and lives only in the resolved `LLMConfig`, hidden from repr and dumps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from recloop.agents.llm.errors import LLMConfigError
from recloop.workspace.manifest import LLMSettings

ENV_OVERRIDES: dict[str, str] = {
    "RECLOOP_LLM_PROVIDER": "provider",
    "RECLOOP_LLM_BASE_URL": "base_url",
    "RECLOOP_LLM_MODEL": "model",
    "RECLOOP_LLM_API_KEY_ENV": "api_key_env",
}
NO_KEY = "no-key"  # sent to endpoints that need none (a local vLLM, Ollama, llama.cpp server)


class LLMConfig(BaseModel):
    """Resolved, ready-to-use LLM settings (see `resolve_llm`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal["openai", "anthropic"]
    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: SecretStr = Field(default=SecretStr(NO_KEY), exclude=True, repr=False)
    timeout_seconds: float = Field(default=60.0, gt=0.0)
    max_retries: int = Field(default=2, ge=0)
    max_output_attempts: int = Field(default=3, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    price_in_per_mtok: float = Field(default=0.0, ge=0.0)
    price_out_per_mtok: float = Field(default=0.0, ge=0.0)
    max_tokens_per_experiment: int | None = Field(default=None, ge=1)
    max_tokens_per_run: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0.0)

    def cost_usd(self, tokens_in: int, tokens_out: int) -> float:
        """What a call costs at the configured prices (USD per million tokens)."""
        return (tokens_in * self.price_in_per_mtok + tokens_out * self.price_out_per_mtok) / 1e6


def resolve_llm(settings: LLMSettings, env: Mapping[str, str] = os.environ) -> LLMConfig | None:
    """The settings in force, or None when the provider is `none` (the non-LLM agents run)."""
    overrides = {field: env[name] for name, field in ENV_OVERRIDES.items() if env.get(name)}
    try:
        merged = LLMSettings.model_validate({**settings.model_dump(), **overrides})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise LLMConfigError(
            f"invalid LLM settings (manifest [llm] or RECLOOP_LLM_*): {problems}"
        ) from None
    if merged.provider == "none":
        return None
    if not merged.model:
        raise LLMConfigError(
            f"LLM provider {merged.provider!r} needs a model: set [llm] model in recloop.toml "
            "or RECLOOP_LLM_MODEL"
        )
    fields = merged.model_dump(exclude={"provider", "model"})
    return LLMConfig(
        provider=merged.provider, model=merged.model, api_key=_api_key(merged, env), **fields
    )


def _api_key(settings: LLMSettings, env: Mapping[str, str]) -> SecretStr:
    """The key from the variable the settings name; a placeholder when none is named."""
    if settings.api_key_env is None:
        return SecretStr(NO_KEY)
    key = env.get(settings.api_key_env)
    if not key:
        raise LLMConfigError(
            f"[llm] api_key_env names ${settings.api_key_env}, but it is unset or empty; "
            "export the key in that variable (or name none for a local server without keys)"
        )
    return SecretStr(key)
