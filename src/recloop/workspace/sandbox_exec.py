"""Apply the sandbox's resource limits to this process, then become the command (`exec`).

`sandbox_command` starts any command through it, by path and under the sandbox launcher:

    python -P -s -B path/to/sandbox_exec.py LIMITS_JSON -- COMMAND ARG...

LIMITS_JSON holds `memory_mb`, `cpu_seconds` and `max_output_mb`, applied exactly as the
recommender child applies them (`sandbox_child.apply_limits`, loaded here by path so this file
needs nothing but the standard library). The limits survive the `exec`, so the command and
everything it starts run under them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType


def _sandbox_child() -> ModuleType:
    """`sandbox_child` loaded by file path (no `recloop` package import)."""
    path = Path(__file__).with_name("sandbox_child.py")
    spec = importlib.util.spec_from_file_location("_recloop_sandbox_child", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: sandbox_exec.py LIMITS_JSON -- COMMAND [ARG...]\n")
        return 2
    limits = json.loads(args[0])
    command = args[2:]
    _sandbox_child().apply_limits(limits)
    try:
        os.execv(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"sandbox_exec: cannot run {command[0]}: {exc}\n")
    return 127


if __name__ == "__main__":
    sys.exit(main())
