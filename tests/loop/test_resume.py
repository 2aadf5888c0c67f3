"""Resume after SIGKILL: real runs (worker processes included) killed at several points, then
started again, keep every ledger invariant."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
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
    """Audit entries so far, read raw (a quick poll: a run may finish within a second)."""
    path = root / ".recloop" / "ledger.db"
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return int(db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def _kill_after(root: Path, process: subprocess.Popen[bytes], entries: int) -> bool:
    """SIGKILL the run's whole process group once the audit log has `entries` entries."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _audit_count(root) >= entries:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.01)
    return False


def test_runs_killed_at_several_points_resume_without_loss_or_repeat(
    workspace: Path, helpers: Any
) -> None:
    kills = 0
    for run in range(3):  # the first run is killed early, each resumed one after 5 more steps
        entries = 8 if run == 0 else _audit_count(workspace) + 5
        process = _start(workspace, 2 if run == 0 else 0)
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
