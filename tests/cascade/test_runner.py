"""The runner: stages in order, the first rejection stops, a crashing stage is an error."""

from __future__ import annotations

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.runner import default_stages, run_cascade
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import Verdict
from recloop.workspace.manifest import Stage as StageName

CANDIDATE = Submission(name="x", patch="--- a/a.py\n+++ b/a.py\n", proposal_family="f")


class Scripted:
    """A stage that answers what it is told, and records that it ran."""

    def __init__(self, name: StageName, outcome: str, cause: str, log: list[str]) -> None:
        self.name = name
        self.outcome, self.cause, self.log = outcome, cause, log

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        self.log.append(self.name)
        if self.cause == "boom":
            raise RuntimeError("boom")
        return StageClock(self.name).verdict(self.outcome, self.cause, "scripted")  # type: ignore[arg-type]


def _stages(log: list[str], *script: tuple[StageName, str, str]) -> list[Scripted]:
    return [Scripted(name, outcome, cause, log) for name, outcome, cause in script]


PASSING: list[tuple[StageName, str, str]] = [
    ("structural", "pass", causes.PASSED),
    ("semantic", "pass", causes.PASSED),
    ("local", "pass", causes.PASSED),
    ("offline", "pass", causes.PROMISING),
    ("online", "pending", causes.PENDING_ONLINE),
]


def test_default_stages_are_in_order() -> None:
    assert [s.name for s in default_stages()] == list(causes.REJECT_CAUSES)


def test_a_good_candidate_goes_through_every_stage(example_context: CascadeContext) -> None:
    log: list[str] = []
    result = run_cascade(CANDIDATE, example_context, _stages(log, *PASSING))
    assert log == [s for s, _, _ in PASSING] and result.outcome == "pending-online"
    assert result.proposal_family == "f" and result.changed_files == ["a.py"]


def test_the_first_rejection_stops_the_run(example_context: CascadeContext) -> None:
    log: list[str] = []
    script = [*PASSING[:1], ("semantic", "reject", causes.SEEN_ITEMS), *PASSING[2:]]
    seen: list[str] = []
    result = run_cascade(
        CANDIDATE, example_context, _stages(log, *script), on_verdict=lambda v: seen.append(v.cause)
    )
    assert log == ["structural", "semantic"] and seen == [causes.PASSED, causes.SEEN_ITEMS]
    assert result.outcome == "rejected" and result.rejection is not None


def test_not_promising_stops_before_the_online_slot(example_context: CascadeContext) -> None:
    log: list[str] = []
    script = [*PASSING[:3], ("offline", "pass", causes.NOT_PROMISING), PASSING[4]]
    result = run_cascade(CANDIDATE, example_context, _stages(log, *script))
    assert log[-1] == "offline" and result.outcome == "not-promising"


def test_a_stage_that_raises_is_an_error_never_a_pass(example_context: CascadeContext) -> None:
    log: list[str] = []
    script = [*PASSING[:2], ("local", "pass", "boom"), *PASSING[3:]]
    result = run_cascade(CANDIDATE, example_context, _stages(log, *script))
    assert result.outcome == "error" and result.last.cause == causes.HARNESS_ERROR
    assert (
        "RuntimeError('boom')" in result.last.sentence and "boom" in result.last.evidence.log_tail
    )
