"""The workspace's own test suite, run in the candidate's worktree inside the sandbox.

`python -m pytest -q` as the team runs it (their configuration, their protected tests), with
the sandbox's denials and the semantic stage's limits: no network, the data hidden, a scrubbed
environment, the worktree read-only, a wall-clock deadline and a memory limit. pytest's exit code
decides: 0 passes, 5 (no test collected) passes with a note, 1 is `tests-failed` with the
failing tests as evidence, a timeout is `tests-timeout`, anything else `tests-error`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.verdict import Evidence, Location
from recloop.workspace.sandbox_command import CommandResult, python_command, run_command

PYTEST_ARGS = ("-m", "pytest", "-q", "--tb=short", "-rfE", "--color=no", "--no-header")
NO_TESTS_COLLECTED = 5
_FAILED = re.compile(r"^(?:FAILED|ERROR) (?P<path>[^\s:]+)(?:::(?P<test>\S+))?(?: - (?P<msg>.*))?$")
_CODE_LINE = re.compile(r"^(?P<path>[\w./-]+\.py):(?P<line>\d+): (?P<msg>.*)$")


@dataclass
class TestRun:
    """What the suite said: a cause code (None when it passed), a sentence, the evidence."""

    cause: str | None
    sentence: str
    evidence: Evidence = field(default_factory=Evidence)


def run_test_suite(worktree: Path, context: CascadeContext, wall_seconds: float) -> TestRun:
    """Run the suite (see the module docstring) and judge its exit."""
    result = run_command(
        worktree,
        python_command(*PYTEST_ARGS, flags=("-s", "-B")),  # as `python -m pytest` from the root
        context.limits("semantic", wall_seconds),
        hidden_paths=context.hidden_paths,
        isolate=context.settings.isolate,
    )
    return judge_tests(result)


def judge_tests(result: CommandResult) -> TestRun:
    log = result.stdout_tail + result.stderr_tail
    summary = _summary_line(result.stdout_tail)
    details = {"sandbox": result.status, "exit_code": result.exit_code, "summary": summary}
    evidence = Evidence(locations=failure_locations(log), log_tail=log[-3000:], details=details)
    if result.status == "timeout":
        return TestRun(
            causes.TESTS_TIMEOUT, f"The test suite was stopped: {result.detail}.", evidence
        )
    if result.exit_code == 0:
        return TestRun(None, f"The workspace's test suite passed ({summary}).", evidence)
    if result.exit_code == NO_TESTS_COLLECTED:
        return TestRun(None, "The workspace has no tests to run (none collected).", evidence)
    if result.exit_code == 1:
        failed = [loc for loc in evidence.locations if "::" in loc.message or loc.line is None]
        first = f": {failed[0].message}" if failed else ""
        return TestRun(causes.TESTS_FAILED, f"The test suite failed ({summary}){first}.", evidence)
    return TestRun(
        causes.TESTS_ERROR,
        f"The test suite could not run ({result.detail}; {summary or 'no summary'}).",
        evidence,
    )


def _summary_line(stdout: str) -> str:
    """pytest's last line ("1 failed, 36 passed in 1.11s"), without decoration."""
    lines = [line.strip(" =") for line in stdout.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def failure_locations(log: str) -> list[Location]:
    """Failing tests (FAILED/ERROR lines) first, then the code lines their tracebacks name."""
    tests: list[Location] = []
    lines: list[Location] = []
    for raw in log.splitlines():
        match = _FAILED.match(raw.strip())
        if match:
            test = f"{match['path']}::{match['test']}" if match["test"] else match["path"]
            message = f"{test} - {match['msg']}" if match["msg"] else test
            tests.append(Location(path=match["path"], message=message))
            continue
        match = _CODE_LINE.match(raw.strip())
        if match:
            loc = Location(path=match["path"], line=int(match["line"]), message=match["msg"])
            if loc not in lines:
                lines.append(loc)
    return tests + lines
