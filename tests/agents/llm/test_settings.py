"""`resolve_llm`: manifest settings, environment overrides, and the errors it explains."""

from __future__ import annotations

import tomllib
from importlib.resources import files

import pytest

from recloop.agents.llm import LLMConfig, LLMConfigError, resolve_llm
from recloop.agents.llm.settings import NO_KEY
from recloop.workspace.manifest import LLMSettings

KEY = "sk-test-0123456789abcdefghij"
OPENAI = LLMSettings(provider="openai", model="qwen", api_key_env="TEAM_LLM_KEY")


def test_provider_none_means_no_llm() -> None:
    assert resolve_llm(LLMSettings(), env={}) is None


def test_manifest_settings_resolve() -> None:
    config = resolve_llm(OPENAI, env={"TEAM_LLM_KEY": KEY})
    assert config is not None
    assert (config.provider, config.model, config.base_url) == ("openai", "qwen", None)
    assert config.api_key.get_secret_value() == KEY
    assert (config.timeout_seconds, config.max_retries, config.max_output_attempts) == (60, 2, 3)
    assert config.max_tokens_per_experiment == 50_000


def test_environment_overrides_the_manifest() -> None:
    env = {
        "RECLOOP_LLM_PROVIDER": "openai",
        "RECLOOP_LLM_BASE_URL": "http://localhost:11434/v1",
        "RECLOOP_LLM_MODEL": "llama3",
        "RECLOOP_LLM_API_KEY_ENV": "OTHER_KEY",
        "OTHER_KEY": KEY,
        "RECLOOP_LLM_UNUSED": "",
    }
    config = resolve_llm(LLMSettings(), env=env)
    assert config is not None
    assert (config.provider, config.model, config.base_url, config.api_key_env) == (
        "openai",
        "llama3",
        "http://localhost:11434/v1",
        "OTHER_KEY",
    )


def test_a_keyless_local_server_gets_a_placeholder() -> None:
    config = resolve_llm(LLMSettings(provider="openai", model="m"), env={})
    assert config is not None and config.api_key.get_secret_value() == NO_KEY


@pytest.mark.parametrize(
    ("settings", "env", "message"),
    [
        (LLMSettings(provider="openai"), {}, "needs a model"),
        (OPENAI, {}, r"names \$TEAM_LLM_KEY, but it is unset"),
        (OPENAI, {"TEAM_LLM_KEY": ""}, r"names \$TEAM_LLM_KEY, but it is unset"),
        (OPENAI, {"RECLOOP_LLM_PROVIDER": "gemini"}, "provider"),
        (OPENAI, {"RECLOOP_LLM_API_KEY_ENV": KEY}, "api_key_env"),
    ],
)
def test_errors_say_what_to_fix(settings: LLMSettings, env: dict[str, str], message: str) -> None:
    with pytest.raises(LLMConfigError, match=message):
        resolve_llm(settings, env=env)


def test_the_key_is_never_shown() -> None:
    config = resolve_llm(OPENAI, env={"TEAM_LLM_KEY": KEY})
    assert config is not None
    for shown in (repr(config), str(config), str(config.model_dump()), config.model_dump_json()):
        assert KEY not in shown
    assert "api_key" not in config.model_dump()


def test_cost_is_tokens_times_price_per_million() -> None:
    config = LLMConfig(provider="openai", model="m", price_in_per_mtok=3, price_out_per_mtok=15)
    assert config.cost_usd(2_000, 1_000) == pytest.approx(0.006 + 0.015)


def test_existing_manifests_still_validate() -> None:
    template = files("recloop.workspace") / "templates" / "movielens" / "recloop.toml"
    section = tomllib.loads(template.read_text(encoding="utf-8"))["llm"]
    assert LLMSettings.model_validate(section).provider == "none"
    old = {
        "provider": "none",
        "model": None,
        "api_key_env": None,
        "max_tokens_per_experiment": 50_000,
        "max_cost_usd": None,
        "temperature": 0.2,
    }
    assert LLMSettings.model_validate(old).max_tokens_per_run is None
