"""Start a process in its own session, wait for it with a deadline, kill its whole group.

The process is started with `os.posix_spawn(..., setsid=True)`: a new session and process group,
stdin from /dev/null, stdout and stderr to files (never pipes the child could fill), and, when
asked, the write end of a report pipe as file descriptor 3 (how `sandbox_launch` talks to the
parent). The parent waits on a pidfd (polling where there is none) until the deadline, then
SIGKILLs the process group; after a normal exit it kills the group too, so no background
process outlives the run. The leader is reaped only after that kill (its exit is first observed
with WNOWAIT), so its group id cannot have been reused. `os.wait4` gives its CPU time; its peak
RSS is NOT the child's own (a spawned process inherits the parent's peak across `exec`), which
is why `sandbox_launch` measures the child one level down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Watch = Callable[[float, int], None]  # called with (seconds since the start, the spawned pid)
WATCH_SECONDS = 0.002  # how often a watch is called


@dataclass(frozen=True)
class Exit:
    """How the spawned process ended, as the parent saw it."""

    status: int  # os.wait4 status
    rusage: Any
    wall_seconds: float
    timed_out: bool
    report: bytes  # what the launcher wrote to its report pipe


def spawn_and_wait(
    argv: list[str],
    env: dict[str, str],
    logs: Path,
    wall_seconds: float,
    with_report: bool,
    watch: Watch | None = None,
) -> Exit:
    """Start `argv` in a new session; wait for it or kill its group at the deadline (calling
    `watch` every `WATCH_SECONDS` meanwhile)."""
    stdout = os.open(logs / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(logs / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    read_end, write_end = os.pipe() if with_report else (-1, -1)
    if with_report:  # fd 3 in the child: never dup2 a descriptor onto itself (keeps CLOEXEC)
        high = fcntl.fcntl(write_end, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(write_end)
        write_end = high
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, stdout, 1),
        (os.POSIX_SPAWN_DUP2, stderr, 2),
    ]
    if with_report:
        actions.append((os.POSIX_SPAWN_DUP2, write_end, 3))
    started = time.perf_counter()
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
    except BaseException:
        if read_end >= 0:
            os.close(read_end)
        raise
    finally:
        for fd in (stdout, stderr, write_end):
            if fd >= 0:
                os.close(fd)
    with ReportPipe(read_end) as report:
        return _wait(pid, report, started, wall_seconds, watch)


class ReportPipe:
    """The read end of the launcher's report pipe (or none), drained into `data`."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = bytearray()

    def __enter__(self) -> ReportPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_some(self) -> None:
        chunk = os.read(self.fd, 65536)
        self.data += chunk
        if not chunk:
            self.close()

    def drain(self) -> bytes:
        while self.fd >= 0:
            self.read_some()
        return bytes(self.data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _wait(
    pid: int, report: ReportPipe, started: float, wall_seconds: float, watch: Watch | None
) -> Exit:
    """Wait for `pid` until the deadline (reading the report pipe meanwhile), then reap it."""
    deadline = started + wall_seconds
    pidfd = _pidfd(pid)
    timed_out = False
    try:
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            now = time.perf_counter()
            remaining = deadline - now
            if remaining <= 0:
                timed_out = True
                break
            if watch is not None:
                watch(now - started, pid)
            tick = 0.02 if watch is None else WATCH_SECONDS
            watched = [fd for fd in (report.fd, pidfd) if fd >= 0]
            if not watched:
                time.sleep(min(remaining, tick))
                continue
            wait = remaining if pidfd >= 0 and watch is None else min(remaining, tick)
            ready, _, _ = select.select(watched, [], [], wait)
            if report.fd in ready:
                report.read_some()
        wall = time.perf_counter() - started
        # the group leader is not reaped yet, so its process-group id cannot have been reused
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        _, status, rusage = os.wait4(pid, 0)
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    return Exit(status, rusage, wall, timed_out, report.drain())


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1
