"""What became of a proposal: the facts the non-LLM agents learn from.

The loop builds one `Outcome` per finished experiment from the cascade's verdicts and the
decision: how far it got, the primary metric's improvement the offline stage measured (higher
is better, whatever the metric's direction), whether the guardrails held there, and whether it
shipped. The family posterior counts successes; the parameter search takes the value.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from recloop.cascade.causes import HARNESS_ERROR

# Closing causes that say nothing about the idea: recloop failed inside (a step's error, the
# checks unable to judge), the LLM was unusable, or a budget ran out. Nothing learns from them.
NOT_THE_IDEAS_FAULT: Final = frozenset(
    {HARNESS_ERROR, "budget-exhausted", "llm-failed", "check-failed"}
)

Reached = Literal[
    "forbidden", "develop", "structural", "semantic", "local", "offline", "online", "shipped"
]


class Outcome(BaseModel):
    """One experiment's result, as far as the agents care."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reached: Reached  # the last stage it entered ("shipped": launched)
    passed_offline: bool = False
    shipped: bool = False
    improvement: float | None = None  # primary metric, candidate minus champion, offline
    feasible: bool = True  # the offline guardrails held
    failure: str | None = None  # the cause code where it stopped, when it did not pass

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        if self.shipped and not self.passed_offline:
            raise ValueError("a shipped change passed the offline stage")
        if self.shipped != (self.reached == "shipped"):
            raise ValueError("shipped is exactly reached == 'shipped'")
        return self

    @classmethod
    def failed(cls, reached: Reached, cause: str) -> Outcome:
        """Stopped at `reached` for `cause`, before any offline measurement."""
        return cls(reached=reached, failure=cause)

    @classmethod
    def measured(
        cls, improvement: float, *, passed: bool, feasible: bool = True, shipped: bool = False
    ) -> Outcome:
        """Measured offline; `passed` whether it went on (and `shipped` whether it launched)."""
        reached: Reached = "shipped" if shipped else ("online" if passed else "offline")
        return cls(
            reached=reached,
            passed_offline=passed,
            shipped=shipped,
            improvement=improvement,
            feasible=feasible,
            failure=None if passed else "offline-rejected",
        )
