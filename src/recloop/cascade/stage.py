"""The one interface every cascade stage implements, and how a stage measures what it spent.

A stage is an object with a `name` (its `Stage` literal) and `run(candidate, context)`, which
returns a `Verdict` and never raises for anything the candidate did: a candidate's failure is a
rejection with a cause code, recloop's own failure an `error` verdict. Stages talk to each other
only through git: the structural stage commits the candidate to its worktree, the others find it
there by name, so the loop may run them one at a time, in separate processes, and resume.
"""

from __future__ import annotations

import resource
import time
from typing import TYPE_CHECKING, Protocol

from recloop.cascade.verdict import Cost, Evidence, Outcome, Verdict
from recloop.workspace.manifest import Stage as StageName

if TYPE_CHECKING:
    from recloop.cascade.context import CascadeContext
    from recloop.cascade.submission import Submission


class Stage(Protocol):
    """A verification stage: a name and a verdict on one candidate in one context."""

    @property
    def name(self) -> StageName: ...

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        """Judge the candidate; reject with a cause code, never raise for its faults."""
        ...


class StageClock:
    """Wall-clock and CPU seconds since creation: this process plus its finished children.

    Children count once they have been waited for (every sandboxed run and git call is), so a
    stage's CPU time includes the sandboxed code it ran. Stages of one process run one at a time.
    """

    def __init__(self, stage: StageName, budget_seconds: float | None = None) -> None:
        self.stage = stage
        self.budget_seconds = budget_seconds
        self._wall = time.perf_counter()
        self._cpu = _cpu_now()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._wall

    @property
    def remaining(self) -> float:
        """Wall seconds left of the stage's budget (infinite without one)."""
        if self.budget_seconds is None:
            return float("inf")
        return self.budget_seconds - self.elapsed

    def cost(self) -> Cost:
        return Cost(wall_seconds=self.elapsed, cpu_seconds=max(0.0, _cpu_now() - self._cpu))

    def verdict(
        self, outcome: Outcome, cause: str, sentence: str, evidence: Evidence | None = None
    ) -> Verdict:
        """A verdict of this stage, costed up to now."""
        return Verdict(
            stage=self.stage,
            outcome=outcome,
            cause=cause,
            sentence=sentence,
            evidence=evidence or Evidence(),
            cost=self.cost(),
        )

    def reject(self, cause: str, sentence: str, evidence: Evidence | None = None) -> Verdict:
        return self.verdict("reject", cause, sentence, evidence)

    def passed(self, cause: str, sentence: str, evidence: Evidence | None = None) -> Verdict:
        return self.verdict("pass", cause, sentence, evidence)

    def error(self, cause: str, sentence: str, evidence: Evidence | None = None) -> Verdict:
        return self.verdict("error", cause, sentence, evidence)


def _cpu_now() -> float:
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime
