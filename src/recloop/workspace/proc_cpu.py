"""CPU time of a sandboxed session, read by the parent from the kernel (`/proc`).

A child reporting its own CPU time (`time.process_time`) can be lied to: the candidate's code
runs in that interpreter and can replace the clock. The kernel's accounting of the session the
sandbox started (`spawn_and_wait` starts it with `setsid`) cannot: the parent sums user and
system time, and the reaped children's, of every live process whose session id is the spawned
process's pid. Ticks are `SC_CLK_TCK` (10 ms on Linux), fine against the slowdown bound's ratio.
Without `/proc` (not Linux) the answer is None and callers fall back to the supervisor's total.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def session_cpu_seconds(session: int, proc: Path = PROC) -> float | None:
    """User + system CPU seconds used so far by the live processes of `session` (with their
    waited-for children); None when `proc` cannot be read."""
    try:
        entries = [e for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return None
    ticks = 0
    for entry in entries:
        try:
            raw = Path(entry.path, "stat").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        # fields after the command name, which may hold spaces and parentheses (proc(5))
        fields = raw[raw.rfind(b")") + 2 :].split()
        if len(fields) > 14 and int(fields[3]) == session:
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / _TICK
