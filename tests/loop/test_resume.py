"""Resume after SIGKILL: real runs (worker processes included) killed at several points, then
started again, keep every ledger invariant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from recloop.ledger import Ledger

DRIVER = Path(__file__).with_name("run_driver.py")


def _start(root: Path, experiments: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(root), str(experiments), "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _audit_count(root: Path) -> int:
    if not (root / ".recloop" / "ledger.db").exists():
        return 0
    with Ledger.open(root) as ledger:
        return len(ledger.audit_log())


def _kill_after(root: Path, process: subprocess.Popen[bytes], entries: int) -> bool:
    """SIGKILL the run's whole process group once the audit log has `entries` entries."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _audit_count(root) >= entries:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.05)
    return False


def test_runs_killed_at_several_points_resume_without_loss_or_repeat(
    workspace: Path, helpers: Any
) -> None:
    kills = 0
    for entries in (8, 30, 55):
        process = _start(workspace, 2 if kills == 0 else 0)
        kills += _kill_after(workspace, process, entries)
        if process.poll() is None:
            process.wait(timeout=300)
    assert kills >= 2  # the runs really were killed mid-way
    final = _start(workspace, 0)
    assert final.wait(timeout=300) == 0
    helpers.check_invariants(workspace)
    with Ledger.open(workspace) as ledger:
        keys = [e.key for e in ledger.experiments()]
    assert 1 <= len(keys) <= 2 and keys[0] == "ease-ranking-t0"  # the budget held across kills
