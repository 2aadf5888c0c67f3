"""Outcomes: what the agents learn from, consistent by construction."""

import pytest
from pydantic import ValidationError

from recloop.agents.outcome import Outcome


def test_measured_and_failed_outcomes() -> None:
    passed = Outcome.measured(0.01, passed=True)
    assert passed.reached == "online" and passed.failure is None
    rejected = Outcome.measured(-0.01, passed=False, feasible=False)
    assert rejected.reached == "offline" and rejected.failure == "offline-rejected"
    shipped = Outcome.measured(0.02, passed=True, shipped=True)
    assert shipped.reached == "shipped"
    failed = Outcome.failed("structural", "syntax-error")
    assert failed.improvement is None and not failed.passed_offline


def test_inconsistent_outcomes_are_refused() -> None:
    with pytest.raises(ValidationError, match="passed the offline stage"):
        Outcome(reached="shipped", shipped=True)
    with pytest.raises(ValidationError, match="reached == 'shipped'"):
        Outcome(reached="shipped", passed_offline=True)
