"""Everything the stages share about one workspace: champion, manifest, data, samples, budgets.

A `CascadeContext` is built once per workspace and champion and reused for every candidate, so
the data is loaded, split and sampled once and the champion is measured once (and cached on disk
by `champion`). The manifest is read from the champion's commit, not from the working copy: the
rules that judge a candidate are the ones committed before it was written.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from recloop.cascade.samples import UserSample, user_sample
from recloop.cascade.settings import CascadeSettings
from recloop.filelock import exclusive
from recloop.recsys.data import Interactions
from recloop.recsys.splits import Split
from recloop.workspace.errors import GitError
from recloop.workspace.git import Candidates, run_git
from recloop.workspace.manifest import (
    MANIFEST_FILE,
    RECLOOP_DIR,
    Manifest,
    Stage,
    load_manifest,
    parse_manifest,
)
from recloop.workspace.patch import PathPolicy
from recloop.workspace.sandbox import SandboxLimits

if TYPE_CHECKING:
    from recloop.cascade.champion import ChampionBaseline

CACHE_DIR = f"{RECLOOP_DIR}/cache"
CHAMPION_LOCK = f"{RECLOOP_DIR}/locks/champion-checkout"
MEASURE_LOCK = f"{RECLOOP_DIR}/locks/champion-measure"
CHAMPION_DIR = f"{RECLOOP_DIR}/champion"


class ChampionFailedError(RuntimeError):
    """The champion itself could not be measured, so no candidate can be judged against it."""


class CascadeContext:
    """The champion, its manifest and data, and recloop's settings, for one workspace."""

    def __init__(
        self,
        workspace: str | Path,
        settings: CascadeSettings | None = None,
        *,
        data_root: Path | None = None,
    ) -> None:
        self.root = Path(workspace).resolve()
        self.settings = settings or CascadeSettings()
        self.data_root = data_root
        branch = load_manifest(self.root).main_branch
        self.candidates = Candidates(self.root, champion=branch)
        self.champion_commit = self.candidates.champion_commit()
        self.manifest_text = self.read_champion_file(MANIFEST_FILE).decode("utf-8")
        self.manifest: Manifest = parse_manifest(self.manifest_text, MANIFEST_FILE)
        self._champion: ChampionBaseline | None = None

    # -- the champion's files ----------------------------------------------------------------

    def read_champion_file(self, path: str) -> bytes:
        """One file of the champion's commit; `GitError` when it has none at that path."""
        return run_git(["show", f"{self.champion_commit}:{path}"], self.root)

    def champion_files(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The champion's version of each path that exists in its commit (one git call)."""
        wanted = list(dict.fromkeys(p for p in paths if p and "\n" not in p))
        if not wanted:
            return {}
        request = "".join(f"{self.champion_commit}:{p}\n" for p in wanted).encode()
        out = run_git(["cat-file", "--batch"], self.root, input=request)
        files: dict[str, bytes] = {}
        pos = 0
        for path in wanted:
            end = out.index(b"\n", pos)
            line = out[pos:end]
            pos = end + 1
            if line.endswith(b" missing") or line.endswith(b" ambiguous"):
                continue
            _, kind, size = line.split(b" ")  # "<sha> <type> <size>", then the content
            if kind == b"blob":
                files[path] = out[pos : pos + int(size)]
            pos += int(size) + 1
        return files

    @cached_property
    def first_party(self) -> frozenset[str]:
        """Top-level module and package names in the champion's source folder."""
        source = self.manifest.recommender.source_dir
        args = ["ls-tree", "--name-only", self.champion_commit]
        if source not in ("", "."):
            args.append(f"{source}/")
        names = run_git(args, self.root).decode("utf-8", "surrogateescape").splitlines()
        return frozenset(PurePosixPath(n).name.removesuffix(".py") for n in names)

    # -- rules -------------------------------------------------------------------------------

    @cached_property
    def policy(self) -> PathPolicy:
        """The manifest's editable and protected paths (plus those always protected)."""
        paths = self.manifest.paths
        return PathPolicy(editable=tuple(paths.editable), protected=paths.all_protected)

    def limits(self, stage: Stage, wall_seconds: float | None = None) -> SandboxLimits:
        """A sandboxed run's limits from the stage's budget (`wall_seconds` caps the wall)."""
        budget = self.manifest.budgets.for_stage(stage)
        wall = (
            budget.wall_seconds if wall_seconds is None else min(wall_seconds, budget.wall_seconds)
        )
        cpu = budget.cpu_seconds if budget.cpu_seconds is not None else wall
        return SandboxLimits(
            wall_seconds=max(wall, 0.01),
            memory_mb=budget.memory_mb,
            cpu_seconds=max(min(cpu, wall), 0.01),
            threads=self.settings.threads,
        )

    @property
    def hidden_paths(self) -> list[Path]:
        """Extra paths masked in every sandboxed run (besides the data and cache folders).

        The workspace's cache (it holds the champion's per-user metrics) and, when the data is
        the team's own log, that log and its item table, in the checkout and in the worktrees.
        """
        hidden = [self.root / CACHE_DIR]
        source = self.manifest.data.source
        if source is not None:
            for rel in (source.path, source.items):
                if rel is not None:
                    hidden.append(self.root / rel)
                    hidden += [wt / rel for wt in _worktree_dirs(self.root)]
        return hidden

    # -- data ----------------------------------------------------------------------------------

    @cached_property
    def data(self) -> Interactions:
        return self.manifest.load_data(self.root, self.data_root)

    @cached_property
    def split(self) -> Split:
        return self.manifest.build_split(self.data)

    @cached_property
    def contract_sample(self) -> UserSample:
        """The semantic stage's small training set, with cold-start users appended."""
        s = self.settings
        return user_sample(self.split.train, s.contract_users, s.sample_seed, s.cold_start_users)

    @cached_property
    def local_sample(self) -> UserSample:
        """The local stage's training set: a larger sample of users, all with history."""
        s = self.settings
        return user_sample(self.split.train, s.local_users, s.sample_seed + 1)

    # -- candidates and the champion -----------------------------------------------------------

    def worktree(self, name: str) -> Path | None:
        """The candidate's worktree made by the structural stage, or None."""
        try:
            return self.candidates.get(name).path
        except GitError:
            return None

    def champion_checkout(self) -> Path:
        """A clean detached checkout of the champion's commit (made once, shared by workers).

        Made under the workspace's checkout lock: the loop's workers are processes, and two
        making the same checkout at once made one fail ("already exists"). Checkouts of earlier
        champions may still be in use by another worker; `prune_champion_checkouts` removes
        them before a run starts.
        """
        path = self.root / CHAMPION_DIR / self.champion_commit[:12]
        with exclusive(self.root / CHAMPION_LOCK):
            if (path / ".git").exists():
                return path
            self.candidates.ignore_recloop_dir()  # .recloop/ stays out of the team's git status
            if path.exists():  # a checkout interrupted half-way
                shutil.rmtree(path)
            run_git(["worktree", "prune"], self.root)
            run_git(["worktree", "add", "--detach", "--quiet", str(path), self.champion_commit],
                    self.root)  # fmt: skip
        return path

    def close(self) -> None:
        """Remove the champion's checkout (the cache stays)."""
        path = self.root / CHAMPION_DIR / self.champion_commit[:12]
        if path.exists():
            run_git(["worktree", "remove", "--force", str(path)], self.root)

    def champion(self) -> ChampionBaseline:
        """The champion's measurements: from memory, the disk cache, or measured now."""
        if self._champion is None:
            from recloop.cascade.champion import load_or_measure

            self._champion = load_or_measure(self)
        return self._champion


def prune_champion_checkouts(root: Path, keep: str) -> list[Path]:
    """Remove the checkouts of champions other than `keep` (a commit); before workers start."""
    folder = root / CHAMPION_DIR
    with exclusive(root / CHAMPION_LOCK):
        found = sorted(folder.iterdir()) if folder.is_dir() else []
        stale = [p for p in found if p.name != keep[:12]]
        for path in stale:
            try:
                run_git(["worktree", "remove", "--force", str(path)], root)
            except GitError:  # a checkout a killed run left half-made: not a worktree yet
                shutil.rmtree(path, ignore_errors=True)
        run_git(["worktree", "prune"], root)
    return stale


def _worktree_dirs(root: Path) -> list[Path]:
    folder = root / RECLOOP_DIR / "worktrees"
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
