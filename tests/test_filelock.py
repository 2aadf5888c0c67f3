"""The inter-process lock: refused or waited for while held, released when its holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recloop.filelock import LockHeldError, exclusive

HOLD = """
import sys, time
from pathlib import Path
from recloop.filelock import exclusive
with exclusive(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_lock_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "x"
    with _holder(path, 30) as proc:
        try:
            with pytest.raises(LockHeldError, match="held by another"), exclusive(path, wait=False):
                pass
        finally:
            proc.kill()


def test_waiting_takes_the_lock_once_the_holder_is_done(tmp_path: Path) -> None:
    path = tmp_path / "x"
    with _holder(path, 1.0):
        started = time.monotonic()
        with exclusive(path):
            assert time.monotonic() - started > 0.5  # we waited for the holder's second


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "x"
    with _holder(path, 60) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    started = time.monotonic()
    with exclusive(path, wait=False):
        pass
    assert time.monotonic() - started < 5
