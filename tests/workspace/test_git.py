import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from recloop.workspace.errors import GitError
from recloop.workspace.git import AUTHOR_EMAIL, AUTHOR_NAME, Candidates, run_git
from recloop.workspace.patch import PathPolicy, apply_patch


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def _repo(root: Path) -> Path:
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Team")
    _git(root, "config", "user.email", "team@example.com")
    (root / "pkg").mkdir()
    (root / "pkg" / "model.py").write_text("WEIGHT = 1\n")
    (root / "README.md").write_text("team repo\n")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "champion")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return _repo(tmp_path / "ws")


def _snapshot(root: Path) -> dict[str, str]:
    """Every file of the team's checkout (outside .recloop) plus the index bytes and HEAD."""
    files = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and ".recloop" not in p.relative_to(root).parts
        and ".git" not in p.relative_to(root).parts
    }
    files["<index>"] = hashlib.sha256((root / ".git" / "index").read_bytes()).hexdigest()
    files["<HEAD>"] = (root / ".git" / "HEAD").read_text()
    return files


def test_create_makes_a_branch_and_worktree_at_the_champion(repo: Path) -> None:
    candidates = Candidates(repo)
    candidate = candidates.create("try-1")
    assert candidate.path == repo.resolve() / ".recloop" / "worktrees" / "try-1"
    assert (candidate.path / "pkg" / "model.py").read_text() == "WEIGHT = 1\n"
    assert candidate.branch == "recloop/try-1"
    assert candidate.head == candidate.base == candidates.champion_commit()
    assert not candidate.changed
    assert [c.name for c in candidates.list()] == ["try-1"]
    # ignored through .git/info/exclude, not .gitignore
    assert _git(repo, "status", "--porcelain") == ""
    assert not (repo / ".gitignore").exists()


def test_commit_and_diff_against_the_champion(repo: Path) -> None:
    candidates = Candidates(repo)
    candidate = candidates.create("try-1")
    (candidate.path / "pkg" / "model.py").write_text("WEIGHT = 2\n")
    (candidate.path / "pkg" / "extra.py").write_text("X = 1\n")
    head = candidates.commit("try-1", "raise the weight")
    assert candidates.get("try-1").head == head
    assert candidates.get("try-1").changed
    author = _git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", head)
    assert (
        author == f"{AUTHOR_NAME} <{AUTHOR_EMAIL}>|{AUTHOR_NAME} <{AUTHOR_EMAIL}>|raise the weight"
    )
    diff = candidates.diff("try-1")
    assert "-WEIGHT = 1" in diff and "+WEIGHT = 2" in diff and "pkg/extra.py" in diff
    # the champion moving on does not leak into the candidate's diff
    (repo / "README.md").write_text("team repo, v2\n")
    _git(repo, "commit", "-qam", "champion moves")
    assert "README" not in candidates.diff("try-1")
    assert candidates.get("try-1").base != candidates.champion_commit()


def test_commit_with_nothing_changed_is_an_error(repo: Path) -> None:
    candidates = Candidates(repo)
    candidates.create("idle")
    with pytest.raises(GitError, match="nothing to commit"):
        candidates.commit("idle", "no change")
    with pytest.raises(ValueError, match="message"):
        candidates.commit("idle", "  ")


def test_commit_runs_no_hook_of_the_repository(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {repo / 'hook-ran'}\nexit 1\n")
    hook.chmod(0o755)
    candidates = Candidates(repo)
    candidate = candidates.create("h")
    (candidate.path / "pkg" / "model.py").write_text("WEIGHT = 3\n")
    candidates.commit("h", "hooks are not run")
    assert not (repo / "hook-ran").exists()


def test_remove_deletes_worktree_and_branch(repo: Path) -> None:
    candidates = Candidates(repo)
    candidate = candidates.create("gone")
    (candidate.path / "dirty.txt").write_text("uncommitted\n")
    candidates.remove("gone")
    assert not candidate.path.exists()
    assert candidates.list() == []
    assert _git(repo, "branch", "--list", "recloop/*") == ""
    with pytest.raises(GitError, match="no candidate named 'gone'"):
        candidates.remove("gone")


def test_names_and_errors_are_clear(repo: Path, tmp_path: Path) -> None:
    candidates = Candidates(repo)
    for bad in ("", "../x", "a/b", "UPPER", "-dash", "x" * 64):
        with pytest.raises(ValueError, match="candidate name"):
            candidates.create(bad)
    candidates.create("dup")
    with pytest.raises(GitError, match="already exists"):
        candidates.create("dup")
    with pytest.raises(GitError, match="no candidate named 'nope'"):
        candidates.get("nope")
    with pytest.raises(GitError, match="unknown revision") as info:
        run_git(["rev-parse", "no-such-ref"], repo)
    assert info.value.returncode != 0 and "no-such-ref" in info.value.stderr
    with pytest.raises(GitError, match="not the top"):
        Candidates(repo / "pkg")
    with pytest.raises(GitError, match="no commit at refs/heads/trunk"):
        Candidates(repo, champion="trunk").champion_commit()
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        Candidates(plain)


def test_prune_cleans_up_after_a_crash(repo: Path) -> None:
    candidates = Candidates(repo)
    alive = candidates.create("alive")
    lost = candidates.create("lost")
    shutil.rmtree(lost.path)  # the folder vanished: git still records the worktree
    stray = candidates.worktrees_dir / "stray"  # a folder git never recorded
    (stray / "pkg").mkdir(parents=True)
    (stray / "pkg" / "half.py").write_text("partial checkout\n")
    _git(repo, "branch", "recloop/orphan")  # a branch whose worktree is gone
    _git(repo, "branch", "team-branch")  # not recloop's: left alone

    report = candidates.prune()
    assert set(report.folders) == {stray}
    assert set(report.branches) == {"recloop/lost", "recloop/orphan"}
    assert [c.name for c in candidates.list()] == ["alive"]
    assert alive.path.is_dir()
    assert "team-branch" in _git(repo, "branch", "--list", "team-branch")
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 2
    assert candidates.prune().folders == () and candidates.prune().branches == ()
    candidates.create("lost")  # the name is free again


def test_the_team_working_copy_is_never_touched(repo: Path) -> None:
    # a team member is mid-change: a modified file, a staged change and an untracked file
    (repo / "README.md").write_text("work in progress\n")
    (repo / "pkg" / "model.py").write_text("WEIGHT = 99\n")
    _git(repo, "add", "pkg/model.py")
    (repo / "notes.txt").write_text("untracked\n")
    status_before = _git(repo, "status", "--porcelain")
    before = _snapshot(repo)

    candidates = Candidates(repo)
    candidate = candidates.create("safe")
    assert (candidate.path / "pkg" / "model.py").read_text() == "WEIGHT = 1\n"  # the champion
    patch = "--- a/pkg/model.py\n+++ b/pkg/model.py\n@@ -1 +1 @@\n-WEIGHT = 1\n+WEIGHT = 5\n"
    apply_patch(candidate.path, patch, PathPolicy(editable=("pkg/**",)))
    candidates.commit("safe", "weight 5")
    candidates.diff("safe")
    candidates.list()
    candidates.create("second")
    shutil.rmtree(candidates.get("second").path)
    candidates.prune()
    candidates.remove("safe")

    assert _snapshot(repo) == before
    assert _git(repo, "status", "--porcelain") == status_before
