"""The provider adapters: what can be checked without a provider's server."""

from __future__ import annotations

import importlib.util

import pytest

from recloop.agents.llm import LLMConfig, LLMConfigError
from recloop.agents.llm.backends import OpenAIBackend, make_backend


@pytest.mark.skipif(
    importlib.util.find_spec("anthropic") is not None, reason="the anthropic extra is installed"
)
def test_anthropic_without_its_package_says_how_to_install() -> None:
    config = LLMConfig(provider="anthropic", model="claude-x")
    with pytest.raises(LLMConfigError, match=r"pip install 'recloop\[anthropic\]'"):
        make_backend(config)


def test_openai_provider_gets_the_openai_adapter() -> None:
    backend = make_backend(
        LLMConfig(provider="openai", model="m", base_url="http://127.0.0.1:9/v1")
    )
    try:
        assert isinstance(backend, OpenAIBackend)
    finally:
        backend.close()
