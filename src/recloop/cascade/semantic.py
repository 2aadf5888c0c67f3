"""Stage 2, semantic: does the candidate still behave like a recommender? Checked by running it.

On the candidate's committed worktree, within the manifest's semantic budget (wall-clock for
the whole stage; memory per run), the first failure rejecting:

1. the interface is unchanged (`interface`, from the AST: nothing runs);
2. recloop's contract checks on a small sample pass (`probe`: shape, valid ids, no duplicates,
   seen items excluded, no NaN from numpy, deterministic, cold-start users answered);
3. the workspace's own test suite passes (`testsuite`).

recloop's checks come before the team's tests: they are cheaper and name the broken rule
precisely; the tests then catch what only the team knows about its code.
"""

from __future__ import annotations

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.interface import check_interface
from recloop.cascade.probe import contract_check
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.testsuite import run_test_suite
from recloop.cascade.verdict import Evidence, Verdict
from recloop.workspace.manifest import Stage as StageName


class SemanticStage:
    """Stage 2 (see the module docstring)."""

    name: StageName = "semantic"

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        clock = StageClock(self.name, context.manifest.budgets.semantic.wall_seconds)
        worktree = context.worktree(candidate.name)
        if worktree is None:
            return clock.error(
                causes.NOT_MATERIALIZED,
                f"No worktree for candidate {candidate.name!r}: run the structural stage first.",
            )
        problems = check_interface(worktree, context.manifest)
        if problems:
            entry = context.manifest.recommender.entry_point
            return clock.reject(
                causes.INTERFACE_CHANGED,
                f"The entry point {entry} no longer gives recloop's interface: {problems[0]}.",
                Evidence(locations=problems),
            )
        contract = contract_check(worktree, context, clock.remaining)
        if contract.cause is not None:
            return clock.reject(contract.cause, contract.sentence, contract.evidence)
        if clock.remaining <= 0:
            return clock.reject(
                causes.TESTS_TIMEOUT,
                "The contract checks used the whole semantic budget; the test suite could not run.",
                contract.evidence,
            )
        tests = run_test_suite(worktree, context, clock.remaining)
        if tests.cause is not None:
            return clock.reject(tests.cause, tests.sentence, tests.evidence)
        details = {"contract": contract.evidence.details, "tests": tests.evidence.details}
        return clock.passed(
            causes.PASSED, f"{contract.sentence} {tests.sentence}", Evidence(details=details)
        )
