"""Item-item similarity with shrinkage: a second constructor, the counting one left alone."""

import ast

from recloop.agents.transform import CodeView
from recloop.agents.transforms.similarity import ItemSimilarity

FILES = ("movierec/candidates.py", "movierec/pipeline.py")

SIMILARITIES = """
import numpy as np, scipy.sparse as sp
from movierec.candidates import SimilarityIndex
x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0]], dtype=float))
m = SimilarityIndex.build_similarity(x, neighbours=5, shrink=SHRINK, alpha=0.5).matrix.toarray()
print(round(m[0, 1], 6), round(m[1, 0], 6), round(m[0, 0], 6))
"""


def test_similarity_commit_passes_the_workspace_checks(example, workspace_checks) -> None:
    candidate, result = example.develop(
        "candidate-neighbours", {"shrink": 25.0, "alpha": 0.3}, "cosine"
    )
    assert result.ok, result.failure
    assert result.files == FILES and result.risk == "L4"
    assert example.diff_paths(result.diff) == set(FILES)
    for path in FILES:
        ast.parse((candidate.path / path).read_text())
    view = CodeView(candidate.path, example.manifest)
    assert ItemSimilarity().current(view) == {"shrink": 25.0, "alpha": 0.3}
    checks = workspace_checks(candidate.path)  # includes the team's tests of the raw counts
    assert checks.tests_ok and checks.lint_ok, checks.output


def test_similarity_is_the_shrunk_cosine_of_co_occurrence(example) -> None:
    candidate, result = example.develop("candidate-neighbours", {"shrink": 0.0, "alpha": 0.5}, "c")
    assert result.ok
    # items 0 and 1: 2 co-occurrences, supports 4 and 2 -> 2 / (sqrt(8) + shrink); none with itself
    assert example.run_in(candidate.path, SIMILARITIES.replace("SHRINK", "0.0")) == (
        "0.707107 0.707107 0.0"
    )
    assert example.run_in(candidate.path, SIMILARITIES.replace("SHRINK", "2.0")) == (
        "0.414214 0.414214 0.0"
    )
