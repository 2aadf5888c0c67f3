"""`LLMBudget`: checked before each call, from the usage the ledger holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from recloop.agents.llm import (
    BudgetExhausted,
    BudgetRemaining,
    LLMBudget,
    LLMClient,
    LLMConfig,
    ScriptedLLMServer,
    ScriptedReply,
)
from recloop.ledger import Experiment, Ledger

from .conftest import new_experiment

ASK = [{"role": "user", "content": "Propose one idea."}]


def reply(tokens_in: int, tokens_out: int) -> ScriptedReply:
    return ScriptedReply(content="ok", tokens_in=tokens_in, tokens_out=tokens_out)


def test_experiment_budget_stops_the_next_call_before_any_request(
    make_client: Callable[..., LLMClient],
    make_config: Callable[..., LLMConfig],
    server: ScriptedLLMServer,
    ledger: Ledger,
    experiment: Experiment,
) -> None:
    budget = LLMBudget.from_config(ledger, make_config(max_tokens_per_experiment=100))
    client = make_client(budget=budget)
    server.push(reply(80, 30), reply(1, 1))
    client.chat(ASK, agent="brainstorm", experiment="e-1")  # 110 tokens: crosses the limit
    with pytest.raises(BudgetExhausted) as caught:
        client.chat(ASK, agent="brainstorm", experiment="e-1")
    assert (caught.value.budget, caught.value.used, caught.value.limit) == (
        "tokens per experiment",
        110,
        100,
    )
    assert "tokens per experiment" in str(caught.value) and "110 of 100" in str(caught.value)
    assert len(server.requests) == 1 and server.pending == 1
    assert len(ledger.llm_calls()) == 1
    other = new_experiment(ledger, "e-2")  # another experiment has its own budget
    assert client.chat(ASK, agent="brainstorm", experiment=other).text == "ok"


def test_run_budget_counts_only_calls_since_the_run_started(
    make_client: Callable[..., LLMClient], server: ScriptedLLMServer, ledger: Ledger
) -> None:
    ledger.record_llm_call(
        agent="brainstorm",
        model="m",
        prompt="p",
        response="r",
        tokens_in=900,
        tokens_out=100,
        cost_usd=0.0,
        latency_seconds=0.1,
    )  # an earlier run's call
    budget = LLMBudget(ledger, max_tokens_per_run=500, run_started=datetime.now(UTC))
    assert budget.remaining() == BudgetRemaining(
        experiment_tokens=None, run_tokens=500, run_cost_usd=None
    )
    client = make_client(budget=budget)
    server.push(reply(300, 100), reply(100, 50))
    client.chat(ASK, agent="brainstorm")
    assert budget.remaining().run_tokens == 100
    client.chat(ASK, agent="develop")
    assert budget.remaining().run_tokens == 0
    with pytest.raises(BudgetExhausted, match="tokens per run"):
        client.chat(ASK, agent="develop")
    assert len(server.requests) == 2


def test_cost_budget_uses_the_configured_prices(
    make_client: Callable[..., LLMClient], server: ScriptedLLMServer, ledger: Ledger
) -> None:
    budget = LLMBudget(ledger, max_cost_usd=0.001)
    client = make_client(budget=budget)  # 1 $ in, 2 $ out per million tokens
    server.push(reply(500, 300))
    client.chat(ASK, agent="brainstorm")  # 0.0005 + 0.0006 USD
    assert budget.remaining().run_cost_usd == 0
    with pytest.raises(BudgetExhausted) as caught:
        client.chat(ASK, agent="brainstorm")
    assert caught.value.budget == "cost per run (USD)"
    assert caught.value.used == pytest.approx(0.0011)


def test_remaining_per_experiment(ledger: Ledger, experiment: Experiment) -> None:
    ledger.record_llm_call(
        agent="develop",
        model="m",
        prompt="p",
        response="r",
        tokens_in=30,
        tokens_out=12,
        cost_usd=0.0,
        latency_seconds=0.1,
        experiment=experiment,
    )
    budget = LLMBudget(ledger, max_tokens_per_experiment=100)
    assert budget.remaining("e-1").experiment_tokens == 58
    assert budget.remaining(experiment.id).run_tokens is None
    budget.check("e-1")  # within every budget: no error
