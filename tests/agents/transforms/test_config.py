"""Config-level changes from the manifest's search spaces, for any workspace."""

import tomllib

from recloop.agents.transform import CodeView
from recloop.agents.transforms.config import CONFIG_FAMILY, ConfigSearch

POINT = {
    "data.recency_half_life_days": 2.0,
    "candidates.popular": 50,
    "candidates.cooccurrence": 250,
    "candidates.neighbours": 120,
    "ranking.weights.popularity": 0.25,
    "ranking.weights.cooccurrence": 1.5,
    "ranking.weights.genre_affinity": 0.1,
    "rerank.max_per_genre": 4,
    "rerank.min_item_interactions": 2,
}


def test_a_config_point_sets_values_only_and_passes_the_workspace_checks(
    example, workspace_checks
) -> None:
    before = (example.root / "config/pipeline.toml").read_text()
    candidate, result = example.develop(CONFIG_FAMILY, POINT, "config")
    assert result.ok, result.failure
    assert result.files == ("config/pipeline.toml",) and result.risk == "L1"
    assert result.scope is not None and result.scope.values_only
    after = (candidate.path / "config/pipeline.toml").read_text()
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")
    ]
    assert "max_per_genre = 4  # at most this many items" in after
    assert tomllib.loads(after)["ranking"]["weights"]["cooccurrence"] == 1.5
    assert ConfigSearch().current(CodeView(candidate.path, example.manifest)) == POINT
    checks = workspace_checks(candidate.path)
    assert checks.tests_ok and checks.lint_ok, checks.output


def test_the_champions_own_values_are_its_current_point(example) -> None:
    current = ConfigSearch().current(CodeView(example.root, example.manifest))
    assert current is not None and current["candidates.neighbours"] == 50
    _, result = example.develop(CONFIG_FAMILY, current, "same")
    assert result.failure is not None and result.failure.cause == "nothing-changed"
