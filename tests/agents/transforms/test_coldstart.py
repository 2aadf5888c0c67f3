"""Cold-start fallback: popularity for users with short histories."""

import ast

from recloop.agents.transform import CodeView
from recloop.agents.transforms.coldstart import ColdStartFallback

FALLBACK = """
import numpy as np
from movierec.pipeline import cold_start_fallback
scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.1]])
blocked = np.array([[False, False, True], [False, False, False]])
out = cold_start_fallback(scores, np.array([1, 7]), blocked, np.array([0, 3, 1]))
print(out.round(4).tolist())
"""


def test_cold_start_is_a_one_module_commit_that_passes_the_workspace_checks(
    example, workspace_checks
) -> None:
    candidate, result = example.develop("cold-start-fallback", {"min_history": 4}, "cold")
    assert result.ok, result.failure
    assert result.files == ("movierec/pipeline.py",) and result.risk == "L3"
    assert example.diff_paths(result.diff) == {"movierec/pipeline.py"}
    ast.parse((candidate.path / "movierec/pipeline.py").read_text())
    view = CodeView(candidate.path, example.manifest)
    assert ColdStartFallback().current(view) == {"min_history": 4}
    checks = workspace_checks(candidate.path)
    assert checks.tests_ok and checks.lint_ok, checks.output
    # the first user (1 interaction < 4) is ranked by log popularity, blocked items excluded
    assert example.run_in(candidate.path, FALLBACK) == ("[[0.0, 1.3863, -inf], [0.2, 0.8, 0.1]]")
