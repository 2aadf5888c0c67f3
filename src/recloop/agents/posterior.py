"""The family posterior: Thompson sampling over proposal families, learnt from outcomes.

Each family has a Beta posterior on its success rate, success being "passed the offline stage"
(or, with `success="shipped"`, "was launched"). Proposing draws one rate per family and tries
the families in the order of their draws: a family with a better record is tried first more
often, while a family with few outcomes keeps a wide posterior and its chance (Thompson, 1933;
Russo et al., "A Tutorial on Thompson Sampling", 2018). With `discount` below 1 every update
first multiplies all counts by it, so old outcomes fade as the champion moves on (discounted
Thompson sampling, Raj & Kalyani 2017).

The posterior is the non-LLM form of harness evolution: it changes what the agent does from what
happened. It is an immutable, versioned pydantic model: `update` returns the next version,
which the loop writes to the ledger as a playbook version of agent `PLAYBOOK_AGENT` (text: the
posterior as canonical JSON; payload: its outcome counts), so every proposal can be traced to
the posterior that ranked it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents.outcome import Outcome

PLAYBOOK_AGENT = "catalogue-brainstormer"
"""The agent whose playbook versions in the ledger are the family posterior's versions."""


class FamilyRecord(BaseModel):
    """A family's (possibly discounted) successes and failures, and how many outcomes it saw."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    successes: float = Field(default=0.0, ge=0.0)
    failures: float = Field(default=0.0, ge=0.0)
    outcomes: int = Field(default=0, ge=0)


class FamilyPosterior(BaseModel):
    """Beta(prior_alpha + successes, prior_beta + failures) per family; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(default=0, ge=0)
    prior_alpha: float = Field(default=1.0, gt=0.0)
    prior_beta: float = Field(default=1.0, gt=0.0)
    discount: float = Field(default=1.0, gt=0.0, le=1.0)
    success: Literal["offline", "shipped"] = "offline"
    families: dict[str, FamilyRecord] = Field(default_factory=dict)

    def record(self, family: str) -> FamilyRecord:
        return self.families.get(family, FamilyRecord())

    def alpha(self, family: str) -> float:
        return self.prior_alpha + self.record(family).successes

    def beta(self, family: str) -> float:
        return self.prior_beta + self.record(family).failures

    def mean(self, family: str) -> float:
        """The posterior mean success rate."""
        a, b = self.alpha(family), self.beta(family)
        return a / (a + b)

    def succeeded(self, outcome: Outcome) -> bool:
        return outcome.shipped if self.success == "shipped" else outcome.passed_offline

    def update(self, family: str, outcome: Outcome) -> FamilyPosterior:
        """The next version, with the outcome counted (and every count discounted first)."""
        families = {
            name: FamilyRecord(
                successes=r.successes * self.discount,
                failures=r.failures * self.discount,
                outcomes=r.outcomes,
            )
            for name, r in self.families.items()
        }
        old = families.get(family, FamilyRecord())
        won = self.succeeded(outcome)
        families[family] = FamilyRecord(
            successes=old.successes + won,
            failures=old.failures + (not won),
            outcomes=old.outcomes + 1,
        )
        return self.model_copy(update={"version": self.version + 1, "families": families})

    def canonical_json(self) -> str:
        """Sorted keys, no spaces: equal posteriors give equal text (and one ledger version)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def counts(self) -> dict[str, Any]:
        """The outcome counts, in total and per family (the ledger version's payload)."""
        records = self.families.values()
        return {
            "outcomes": sum(r.outcomes for r in records),
            "successes": sum(r.successes for r in records),
            "failures": sum(r.failures for r in records),
            "families": {name: r.model_dump() for name, r in sorted(self.families.items())},
        }

    @property
    def success_rate(self) -> float:
        """Successes over (discounted) outcomes, all families pooled; 0 before any outcome."""
        counts = self.counts()
        seen = counts["successes"] + counts["failures"]
        return counts["successes"] / seen if seen else 0.0

    def draw(self, families: Iterable[str], rng: random.Random) -> dict[str, float]:
        """One Thompson draw of every family's success rate."""
        return {f: rng.betavariate(self.alpha(f), self.beta(f)) for f in families}

    def rank(self, families: Iterable[str], rng: random.Random) -> list[tuple[str, float]]:
        """Families by one Thompson draw each, highest first (ties: the given order)."""
        draws = self.draw(list(families), rng)
        return sorted(draws.items(), key=lambda item: -item[1])
