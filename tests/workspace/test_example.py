"""`recloop init --example movielens`: a real git repository holding a working recommender."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recloop.recsys.compare import paired_comparison
from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import evaluate, validate_recommendations
from recloop.recsys.models import make_model
from recloop.recsys.splits import make_split
from recloop.workspace import example as example_module
from recloop.workspace.example import MAIN_BRANCH, InitError, create_example
from recloop.workspace.manifest import load_manifest


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_example(tmp_path_factory.mktemp("ws") / "movies").path


def test_init_makes_a_repository_with_one_clean_commit_on_main(workspace: Path) -> None:
    assert _git(workspace, "rev-parse", "--show-toplevel") == str(workspace.resolve())
    assert _git(workspace, "rev-list", "--count", "HEAD") == "1"
    assert _git(workspace, "symbolic-ref", "--short", "HEAD") == MAIN_BRANCH
    assert _git(workspace, "status", "--porcelain", "--untracked-files=all") == ""
    assert ".recloop/" in (workspace / ".gitignore").read_text().splitlines()
    assert _git(workspace, "check-ignore", ".recloop/worktrees/x") == ".recloop/worktrees/x"


def test_the_commit_holds_the_whole_codebase(workspace: Path) -> None:
    tracked = set(_git(workspace, "ls-files").splitlines())
    stages = {"data", "candidates", "ranking", "rerank", "pipeline", "config"}
    assert {f"movierec/{s}.py" for s in stages} <= tracked
    assert {"recloop.toml", "README.md", "config/pipeline.toml", ".gitignore"} <= tracked
    assert {"tests/test_pipeline.py", "tests/conftest.py"} <= tracked
    assert not any("__pycache__" in path for path in tracked)


def test_the_manifest_agrees_with_the_repository(workspace: Path) -> None:
    manifest = load_manifest(workspace)
    assert manifest.main_branch == MAIN_BRANCH
    assert manifest.recommender.dependencies == ["numpy", "scipy"]


def test_the_examples_own_test_suite_passes(workspace: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert _git(workspace, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.fixture
def movierec(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example's package importable in this process, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(workspace))
    yield
    for name in [m for m in sys.modules if m == "movierec" or m.startswith("movierec.")]:
        del sys.modules[name]


@pytest.mark.usefixtures("movierec")
def test_the_example_beats_popularity_and_leaves_headroom_against_ease(
    ml100k: Interactions,
) -> None:
    from movierec.pipeline import build_recommender

    split = make_split(ml100k.implicit(4), "temporal-loo")
    results = {
        "example": evaluate(build_recommender(), split, k=10),
        "pop": evaluate(make_model("pop"), split, k=10),
        "ease": evaluate(make_model("ease"), split, k=10),
    }
    ndcg = {name: r.summary()["ndcg@10"] for name, r in results.items()}
    print(f"\nNDCG@10 on ML-100K, temporal leave-last-out: {ndcg}")
    assert ndcg["pop"] < ndcg["example"] < ndcg["ease"]
    over_pop = paired_comparison(
        "ndcg", results["pop"].per_user["ndcg"], results["example"].per_user["ndcg"]
    )
    under_ease = paired_comparison(
        "ndcg", results["example"].per_user["ndcg"], results["ease"].per_user["ndcg"]
    )
    assert over_pop.ci_low > 0, over_pop  # clearly above popularity
    assert under_ease.ci_low > 0 and ndcg["ease"] > 1.3 * ndcg["example"], under_ease  # headroom


@pytest.mark.usefixtures("movierec")
def test_the_example_answers_by_the_protocol_rules_for_every_user(ml100k: Interactions) -> None:
    from movierec.pipeline import build_recommender

    train = make_split(ml100k.implicit(4), "temporal-loo").train
    users = np.arange(train.n_users)
    recs = build_recommender().fit(train).recommend(users, k=10)
    # shape, integer ids in range, no duplicates, no seen items: or InvalidRecommendationsError
    validate_recommendations(recs, users, 10, train.n_items, train.binary)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InitError, match="is not empty"):
        create_example(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_refuses_a_file_and_an_unknown_example(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InitError, match="not a directory"):
        create_example(tmp_path / "file")
    with pytest.raises(InitError, match="unknown example 'books'"):
        create_example(tmp_path / "new", "books")
    assert not (tmp_path / "new").exists()


def test_init_uses_an_empty_existing_folder(tmp_path: Path) -> None:
    assert create_example(tmp_path).path == tmp_path
    assert (tmp_path / ".git").is_dir()


def test_init_sets_an_identity_when_git_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    root = create_example(tmp_path / "ws").path
    assert _git(root, "log", "-1", "--format=%an <%ae>") == "recloop <recloop@localhost>"
    assert _git(root, "config", "--local", "user.name") == "recloop"


@pytest.mark.parametrize("existed", [True, False])
def test_a_failed_init_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existed: bool
) -> None:
    real = example_module.run_git

    def failing_commit(args: list[str], cwd: Path) -> bytes:
        if args[0] == "commit":
            raise example_module.GitError(args, 1, "simulated failure")
        return real(args, cwd)

    monkeypatch.setattr(example_module, "run_git", failing_commit)
    target = tmp_path / "ws"
    if existed:
        target.mkdir()
    with pytest.raises(InitError, match="simulated failure"):
        create_example(target)
    assert (target.exists() and not any(target.iterdir())) if existed else not target.exists()
