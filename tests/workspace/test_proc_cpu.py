"""The kernel's CPU account of a process tree, as the parent reads it from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from recloop.workspace.proc_cpu import tree_cpu_seconds

BURN = """
import os, time
os.setsid()  # leaves the session and process group: not its parentage
time.process_time = lambda: 0.0  # its own clock lies; the kernel's does not
until = time.monotonic() + 0.6
while time.monotonic() < until:
    pass
print(os.getpid(), flush=True)
time.sleep(30)
"""
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"


def test_a_busy_descendant_is_counted_whatever_it_does() -> None:
    with subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:  # fmt: skip
        assert proc.stdout is not None
        burner = int(proc.stdout.readline())
        try:
            used = tree_cpu_seconds(proc.pid)
            assert used is not None and 0.4 <= used < 5.0
        finally:
            os.kill(burner, signal.SIGKILL)  # its own session: not in the parent's group
            proc.kill()


def test_a_finished_tree_used_nothing_more() -> None:
    assert tree_cpu_seconds(2**22 + 12345) == 0.0  # above any pid_max: no such process


def test_stat_lines_with_odd_command_names(tmp_path: Path) -> None:
    def proc(pid: int, comm: str, ppid: int, utime: int) -> None:
        fields = ["S", ppid, 0, 0] + [0] * 7 + [utime, 50, 30, 20] + [0] * 30
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(" ".join(map(str, [pid, comm, *fields])))

    proc(101, "(python) (x y)", 1, 100)  # the root
    proc(102, "(child)", 101, 200)
    proc(103, "(grandchild)", 102, 300)
    proc(104, "(a stranger)", 1, 10_000)
    (tmp_path / "self").mkdir()  # not a process number: skipped
    tick = os.sysconf("SC_CLK_TCK")
    assert tree_cpu_seconds(101, tmp_path) == (600 + 3 * (50 + 30 + 20)) / tick
    assert tree_cpu_seconds(102, tmp_path) == (500 + 2 * 100) / tick
    assert tree_cpu_seconds(101, tmp_path / "missing") is None
