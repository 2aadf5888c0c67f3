"""The files a sandboxed run exchanges: the training split in, recommendations and timings out.

Everything crossing the sandbox boundary is npz/npy (loaded with `allow_pickle=False`) or JSON,
never a pickle. The parent writes the training split only; the child never receives held-out
data, so it has nothing to leak. The parent reads the child's outputs without following
symlinks and with a size cap, because the child could have replaced them.

Layout of one run's scratch folder (created by the parent, removed after the run):

    request.json   what to run (entry point, worktree, k, limits); read-only to the child
    launch.json    the launcher's instructions (folders to hide, the child's command)
    train.npz      the training split
    logs/          the child's stdout and stderr (opened by the parent)
    box/           the only folder the child may write when isolated: home/, tmp/, out/
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from recloop.recsys.data import Interactions
from recloop.workspace.proc_cpu import tree_cpu_seconds
from recloop.workspace.sandbox_child import RECS_FILE, RESULT_FILE

REQUEST_FILE = "request.json"
LAUNCH_FILE = "launch.json"
TRAIN_FILE = "train.npz"
MAX_RESULT_BYTES = 1_000_000


def write_train(train: Interactions, path: Path) -> None:
    """Save a training split as npz: interaction arrays, sizes, id maps, optional genres.

    The child reads it back with `sandbox_child.read_train`.
    """
    arrays: dict[str, np.ndarray] = {
        "users": train.users.astype(np.int32),
        "items": train.items.astype(np.int32),
        "ratings": train.ratings.astype(np.float32),
        "timestamps": train.timestamps.astype(np.int64),
        "n_users": np.array(train.n_users, np.int64),
        "n_items": np.array(train.n_items, np.int64),
        "user_ids": _plain(train.user_ids),
        "item_ids": _plain(train.item_ids),
        "name": np.array(train.name),
    }
    if train.item_info is not None:
        genres = train.item_info.genres.tocsr()
        arrays.update(
            genres_data=genres.data.astype(np.float32),
            genres_indices=genres.indices.astype(np.int32),
            genres_indptr=genres.indptr.astype(np.int64),
            genres_shape=np.array(genres.shape, np.int64),
            genre_names=np.array(train.item_info.genre_names, dtype=str),
            year=train.item_info.year.astype(np.float64),
        )
    with path.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def _plain(ids: np.ndarray) -> np.ndarray:
    """Id maps without object dtype (which only a pickle could carry)."""
    ids = np.asarray(ids)
    return ids.astype(str) if ids.dtype == object else ids


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(partial, path)


def open_output(path: Path, max_bytes: int) -> bytes | None:
    """A child's output file: a regular file, not a symlink, at most `max_bytes` (else None)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)


def read_result(out_dir: Path) -> dict[str, Any] | None:
    """The child's result.json as a dict, or None when it is missing or not a JSON object."""
    raw = open_output(out_dir / RESULT_FILE, MAX_RESULT_BYTES)
    if raw is None:
        return None
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def read_recommendations(out_dir: Path, n_users: int, k: int) -> np.ndarray | str:
    """The child's recommendations (n_users x k integers), or a sentence saying what is wrong."""
    expected = n_users * k * 8 + 4096  # int64 payload plus a generous npy header
    raw = open_output(out_dir / RECS_FILE, expected)
    if raw is None:
        return f"no readable {RECS_FILE} (missing, not a regular file, or over {expected} bytes)"
    try:
        recs = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        return f"{RECS_FILE} is not a valid npy array: {exc}"
    if not np.issubdtype(recs.dtype, np.integer):
        return f"recommendations must be integer item indices, got dtype {recs.dtype}"
    if recs.shape != (n_users, k):
        return f"expected recommendations of shape {(n_users, k)}, got {recs.shape}"
    return recs.astype(np.int64)


class Sighting(NamedTuple):
    """One content of a watched file, when the parent first saw it and the CPU time the
    sandbox's processes had used then (None without `/proc`)."""

    at: float  # seconds since the start, on the parent's clock
    text: str
    cpu: float | None  # CPU seconds of the spawned process tree, from the kernel


class FileTimeline:
    """What a file the child rewrites said, and when the parent first saw each content.

    Polled by the parent while the child runs (`spawn_and_wait(watch=...)`): the times are the
    parent's own clock, seconds since the start, and the CPU times the kernel's account of the
    sandbox's processes (`proc_cpu`), so the child cannot forge them — only what the file says,
    and when it says it. Bounded in entries and bytes like any output.
    """

    MAX_ENTRIES = 256
    MAX_BYTES = 4096

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Sighting] = []
        self._seen: tuple[int, int] | None = None

    def __call__(self, elapsed: float, root: int) -> None:
        try:
            info = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return
        mark = (info.st_mtime_ns, info.st_ino)
        if mark == self._seen or len(self.entries) >= self.MAX_ENTRIES:
            return
        self._seen = mark
        raw = open_output(self.path, self.MAX_BYTES)
        if raw is not None:
            text = raw.decode("utf-8", "replace")
            self.entries.append(Sighting(elapsed, text, tree_cpu_seconds(root)))
