"""Launch: the candidate's commit becomes the champion, merged into the workspace's main branch.

The champion moves only here. The candidate was built on the current champion (the loop closes
candidates judged against an older one), so the merge is a fast-forward: in the workspace's
checkout when it has the main branch checked out (the checkout is the champion's), else by a
compare-and-set update of the branch ref. Launching a commit main already contains does
nothing, so a launch repeated after a crash finds its own merge.
"""

from __future__ import annotations

from pathlib import Path

from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git


def _rev(root: Path, ref: str) -> str:
    return run_git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root).decode().strip()


def contains(root: Path, ancestor: str, ref: str) -> bool:
    """Whether `ancestor` is `ref` or one of its ancestors."""
    try:
        run_git(["merge-base", "--is-ancestor", ancestor, ref], root)
    except GitError:
        return False
    return True


def launch_candidate(root: Path, branch: str, commit: str) -> dict[str, str] | None:
    """Fast-forward `branch` to `commit`; {"from", "to"} of the champion, None if it cannot
    (the branch moved elsewhere meanwhile)."""
    ref = f"refs/heads/{branch}"
    before = _rev(root, ref)
    if contains(root, commit, ref):
        parent = _rev(root, f"{commit}^")
        return {"from": parent, "to": commit, "note": "already merged"}
    if not contains(root, before, commit):
        return None
    head = run_git(["symbolic-ref", "--quiet", "HEAD"], root).decode().strip()
    if head == ref:
        run_git(["merge", "--ff-only", "--quiet", commit], root)
    else:
        run_git(["update-ref", ref, commit, before], root)
    return {"from": before, "to": commit}


def recover_checkout(root: Path) -> None:
    """Finish what a crash may have left half done in the workspace's checkout (a merge)."""
    git_dir = Path(run_git(["rev-parse", "--git-dir"], root).decode().strip())
    if not git_dir.is_absolute():
        git_dir = root / git_dir
    if (git_dir / "MERGE_HEAD").exists():
        run_git(["merge", "--abort"], root)
    if (git_dir / "index.lock").exists():
        (git_dir / "index.lock").unlink()
