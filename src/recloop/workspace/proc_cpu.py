"""CPU time of a sandboxed process tree, read by the parent from the kernel (`/proc`).

A child reporting its own CPU time (`time.process_time`) can be lied to: the candidate's code
runs in that interpreter and can replace the clock. The kernel's accounting cannot: the parent
sums user and system time, and the reaped children's, of the process it spawned and every live
descendant. Descendants are found by parentage, not by session or process group, which a child
may leave (`os.setsid`) but not its parent (an orphan is adopted by the PID namespace's init,
itself a descendant when the sandbox isolates). Ticks are `SC_CLK_TCK` (10 ms on Linux), fine
against the slowdown bound's ratio. Without `/proc` (not Linux) the answer is None and callers
fall back to the supervisor's total.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree_cpu_seconds(root: int, proc: Path = PROC) -> float | None:
    """User + system CPU seconds used so far by `root` and its live descendants (with their
    waited-for children); None when `proc` cannot be read."""
    try:
        entries = [e for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return None
    children: dict[int, list[int]] = defaultdict(list)
    ticks: dict[int, int] = {}
    for entry in entries:
        try:
            raw = Path(entry.path, "stat").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        # fields after the command name, which may hold spaces and parentheses (proc(5))
        fields = raw[raw.rfind(b")") + 2 :].split()
        if len(fields) > 14:
            pid = int(entry.name)
            children[int(fields[1])].append(pid)
            ticks[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / _TICK
