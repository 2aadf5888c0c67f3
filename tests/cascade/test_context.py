"""The cascade context: rules read from the champion's commit, budgets, hidden paths."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from recloop.cascade.context import CACHE_DIR, CascadeContext, prune_champion_checkouts
from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git


def test_the_manifest_is_the_champion_s_not_the_working_copy_s(example: Path) -> None:
    manifest = example / "recloop.toml"
    manifest.write_text(manifest.read_text().replace("min_effect = 0.02", "min_effect = 0.5"))
    context = CascadeContext(example)
    assert context.manifest.metrics.primary.min_effect == 0.02
    assert context.champion_commit == run_git(["rev-parse", "main"], example).decode().strip()


def test_champion_files_in_one_call(example_context: CascadeContext) -> None:
    files = example_context.champion_files(["movierec/data.py", "nope.py", "movierec", "a b.py"])
    assert set(files) == {"movierec/data.py"}
    assert files["movierec/data.py"].startswith(b'"""Data preparation')
    with pytest.raises(GitError):
        example_context.read_champion_file("nope.py")


def test_first_party_names(example_context: CascadeContext) -> None:
    assert "movierec" in example_context.first_party
    assert "tests" in example_context.first_party  # folders at the source root count too


def test_limits_follow_the_stage_budget(example_context: CascadeContext) -> None:
    limits = example_context.limits("semantic")
    assert (limits.wall_seconds, limits.memory_mb) == (300, 2048)
    capped = example_context.limits("local", wall_seconds=5)
    assert capped.wall_seconds == 5 and capped.cpu_seconds == 5 and capped.memory_mb == 4096


def test_the_cache_is_always_hidden(example_context: CascadeContext) -> None:
    assert example_context.root / CACHE_DIR in example_context.hidden_paths


def test_no_worktree_before_the_structural_stage(example_context: CascadeContext) -> None:
    assert example_context.worktree("never-made") is None


def test_champion_checkout_is_made_once_and_removed(example_context: CascadeContext) -> None:
    path = example_context.champion_checkout()
    assert (path / "movierec" / "pipeline.py").is_file()
    assert example_context.champion_checkout() == path
    example_context.close()
    assert not path.exists()


def _checkout(root: str) -> str:
    return str(CascadeContext(Path(root)).champion_checkout())


def test_workers_making_the_champion_checkout_at_once_share_one(example: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=spawn) as pool:
        paths = set(pool.map(_checkout, [str(example)] * 8))
    assert len(paths) == 1
    listed = run_git(["worktree", "list", "--porcelain"], example).decode()
    assert listed.count(paths.pop()) == 1


def test_earlier_champions_checkouts_are_pruned_before_a_run(
    example_context: CascadeContext,
) -> None:
    current = example_context.champion_checkout()
    old = current.parent / "0123456789ab"
    run_git(["worktree", "add", "--detach", "--quiet", str(old), "HEAD"], example_context.root)
    half_made = current.parent / "ba9876543210"  # a run killed during `git worktree add`
    (half_made / "movierec").mkdir(parents=True)
    removed = prune_champion_checkouts(example_context.root, example_context.champion_commit)
    assert removed == [old, half_made] and (current / ".git").exists()
    assert not old.exists() and not half_made.exists()
