"""MMR diversity re-ranking: config field, rerank function, pipeline call, config value."""

import ast
import tomllib

from recloop.agents.transform import CodeView
from recloop.agents.transforms.diversity import MmrDiversity

FILES = ("config/pipeline.toml", "movierec/config.py", "movierec/pipeline.py", "movierec/rerank.py")

MMR = """
import numpy as np, scipy.sparse as sp
from movierec.rerank import diversify
genres = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=float))
scores = np.array([[0.9, 0.8, 0.5, -np.inf]])
order = lambda s: np.argsort(-s[0], kind="stable")[:3].tolist()
print(order(diversify(scores, genres, 0.0)), order(diversify(scores, genres, 0.5)))
"""


def test_diversity_is_a_cross_module_commit_that_passes_the_workspace_checks(
    example, workspace_checks
) -> None:
    candidate, result = example.develop("diversity-rerank", {"strength": 0.3}, "mmr")
    assert result.ok, result.failure
    assert result.files == FILES and result.risk == "L4"
    assert example.diff_paths(result.diff) == set(FILES)
    for path in FILES[1:]:
        ast.parse((candidate.path / path).read_text())
    config = (candidate.path / "config/pipeline.toml").read_text()
    assert tomllib.loads(config)["rerank"]["diversity"] == 0.3
    assert "# at most this many items of the same main genre in one list" in config
    assert MmrDiversity().current(CodeView(candidate.path, example.manifest)) == {"strength": 0.3}
    checks = workspace_checks(candidate.path)  # the rules' tests run with diversity off
    assert checks.tests_ok and checks.lint_ok, checks.output
    # off: by score; on: the other genre's item climbs above the second item of genre 0
    assert example.run_in(candidate.path, MMR) == "[0, 1, 2] [0, 2, 1]"


def test_once_launched_diversity_is_tuned_in_the_config_file_only(example) -> None:
    _, first = example.develop("diversity-rerank", {"strength": 0.3}, "mmr")
    assert first.ok
    example.launch("mmr")
    _, tweak = example.develop("diversity-rerank", {"strength": 0.6}, "mmr-tuned")
    assert tweak.ok, tweak.failure
    assert tweak.files == ("config/pipeline.toml",) and tweak.risk == "L1"
