"""Popularity debiasing of the ranking's personal score."""

import ast

import pytest

from recloop.agents.transform import CodeView
from recloop.agents.transforms.debias import PopularityDebias

SCORES = """
import numpy as np
from movierec.ranking import popularity_debiased
print(popularity_debiased(np.array([[1.0, 1.0, 0.5]]), np.array([4, 1, 0])).round(6).tolist())
"""


def test_debias_is_a_one_module_commit_that_passes_the_workspace_checks(
    example, workspace_checks
) -> None:
    candidate, result = example.develop("popularity-debias", {"beta": 0.5}, "debias")
    assert result.ok, result.failure
    assert result.files == ("movierec/ranking.py",) and result.risk == "L3"
    assert example.diff_paths(result.diff) == {"movierec/ranking.py"}
    ast.parse((candidate.path / "movierec/ranking.py").read_text())
    view = CodeView(candidate.path, example.manifest)
    assert PopularityDebias().current(view) == {"beta": 0.5}
    checks = workspace_checks(candidate.path)
    assert checks.tests_ok and checks.lint_ok, checks.output
    # scores / popularity ** 0.5 (popularity 0 counts as 1), then scaled to the row's best
    assert example.run_in(candidate.path, SCORES) == "[[0.5, 1.0, 0.5]]"


def test_a_beta_outside_the_space_is_refused_before_any_edit(example) -> None:
    candidate, result = example.develop("popularity-debias", {"beta": 3.0}, "debias")
    assert result.failure is not None and result.failure.cause == "bad-parameters"
    assert "beta" in result.failure.message
    assert not example.candidates.get("debias").changed
    assert (candidate.path / "movierec/ranking.py").read_text() == (
        example.root / "movierec/ranking.py"
    ).read_text()


@pytest.mark.parametrize("beta", [0.05, 1.0])
def test_the_space_ends_are_accepted(example, beta: float) -> None:
    _, result = example.develop("popularity-debias", {"beta": beta}, "debias")
    assert result.ok
