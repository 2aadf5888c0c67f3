"""Run any command on a workspace's code with the sandbox's isolation: the test suite, a probe.

`run_sandbox` runs one fixed child (fit, then rank every user). `run_command` runs an arbitrary
command — `python -m pytest -q` in a candidate's worktree, or recloop's own contract probe — under
the same supervisor and the same denials: the trusted launcher (`sandbox_launch`) in new mount,
network and PID namespaces when the machine allows (data and cache folders masked, everything
but the run's `box/` read-only, capabilities dropped), a scrubbed environment, its own session
killed as a group, and the resource limits of `SandboxLimits`, applied by `sandbox_exec` before
the command is `exec`ed (so the command and its children inherit them).

The caller may write inputs into the run's scratch folder before the start (`command` is then a
function of the `Scratch` that returns the argv) and ask for files the command leaves in
`box/out/`; they are read back without following symlinks and with a size cap. The result says
how the command ended, what it cost (CPU time and peak memory measured by the launcher on the
command itself), its output tails and the isolation achieved.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.workspace import sandbox_exec
from recloop.workspace.isolation import Isolation, hideable, namespace_prefix, paths_to_hide
from recloop.workspace.sandbox import (
    BACKSTOP_SECONDS,
    SandboxLimits,
    launcher_command,
    module_file,
    read_report,
    scrubbed_env,
)
from recloop.workspace.sandbox_files import FileTimeline, Sighting, open_output
from recloop.workspace.sandbox_process import Exit, spawn_and_wait

CommandStatus = Literal["ok", "failed", "timeout", "oom", "killed"]
TAIL_CHARS = 8000
DEFAULT_MAX_OUTPUT_BYTES = 64 * 2**20
PYTHON_FLAGS = ("-P", "-s", "-B")  # no unsafe sys.path entry, no user site, no .pyc
_MEMORY_SIGNALS = (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT)


@dataclass(frozen=True)
class Scratch:
    """The folders of one run: `root` for inputs (read-only to an isolated command), `box`."""

    root: Path

    @property
    def box(self) -> Path:
        """The one folder an isolated command may write: `home/`, `tmp/` and `out/`."""
        return self.root / "box"

    @property
    def out(self) -> Path:
        """Where the command leaves files for the parent (see `run_command(outputs=...)`)."""
        return self.box / "out"


class CommandResult(BaseModel):
    """How a sandboxed command ended, what it cost, its output tails and files it left."""

    model_config = ConfigDict(frozen=True)

    status: CommandStatus
    detail: str
    exit_code: int | None  # negative: killed by that signal
    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float | None  # None when the launcher could not report it
    isolation: Isolation
    stdout_tail: str = ""
    stderr_tail: str = ""
    outputs: dict[str, bytes] = Field(default_factory=dict, exclude=True, repr=False)
    # what the `timeline` file said, when, and the sandbox's CPU time then (parent's figures)
    timeline: list[Sighting] = Field(default_factory=list, exclude=True, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


CommandBuilder = Callable[[Scratch], Sequence[str]]


def python_command(*args: str, flags: Sequence[str] = PYTHON_FLAGS) -> list[str]:
    """`python FLAGS ARGS...` with recloop's own interpreter."""
    return [sys.executable, *flags, *args]


def run_command(
    worktree: str | Path,
    command: Sequence[str] | CommandBuilder,
    limits: SandboxLimits | None = None,
    *,
    hidden_paths: Iterable[str | Path] = (),
    isolate: bool = True,
    outputs: Sequence[str] = (),
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    timeline: str | None = None,
) -> CommandResult:
    """Run `command` with `worktree` as its working directory, sandboxed (module docstring).

    `command` is an argv, or a function that writes its inputs into the `Scratch` and returns
    the argv. `outputs` name files the command writes under `Scratch.out`; those found come back
    in `CommandResult.outputs`. `isolate=False` skips the namespaces (the result says so).
    `timeline` names a file under `Scratch.out` the parent polls while the command runs: each
    content it saw, when on the parent's clock, and the sandbox's CPU time then
    (`CommandResult.timeline`).
    """
    limits = limits or SandboxLimits()
    worktree = Path(worktree).resolve()
    scratch = Scratch(Path(tempfile.mkdtemp(prefix="recloop-command-")).resolve())
    try:
        for folder in (scratch.box / "home", scratch.box / "tmp", scratch.out):
            folder.mkdir(parents=True)
        (scratch.root / "logs").mkdir()
        argv = list(command(scratch) if callable(command) else command)
        if not argv:
            raise ValueError("the command is empty")
        wrapped = python_command(module_file(sandbox_exec), _limits_json(limits), "--", *argv)
        prefix, why = namespace_prefix() if isolate else (None, "isolation turned off")
        wanted: list[str] = []
        unhideable: list[str] = []
        if prefix is not None:
            wanted, unhideable = hideable(paths_to_hide(hidden_paths), [worktree, scratch.root])
        deadline = time.monotonic() + limits.wall_seconds
        launcher = launcher_command(prefix, wrapped, scratch.root, worktree, wanted, deadline)
        env = scrubbed_env(scratch.box, limits.threads)
        backstop = limits.wall_seconds + BACKSTOP_SECONDS
        watch = None if timeline is None else FileTimeline(scratch.out / timeline)
        ended = spawn_and_wait(
            launcher, env, scratch.root / "logs", backstop, with_report=True, watch=watch
        )
        report, final = read_report(ended.report)
        if prefix is None:
            isolation = Isolation.none(f"no namespaces: {why}")
        else:
            isolation = Isolation.from_launcher(report, wanted, unhideable)
        files = {}
        for name in outputs:
            data = open_output(scratch.out / name, max_output_bytes)
            if data is not None:
                files[name] = data
        result = _classify(ended, final, isolation, scratch, limits, files)
        if watch is not None:
            result = result.model_copy(update={"timeline": watch.entries})
        return result
    finally:
        shutil.rmtree(scratch.root, ignore_errors=True)


def _limits_json(limits: SandboxLimits) -> str:
    return json.dumps(
        {
            "memory_mb": limits.memory_mb,
            "cpu_seconds": limits.effective_cpu_seconds,
            "max_output_mb": limits.max_output_mb,
        }
    )


def _classify(
    ended: Exit,
    final: dict[str, Any],
    isolation: Isolation,
    scratch: Scratch,
    limits: SandboxLimits,
    files: dict[str, bytes],
) -> CommandResult:
    """Exit code, CPU time and peak RSS from the launcher (the spawned process as a fallback)."""
    code = final.get("exit_code")
    if not isinstance(code, int) or isinstance(code, bool):
        code = os.waitstatus_to_exitcode(ended.status)
    cpu = final.get("cpu_seconds")
    if not isinstance(cpu, int | float) or isinstance(cpu, bool):
        cpu = ended.rusage.ru_utime + ended.rusage.ru_stime
    rss_kb = final.get("max_rss_kb")
    peak = float(rss_kb) / 1024.0 if isinstance(rss_kb, int | float) else None
    stdout = _tail(scratch.root / "logs" / "stdout")
    stderr = _tail(scratch.root / "logs" / "stderr")
    timed_out = ended.timed_out or final.get("timed_out") is True
    status, detail = _status(timed_out, code, float(cpu), stderr, limits)
    return CommandResult(
        status=status,
        detail=detail,
        exit_code=code,
        wall_seconds=ended.wall_seconds,
        cpu_seconds=float(cpu),
        peak_memory_mb=peak,
        isolation=isolation,
        stdout_tail=stdout,
        stderr_tail=stderr,
        outputs=files,
    )


def _status(
    timed_out: bool, code: int, cpu: float, stderr: str, limits: SandboxLimits
) -> tuple[CommandStatus, str]:
    signum = -code if code < 0 else None
    if timed_out:
        return "timeout", f"killed after the wall-clock limit of {limits.wall_seconds:g} s"
    if signum == signal.SIGXCPU or (
        signum == signal.SIGKILL and cpu >= limits.effective_cpu_seconds
    ):
        return "timeout", f"stopped at the CPU-time limit of {limits.effective_cpu_seconds:g} s"
    last = stderr.strip().splitlines()[-1:] or [""]
    if code != 0 and last[0].startswith("MemoryError"):
        return "oom", f"MemoryError under the memory limit of {limits.memory_mb} MB"
    if signum is not None:
        name = signal.Signals(signum).name if signum in signal.valid_signals() else str(signum)
        if signum in _MEMORY_SIGNALS and limits.memory_mb is not None:
            return "oom", f"killed by {name} under the memory limit of {limits.memory_mb} MB"
        return "killed", f"killed by {name}"
    if code != 0:
        return "failed", f"exited with code {code}"
    return "ok", "exited with code 0"


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - TAIL_CHARS))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
