"""Workspace code judged end to end: git worktree, patch, sandbox, trusted evaluator."""

from pathlib import Path

import pytest

from recloop.workspace.evaluation import evaluate_workspace
from recloop.workspace.example import create_example
from recloop.workspace.git import Candidates
from recloop.workspace.manifest import load_manifest
from recloop.workspace.patch import PathPolicy, apply_patch

# the example blends popularity with co-occurrence; turning popularity off changes the lists
POPULARITY_OFF = """\
--- a/config/pipeline.toml
+++ b/config/pipeline.toml
@@ -15,3 +15,3 @@
 # Linear blend of the candidate features, each scaled to [0, 1] per user.
-popularity = 0.5
+popularity = 0.0
 cooccurrence = 1.0
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, ml100k_root: Path) -> Path:
    return create_example(tmp_path_factory.mktemp("ws") / "movies").path


def test_champion_is_scored_by_the_trusted_evaluator(workspace: Path) -> None:
    report = evaluate_workspace(workspace)
    assert report["candidate"] == "champion"
    assert report["n_users"] > 900
    assert 0.03 < report["ndcg@10"] < 0.08  # plain on purpose: above popularity, below EASE
    assert report["latency_ms_per_1k_users"] > 0
    assert report["isolation"]["network"] in ("isolated", "unavailable")


def test_a_candidate_branch_is_scored_from_its_worktree(workspace: Path) -> None:
    manifest = load_manifest(workspace)
    candidates = Candidates(workspace, champion=manifest.main_branch)
    candidate = candidates.create("no-popularity")
    try:
        policy = PathPolicy(
            editable=manifest.paths.editable, protected=manifest.paths.all_protected
        )
        apply_patch(candidate.path, POPULARITY_OFF, policy)
        candidates.commit("no-popularity", "ranking: drop the popularity feature")
        champion = evaluate_workspace(workspace)
        changed = evaluate_workspace(workspace, "no-popularity")
        assert changed["candidate"] == "no-popularity"
        assert changed["ndcg@10"] != champion["ndcg@10"]
        assert changed["popularity@10"] < champion["popularity@10"]
    finally:
        candidates.remove("no-popularity")
