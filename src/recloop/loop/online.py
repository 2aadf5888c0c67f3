"""The online stage's seam: one A/B test of the candidate against the champion.

`OnlineEvaluator` is the port the loop calls: an `OnlineRequest` (the champion's and the
candidate's checkouts, the manifest's online settings, a summary of the change) in, an
`OnlineResult` (the pre-registered decision, the primary metric's lift, the report) out.
`agent_evaluator()` returns the real one, the Evaluation agent (`recloop.agents.evaluate`) on
the simulator; tests use a scripted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from recloop.workspace.manifest import Manifest, OnlineSettings

Decision = Literal["ship", "no_ship", "inconclusive"]


@dataclass(frozen=True)
class OnlineRequest:
    """What one online test compares, and how."""

    experiment: str
    champion: Path  # a clean checkout of the champion's commit
    candidate: Path  # the candidate's worktree
    manifest: Manifest
    settings: OnlineSettings
    change_summary: str
    hidden_paths: tuple[Path, ...] = ()
    data_root: Path | None = None


@dataclass(frozen=True)
class OnlineResult:
    """The online test's outcome as the loop records it."""

    decision: Decision
    report: str  # the attribution report, for people
    primary_metric: str = ""
    primary_lift: float | None = None  # relative lift of the primary metric, treatment vs control
    metrics: dict[str, float] = field(default_factory=dict)  # treatment-minus-control effects
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class OnlineEvaluator(Protocol):
    """The online port: one test, one decision."""

    def evaluate(self, request: OnlineRequest) -> OnlineResult: ...


class OnlineUnavailableError(RuntimeError):
    """No online evaluator can run here (the Evaluation agent is missing)."""


def agent_evaluator() -> OnlineEvaluator:
    """The Evaluation agent on the simulator, behind the `OnlineEvaluator` port."""
    try:
        from recloop.loop._agent_online import AgentOnlineEvaluator
    except ImportError as exc:  # the agent module is not there
        raise OnlineUnavailableError(
            f"the online Evaluation agent is not available ({exc}); the loop cannot test online"
        ) from exc
    return AgentOnlineEvaluator()
