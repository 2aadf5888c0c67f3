"""Position-based history decay in the team's data preparation."""

import ast

from recloop.agents.transform import CodeView
from recloop.agents.transforms.decay import HistoryDecay

WEIGHTS = """
import numpy as np
from types import SimpleNamespace
from movierec.data import history_position_weights
log = SimpleNamespace(users=np.array([0, 0, 1, 0, 1]), timestamps=np.array([5, 9, 1, 7, 3]))
print(history_position_weights(log, 1.0).tolist(), history_position_weights(log, 0.0).tolist())
"""


def test_decay_is_a_one_module_commit_that_passes_the_workspace_checks(
    example, workspace_checks
) -> None:
    candidate, result = example.develop("time-decay", {"half_life": 2.5}, "decay")
    assert result.ok, result.failure
    assert result.files == ("movierec/data.py",) and result.risk == "L3"
    assert example.diff_paths(result.diff) == {"movierec/data.py"}
    ast.parse((candidate.path / "movierec/data.py").read_text())
    assert HistoryDecay().current(CodeView(candidate.path, example.manifest)) == {"half_life": 2.5}
    checks = workspace_checks(candidate.path)
    assert checks.tests_ok and checks.lint_ok, checks.output


def test_each_users_newest_interaction_weighs_one_and_older_ones_halve(example) -> None:
    candidate, result = example.develop("time-decay", {"half_life": 1.0}, "decay")
    assert result.ok
    # user 0: times 9, 7, 5 -> positions 0, 1, 2; user 1: times 3, 1 -> 0, 1; 0 turns it off
    assert example.run_in(candidate.path, WEIGHTS) == (
        "[0.25, 1.0, 0.5, 0.5, 1.0] [1.0, 1.0, 1.0, 1.0, 1.0]"
    )
