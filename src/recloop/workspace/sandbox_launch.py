"""The sandbox launcher: a small trusted supervisor between the parent and the child.

The parent always starts the child through it, as `python -P -s -B path/to/sandbox_launch.py
LAUNCH_JSON` (by path: no package imports), isolated or not. Isolated, it runs under
`unshare --mount --net --pid --fork --kill-child --mount-proc`, still privileged inside the new
namespaces, and first:

1. mounts an empty read-only tmpfs over every folder to hide (the data directory, the user cache
   directory) and `/dev/null` over every file to hide, so held-out data is not there to read;
2. bind-mounts the run's `box/` folder onto itself (the one writable place) and remounts every
   other mount read-only (except /proc and /dev), so the child cannot edit the team's checkout,
   recloop's own code or git's refs; gives /dev/shm a small fresh tmpfs;
3. writes what it achieved as one JSON line to file descriptor 3 (a pipe the parent reads; the
   child never holds it, so it cannot forge the report);
4. runs the child through `setpriv --no-new-privs` with every capability dropped (bounding,
   inheritable and ambient sets), so the child cannot unmount the masks or remount anything.

Isolated or not, it then forks the child, waits for it until the deadline (a `time.monotonic`
instant set by the parent), kills it when the deadline passes (as PID 1 of its namespace it kills
every process in there), reaps it and writes a second JSON line: the child's exit code, whether
it was timed out, and its CPU time and peak RSS from `os.wait4`. Those come from here because the
parent cannot measure them: the process it spawns directly inherits the parent's own peak RSS
(Linux carries `maxrss` across the `exec` of a spawned process). When the launcher exits, an
isolated run's namespace dies with everything left in it.

It uses the standard library only and runs no workspace code itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

REPORT_FD = 3
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 21, 1 << 24
_PER_MOUNT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
KEEP_WRITABLE = ("/proc", "/dev")
_OCTAL = re.compile(r"\\([0-7]{3})")
SETPRIV_ARGS = (
    "--no-new-privs",
    "--bounding-set=-all",
    "--inh-caps=-all",
    "--ambient-caps=-all",
)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    """mount(2); OSError with errno on failure."""
    result = _libc.mount(
        source.encode(),
        target.encode(),
        None if fstype is None else fstype.encode(),
        ctypes.c_ulong(flags),
        None if data is None else data.encode(),
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def parse_mountinfo(text: str) -> list[tuple[str, set[str]]]:
    """(mount point, per-mount options) of every line of a /proc/self/mountinfo text."""
    rows = []
    for line in text.splitlines():
        fields = line.split(" ")
        point = _OCTAL.sub(lambda m: chr(int(m[1], 8)), fields[4])  # "\040" is a space
        rows.append((point, set(fields[5].split(","))))
    return rows


def mounts() -> list[tuple[str, set[str]]]:
    return parse_mountinfo(Path("/proc/self/mountinfo").read_text(encoding="utf-8"))


def under(path: str, roots: tuple[str, ...] | list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def hide(paths: list[str]) -> tuple[list[str], list[str]]:
    """Mask each path (empty tmpfs for a folder, /dev/null for a file); (hidden, failed)."""
    hidden, failed = [], []
    for path in paths:
        try:
            if os.path.isdir(path):
                flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
                mount("tmpfs", path, "tmpfs", flags, "size=4k,mode=0555")
            elif os.path.exists(path):
                mount("/dev/null", path, None, MS_BIND, None)
                mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
            hidden.append(path)
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror}")
    return hidden, failed


def make_read_only(writable: str, skip: list[str]) -> list[str]:
    """Bind `writable` onto itself, then remount every other mount read-only; the failures."""
    failed = []
    mount(writable, writable, None, MS_BIND | MS_REC, None)
    for point, options in mounts():
        if "ro" in options or under(point, KEEP_WRITABLE) or under(point, [writable, *skip]):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options:
            flags |= _PER_MOUNT_FLAGS.get(option, 0)
        try:
            mount("none", point, None, flags, None)
        except OSError as exc:
            failed.append(f"{point}: {exc.strerror}")
    try:
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    except OSError as exc:
        failed.append(f"/dev/shm: {exc.strerror}")
    return failed


def network_isolated() -> bool:
    """Whether this network namespace has nothing but a loopback interface (down or not)."""
    return all(name == "lo" for _, name in socket.if_nameindex())


def prepare(config: dict[str, Any]) -> dict[str, Any]:
    """Steps 1-2: mask, confine writes; return the isolation report."""
    hidden, hide_failed = hide(config["hide"])
    try:
        ro_failed = make_read_only(config["writable"], hidden)
    except OSError as exc:
        ro_failed = [f"{config['writable']}: {exc.strerror}"]
    return {
        "network": network_isolated(),
        "pid_namespace": os.getpid() == 1,
        "hidden": hidden,
        "hide_failed": hide_failed,
        "read_only_failed": ro_failed,
    }


def supervise(argv: list[str], cwd: str, deadline: float, kill_all: bool) -> dict[str, Any]:
    """Run the child, kill it at the deadline, reap it: exit code, timeout flag, costs.

    `kill_all` (only as PID 1 of a PID namespace) kills every process of the namespace at the
    deadline; otherwise only the child is killed and the parent sweeps its process group.
    """
    started = time.monotonic()
    child = os.fork()
    if child == 0:  # pragma: no cover - replaced by exec
        try:
            os.chdir(cwd)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(child, os.WNOHANG)
        if pid == child:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            os.kill(-1 if kill_all else child, signal.SIGKILL)
            _, status, usage = os.wait4(child, 0)
            break
        time.sleep(min(remaining, 0.01))
    return {
        "exit_code": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
        "wall_seconds": time.monotonic() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss_kb": usage.ru_maxrss,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    command = list(config["child_argv"])
    report: dict[str, Any] = {}
    if config["isolate"]:
        report = prepare(config)
        command = [config["setpriv"], *SETPRIV_ARGS, "--", *command]
    # os.kill(-1) outside a PID namespace would hit every process of the user: only as its PID 1
    kill_all = bool(config["isolate"]) and os.getpid() == 1
    with os.fdopen(REPORT_FD, "w", encoding="utf-8") as channel:
        channel.write(json.dumps(report) + "\n")
        channel.flush()
        os.set_inheritable(REPORT_FD, False)
        ended = supervise(command, config["cwd"], float(config["deadline"]), kill_all)
        channel.write(json.dumps(ended) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
