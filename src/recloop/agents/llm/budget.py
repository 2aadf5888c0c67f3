"""Token and cost budgets, checked against the ledger before every LLM call.

Three budgets, each optional: tokens per experiment (the calls recorded for it), tokens per run
and USD per run (the calls recorded since `run_started`, by the ledger's clock; the whole
ledger when no start is given). Usage is read from the ledger, so parallel workers and resumed
runs share one account. A check happens before a call, so the call that crosses a limit
completes and the next one is refused.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from recloop.agents.llm.errors import BudgetExhausted
from recloop.agents.llm.settings import LLMConfig
from recloop.ledger import Experiment, Ledger
from recloop.ledger.errors import NotFoundError

ExperimentKey = int | Experiment | str  # an id, a record, or the key the ledger knows it by


class BudgetRemaining(BaseModel):
    """What is left of each budget; None where there is no limit (or no experiment given)."""

    experiment_tokens: int | None
    run_tokens: int | None
    run_cost_usd: float | None


def experiment_id(ledger: Ledger, experiment: ExperimentKey | None) -> int | None:
    """The experiment's id; a key is looked up (NotFoundError when the ledger has none)."""
    if experiment is None or isinstance(experiment, int):
        return experiment
    if isinstance(experiment, Experiment):
        return experiment.id
    found = ledger.find_experiment(experiment)
    if found is None:
        raise NotFoundError("experiment", experiment)
    return found.id


class LLMBudget:
    """The limits on what LLM calls may spend (see the module docstring)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        max_tokens_per_experiment: int | None = None,
        max_tokens_per_run: int | None = None,
        max_cost_usd: float | None = None,
        run_started: datetime | None = None,
    ) -> None:
        self.ledger = ledger
        self.max_tokens_per_experiment = max_tokens_per_experiment
        self.max_tokens_per_run = max_tokens_per_run
        self.max_cost_usd = max_cost_usd
        self.run_started = run_started

    @classmethod
    def from_config(
        cls, ledger: Ledger, config: LLMConfig, run_started: datetime | None = None
    ) -> LLMBudget:
        """The budgets the resolved settings set."""
        return cls(
            ledger,
            max_tokens_per_experiment=config.max_tokens_per_experiment,
            max_tokens_per_run=config.max_tokens_per_run,
            max_cost_usd=config.max_cost_usd,
            run_started=run_started,
        )

    def _used(self, experiment: ExperimentKey | None) -> tuple[int | None, int, float]:
        """Tokens of the experiment (None without one), tokens and cost of the run."""
        exp_id = experiment_id(self.ledger, experiment)
        run = self.ledger.llm_usage(since=self.run_started)
        exp_tokens = None
        if exp_id is not None:
            usage = self.ledger.llm_usage(experiment=exp_id)
            exp_tokens = usage.tokens_in + usage.tokens_out
        return exp_tokens, run.tokens_in + run.tokens_out, run.cost_usd

    def _figures(self, experiment: ExperimentKey | None) -> list[tuple[str, float, float | None]]:
        """(budget name, used, limit) for each budget that applies."""
        exp_tokens, run_tokens, run_cost = self._used(experiment)
        figures: list[tuple[str, float, float | None]] = [
            ("tokens per run", run_tokens, self.max_tokens_per_run),
            ("cost per run (USD)", run_cost, self.max_cost_usd),
        ]
        if exp_tokens is not None:
            figures.insert(0, ("tokens per experiment", exp_tokens, self.max_tokens_per_experiment))
        return figures

    def check(self, experiment: ExperimentKey | None = None) -> None:
        """Raise `BudgetExhausted` when a budget that applies is spent."""
        for budget, used, limit in self._figures(experiment):
            if limit is not None and used >= limit:
                raise BudgetExhausted(budget, used=used, limit=limit)

    def remaining(self, experiment: ExperimentKey | None = None) -> BudgetRemaining:
        exp_tokens, run_tokens, run_cost = self._used(experiment)

        def left(used: float | None, limit: float | None) -> float | None:
            return None if used is None or limit is None else max(limit - used, 0)

        exp_left = left(exp_tokens, self.max_tokens_per_experiment)
        run_left = left(run_tokens, self.max_tokens_per_run)
        return BudgetRemaining(
            experiment_tokens=None if exp_left is None else int(exp_left),
            run_tokens=None if run_left is None else int(run_left),
            run_cost_usd=left(run_cost, self.max_cost_usd),
        )
