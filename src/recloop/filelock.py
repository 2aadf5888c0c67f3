"""An exclusive advisory lock between processes sharing a workspace (POSIX `flock`).

The run loop's workers are separate processes: what they make once for all — the champion's
checkout, its measurement — is made under a lock, and a second run of the loop is refused.
The kernel drops the lock when its holder dies, so a killed worker never leaves it held.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockHeldError(RuntimeError):
    """Another process holds the lock (only raised when not waiting)."""


@contextmanager
def exclusive(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created with its folder) for the block; without `wait`,
    raise `LockHeldError` at once when another process holds it. Not reentrant: a process
    taking the same lock twice waits for itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise LockHeldError(f"{path} is held by another process") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
