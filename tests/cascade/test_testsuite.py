"""The workspace's test suite: pytest's exits judged, failures located; a real sandboxed run."""

from __future__ import annotations

import pytest

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.testsuite import failure_locations, judge_tests, run_test_suite
from recloop.workspace.isolation import Isolation
from recloop.workspace.sandbox_command import CommandResult

FAILED_LOG = """\
..........F..........................                                    [100%]
=================================== FAILURES ===================================
________ test_bad_values_name_the_key[raw3-max_per_genre must be >= 1] _________
tests/test_config.py:43: in test_bad_values_name_the_key
    with pytest.raises(ConfigError, match=message):
movierec/config.py:65: in __post_init__
E   Failed: DID NOT RAISE ConfigError
=========================== short test summary info ============================
FAILED tests/test_config.py::test_bad_values_name_the_key[raw3] - Failed: DID NOT RAISE
1 failed, 36 passed in 1.11s
"""


def _result(code: int | None, status: str = "failed", stdout: str = "") -> CommandResult:
    return CommandResult(
        status=status,  # type: ignore[arg-type]
        detail=f"exited with code {code}",
        exit_code=code,
        wall_seconds=1.0,
        cpu_seconds=1.0,
        peak_memory_mb=50.0,
        isolation=Isolation.none("test"),
        stdout_tail=stdout,
    )


def test_failures_name_the_test_and_the_lines() -> None:
    run = judge_tests(_result(1, stdout=FAILED_LOG))
    assert run.cause == causes.TESTS_FAILED
    assert "1 failed, 36 passed" in run.sentence and "test_bad_values_name_the_key" in run.sentence
    where = [(loc.path, loc.line) for loc in run.evidence.locations]
    assert where == [
        ("tests/test_config.py", None),
        ("tests/test_config.py", 43),
        ("movierec/config.py", 65),
    ]
    assert failure_locations("") == []


@pytest.mark.parametrize(
    ("code", "status", "cause"),
    [
        (0, "ok", None),
        (5, "failed", None),  # nothing collected: the workspace has no tests
        (2, "failed", causes.TESTS_ERROR),  # collection error
        (None, "timeout", causes.TESTS_TIMEOUT),
        (-9, "killed", causes.TESTS_ERROR),
    ],
)
def test_exit_codes(code: int | None, status: str, cause: str | None) -> None:
    assert judge_tests(_result(code, status, "3 passed in 0.1s\n")).cause == cause


def test_the_example_suite_passes_in_the_sandbox(example_context: CascadeContext) -> None:
    run = run_test_suite(example_context.root, example_context, wall_seconds=120)
    assert run.cause is None, run.evidence.log_tail
    assert "passed" in run.sentence
