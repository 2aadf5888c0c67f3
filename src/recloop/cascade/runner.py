"""Run the cascade: the stages in order, stopping at the first verdict that ends it.

A run stops at a rejection, at an error (recloop could not judge: the candidate is not blamed),
and after the offline stage when the candidate is not promising. A stage that raises is turned
into an `error` verdict (`harness-error`) with the exception, so a bug in recloop never passes
a candidate.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.local import LocalStage
from recloop.cascade.offline import OfflineStage
from recloop.cascade.online import OnlineSlot
from recloop.cascade.semantic import SemanticStage
from recloop.cascade.stage import Stage, StageClock
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import CascadeResult, Evidence, Verdict

StageCallback = Callable[[Verdict], None]


def default_stages() -> tuple[Stage, ...]:
    """Structural, semantic, local, offline, online: cheapest first."""
    return (StructuralStage(), SemanticStage(), LocalStage(), OfflineStage(), OnlineSlot())


def run_cascade(
    candidate: Submission,
    context: CascadeContext,
    stages: Sequence[Stage] | None = None,
    on_verdict: StageCallback | None = None,
) -> CascadeResult:
    """Judge one candidate with every stage in order (see the module docstring)."""
    verdicts: list[Verdict] = []
    for stage in stages if stages is not None else default_stages():
        verdict = run_stage(stage, candidate, context)
        verdicts.append(verdict)
        if on_verdict is not None:
            on_verdict(verdict)
        if verdict.stops:
            break
    commit = next(
        (v.evidence.details.get("commit") for v in verdicts if v.stage == "structural"), None
    )
    return CascadeResult(
        candidate=candidate.name,
        changed_files=candidate.changed_files,
        verdicts=verdicts,
        commit=commit if isinstance(commit, str) else None,
        proposal_family=candidate.proposal_family,
        proposal_params=candidate.proposal_params,
    )


def run_stage(stage: Stage, candidate: Submission, context: CascadeContext) -> Verdict:
    """One stage's verdict; an exception escaping the stage becomes a `harness-error`."""
    clock = StageClock(stage.name)
    try:
        return stage.run(candidate, context)
    except Exception as exc:  # a bug or an environment failure in recloop, never a pass
        return clock.error(
            causes.HARNESS_ERROR,
            f"The {stage.name} stage failed inside recloop: {exc!r}.",
            Evidence(log_tail=traceback.format_exc()[-3000:]),
        )
