"""Fixtures of the LLM layer's tests: a SQLite ledger, a scripted server, clients wired to both.

Every client speaks to the scripted server through the real `openai` SDK over loopback HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import URL

from recloop.agents.llm import LLMBudget, LLMClient, LLMConfig, ScriptedLLMServer, resolve_llm
from recloop.ledger import Experiment, Ledger
from recloop.workspace.manifest import LLMSettings

KEY_ENV = "RECLOOP_TEST_LLM_KEY"
KEY = "sk-test-0123456789abcdefghij"  # credential-shaped, as a real key would be
MODEL = "scripted-model"


class Idea(BaseModel):
    """The schema structured replies are validated against."""

    title: str
    lift: float


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    url = URL.create("sqlite", database=str(tmp_path / "ledger.db")).render_as_string()
    with Ledger.open(url=url, actor="test") as opened:
        yield opened


def new_experiment(ledger: Ledger, key: str) -> Experiment:
    proposal = ledger.add_proposal(
        f"p-{key}", family="time-decay", title="Decay old interactions", level="L1", source="test"
    )
    return ledger.create_experiment(key, proposal)


@pytest.fixture
def experiment(ledger: Ledger) -> Experiment:
    return new_experiment(ledger, "e-1")


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer() as running:
        yield running


@pytest.fixture
def make_config(server: ScriptedLLMServer) -> Callable[..., LLMConfig]:
    """`make_config(**settings)`: resolved settings for the scripted server (1 $/2 $ per Mtok)."""

    def make(**settings: Any) -> LLMConfig:
        fields: dict[str, Any] = {
            "provider": "openai",
            "model": MODEL,
            "base_url": server.base_url,
            "api_key_env": KEY_ENV,
            "timeout_seconds": 10.0,
            "max_retries": 0,
            "price_in_per_mtok": 1.0,
            "price_out_per_mtok": 2.0,
            **settings,
        }
        config = resolve_llm(LLMSettings(**fields), env={KEY_ENV: KEY})
        assert config is not None
        return config

    return make


@pytest.fixture
def make_client(
    make_config: Callable[..., LLMConfig], ledger: Ledger
) -> Iterator[Callable[..., LLMClient]]:
    """`make_client(budget=None, **settings)`: a client recording into `ledger`, closed after."""
    with ExitStack() as stack:

        def make(budget: LLMBudget | None = None, **settings: Any) -> LLMClient:
            return stack.enter_context(LLMClient(make_config(**settings), ledger, budget))

        yield make
