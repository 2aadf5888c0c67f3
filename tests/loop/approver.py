"""A person at another terminal: waits for each gate of one experiment to be asked, then answers
it with the real `recloop approve` / `recloop reject` command, in its own process.

    python approver.py WORKSPACE EXPERIMENT online=approve launch=approve
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

RECLOOP = [sys.executable, "-c", "from recloop.cli import app; app()"]


def pending(workspace: str) -> list[dict[str, str]]:
    listed = subprocess.run(
        [*RECLOOP, "approvals", "--json", "--workspace", workspace],
        capture_output=True,
        text=True,
        check=True,
    )
    answer: list[dict[str, str]] = json.loads(listed.stdout)
    return answer


def answer(workspace: str, key: str, gate: str, verdict: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if any(p["experiment"] == key and p["gate"] == gate for p in pending(workspace)):
            extra = ["--note", "fine"] if verdict == "approve" else ["--reason", "not now"]
            command = [*RECLOOP, verdict, key, "--by", "ana", "--workspace", workspace, *extra]
            subprocess.run(command, check=True)
            return
        time.sleep(0.2)
    raise SystemExit(f"the {gate} gate of {key} was never asked")


if __name__ == "__main__":
    workspace, key, *answers = sys.argv[1:]
    deadline = time.monotonic() + 240
    for item in answers:
        gate, _, verdict = item.partition("=")
        answer(workspace, key, gate, verdict, deadline)
