"""The kernel's CPU account of a session, as the parent reads it from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from recloop.workspace.proc_cpu import session_cpu_seconds

BURN = """
import time
time.process_time = lambda: 0.0  # the child's own clock lies; the kernel's does not
until = time.monotonic() + 0.6
while time.monotonic() < until:
    pass
print("done", flush=True)
time.sleep(30)
"""


def test_a_busy_session_is_counted_whatever_its_clock_says() -> None:
    with subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "done"
            used = session_cpu_seconds(proc.pid)
            assert used is not None and 0.4 <= used < 5.0
        finally:
            proc.kill()


def test_a_session_without_processes_used_nothing() -> None:
    assert session_cpu_seconds(2**22 + 12345) == 0.0  # above any pid_max: no such session


def test_stat_lines_with_odd_command_names(tmp_path: Path) -> None:
    fields = ["S", "1", "77", "77"] + ["0"] * 7 + ["150", "50", "30", "20"] + ["0"] * 30
    for pid, comm in ((101, "(python) (x y)"), (102, "(other)")):
        (tmp_path / str(pid)).mkdir()
        session = "77" if pid == 101 else "5"
        line = [pid, comm, *fields[:3], session, *fields[4:]]
        (tmp_path / str(pid) / "stat").write_text(" ".join(map(str, line)))
    (tmp_path / "self").mkdir()  # not a process number: skipped
    assert session_cpu_seconds(77, tmp_path) == (150 + 50 + 30 + 20) / os.sysconf("SC_CLK_TCK")
    assert session_cpu_seconds(77, tmp_path / "missing") is None
