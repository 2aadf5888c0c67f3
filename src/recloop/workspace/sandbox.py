"""Run a workspace's recommender in a child process and judge it with recloop's own evaluator.

`run_sandbox` writes the training split (and nothing else) to a fresh scratch folder and starts
the child (`sandbox_child`) under the small trusted supervisor `sandbox_launch`, in its own
session, with a scrubbed environment and resource limits — inside mount, network and PID
namespaces when the machine allows (see `isolation`). The supervisor kills the child at the
wall-clock deadline and reports its exit, CPU time and peak memory; the parent kills the whole
process group after the run (and, as a backstop, shortly after the deadline). The parent then
reads the child's files, validates the recommendations against the protocol and returns a
`SandboxResult`: status, costs (fit and recommend seconds as the child measured them) and the
isolation actually achieved.

`sandboxed_recommender.SandboxedRecommender` wraps one run in recloop's `Recommender` protocol, so
`recloop.recsys.evaluate.evaluate(SandboxedRecommender(...), split)` scores workspace code with
the trusted evaluator: the child ranks every user once; the evaluator slices the lists it needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field

from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import InvalidRecommendationsError, validate_recommendations
from recloop.workspace import sandbox_child, sandbox_launch
from recloop.workspace.isolation import (
    Isolation,
    hideable,
    namespace_prefix,
    paths_to_hide,
    setpriv_path,
)
from recloop.workspace.sandbox_files import (
    LAUNCH_FILE,
    REQUEST_FILE,
    TRAIN_FILE,
    read_recommendations,
    read_result,
    write_json,
    write_train,
)
from recloop.workspace.sandbox_process import Exit, spawn_and_wait

ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
SandboxStatus = Literal["ok", "timeout", "oom", "crash", "bad-output"]
TAIL_CHARS = 4000
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
_MEMORY_SIGNALS = (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT)
BACKSTOP_SECONDS = 2.0  # the parent kills the launcher itself this long after the deadline
_PYTHON_FLAGS = ("-P", "-s", "-B")  # no unsafe sys.path entry, no user site, no .pyc


class SandboxLimits(BaseModel):
    """What one sandboxed run may spend (the cascade's stage budgets map onto these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wall_seconds: float = Field(default=600.0, gt=0)
    memory_mb: int | None = Field(default=4096, gt=0)  # address space (RLIMIT_AS); None: unlimited
    cpu_seconds: float | None = Field(default=None, gt=0)  # RLIMIT_CPU; None: the wall-clock limit
    max_output_mb: int = Field(default=256, gt=0)  # largest file the child may write (RLIMIT_FSIZE)
    threads: int = Field(default=1, ge=1)  # BLAS / OpenMP threads

    @property
    def effective_cpu_seconds(self) -> float:
        return self.cpu_seconds if self.cpu_seconds is not None else self.wall_seconds


class SandboxResult(BaseModel):
    """How a sandboxed fit + recommend ended, what it cost, and its recommendations if ok."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    status: SandboxStatus
    detail: str
    n_users: int
    k: int
    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float | None  # the child's peak RSS; None if it could not be measured
    fit_seconds: float | None = None  # measured inside the child (its own report)
    recommend_seconds: float | None = None  # idem, for all n_users
    exit_code: int | None = None  # negative: killed by that signal
    isolation: Isolation
    traceback_tail: str = ""
    stdout_tail: str = ""
    stderr_tail: str = ""
    recommendations: np.ndarray | None = Field(default=None, exclude=True, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def latency_ms_per_1k_users(self) -> float | None:
        """Milliseconds to recommend for 1,000 users (from the child's recommend time)."""
        if self.recommend_seconds is None or self.n_users == 0:
            return None
        return self.recommend_seconds * 1000.0 / self.n_users * 1000.0


def run_sandbox(
    worktree: str | Path,
    entry_point: str,
    train: Interactions,
    k: int,
    limits: SandboxLimits | None = None,
    *,
    source_dir: str = ".",
    hidden_paths: Iterable[str | Path] = (),
    isolate: bool = True,
    batch_users: int = 1024,
) -> SandboxResult:
    """Fit the workspace's `entry_point` on `train` and rank `k` items for every user, sandboxed.

    `source_dir` (relative to the worktree) goes first on the child's `sys.path`;
    `hidden_paths` are masked in addition to the data and cache directories; `isolate=False`
    skips the namespaces (for debugging; the result reports it).
    """
    limits = limits or SandboxLimits()
    worktree = Path(worktree).resolve()
    if not ENTRY_POINT.match(entry_point):
        raise ValueError(f"entry point {entry_point!r} must read 'package.module:Factory'")
    if Path(source_dir).is_absolute() or ".." in Path(source_dir).parts:
        raise ValueError(f"source_dir {source_dir!r} must be a folder inside the worktree")
    if not 1 <= k <= longest_list(train):
        raise ValueError(
            f"k must be between 1 and {longest_list(train)}, the number of items the heaviest "
            f"user has not seen (a longer list must repeat or include seen items), got {k}"
        )
    scratch = Path(tempfile.mkdtemp(prefix="recloop-sandbox-")).resolve()
    try:
        child = _write_inputs(
            scratch, train, worktree, entry_point, source_dir, k, batch_users, limits
        )
        prefix, why = namespace_prefix() if isolate else (None, "isolation turned off")
        wanted: list[str] = []
        unhideable: list[str] = []
        if prefix is not None:
            wanted, unhideable = hideable(paths_to_hide(hidden_paths), [worktree, scratch])
        deadline = time.monotonic() + limits.wall_seconds
        argv = launcher_command(prefix, child, scratch, worktree, wanted, deadline)
        env = scrubbed_env(scratch / "box", limits.threads)
        backstop = limits.wall_seconds + BACKSTOP_SECONDS
        ended = spawn_and_wait(argv, env, scratch / "logs", backstop, with_report=True)
        report, final = read_report(ended.report)
        if prefix is None:
            isolation = Isolation.none(f"no namespaces: {why}")
        else:
            isolation = Isolation.from_launcher(report, wanted, unhideable)
        return _classify(ended, final, isolation, scratch, train, k, limits)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_inputs(
    scratch: Path,
    train: Interactions,
    worktree: Path,
    entry_point: str,
    source_dir: str,
    k: int,
    batch_users: int,
    limits: SandboxLimits,
) -> list[str]:
    """Lay out the scratch folder (see `sandbox_files`); return the child's command."""
    box = scratch / "box"
    for folder in (box / "home", box / "tmp", box / "out", scratch / "logs"):
        folder.mkdir(parents=True)
    write_train(train, scratch / TRAIN_FILE)
    request = {
        "entry_point": entry_point,
        "worktree": str(worktree),
        "source_dir": source_dir,
        "train": str(scratch / TRAIN_FILE),
        "out_dir": str(box / "out"),
        "k": k,
        "batch_users": batch_users,
        "limits": {
            "memory_mb": limits.memory_mb,
            "cpu_seconds": limits.effective_cpu_seconds,
            "max_output_mb": limits.max_output_mb,
        },
    }
    write_json(scratch / REQUEST_FILE, request)
    return [
        sys.executable,
        *_PYTHON_FLAGS,
        module_file(sandbox_child),
        str(scratch / REQUEST_FILE),
    ]


def launcher_command(
    prefix: tuple[str, ...] | None,
    child: list[str],
    scratch: Path,
    worktree: Path,
    hide: list[str],
    deadline: float,
) -> list[str]:
    """`[unshare ...] python sandbox_launch.py launch.json`, with its instructions written."""
    launch = {
        "isolate": prefix is not None,
        "hide": hide,
        "writable": str(scratch / "box"),
        "child_argv": child,
        "cwd": str(worktree),
        "setpriv": setpriv_path() if prefix is not None else None,
        "deadline": deadline,
    }
    write_json(scratch / LAUNCH_FILE, launch)
    launcher = [sys.executable, *_PYTHON_FLAGS, module_file(sandbox_launch)]
    command = [*launcher, str(scratch / LAUNCH_FILE)]
    return command if prefix is None else [*prefix, "--", *command]


def module_file(module: ModuleType) -> str:
    """A module's file, run by path: the child skips the `recloop.workspace` package imports."""
    assert module.__file__ is not None
    return str(Path(module.__file__).resolve())


def longest_list(train: Interactions) -> int:
    """The largest k every user can be given without seen items: items minus the most seen."""
    most_seen = int(train.user_counts.max()) if train.n_interactions else 0
    return train.n_items - most_seen


def scrubbed_env(box: Path, threads: int) -> dict[str, str]:
    """The child's whole environment: nothing is inherited from the parent."""
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {
        "PATH": path,
        "HOME": str(box / "home"),
        "TMPDIR": str(box / "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",  # fewer malloc arenas: less address space per thread
    }
    env.update(dict.fromkeys(THREAD_VARS, str(threads)))
    return env


def read_report(raw: bytes) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The launcher's isolation report and its account of the child's end ({} where missing)."""
    lines = raw.decode("utf-8", "replace").splitlines()
    parsed: list[Any] = []
    for line in lines[:2]:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            break
    report = parsed[0] if parsed and isinstance(parsed[0], dict) else None
    final = parsed[1] if len(parsed) > 1 and isinstance(parsed[1], dict) else {}
    return report, final


def _classify(
    ended: Exit,
    final: dict[str, Any],
    isolation: Isolation,
    scratch: Path,
    train: Interactions,
    k: int,
    limits: SandboxLimits,
) -> SandboxResult:
    """Turn the launcher's account, the result file and the recommendations into a result.

    Exit code, CPU time and peak RSS are the launcher's (measured on the child itself); when
    the launcher did not report (killed by the parent's backstop), the exit status and CPU time
    are those of the spawned process, and the peak memory is unknown.
    """
    code = final.get("exit_code")
    if not isinstance(code, int):
        code = os.waitstatus_to_exitcode(ended.status)
    cpu = _number(final.get("cpu_seconds"))
    if cpu is None:
        cpu = ended.rusage.ru_utime + ended.rusage.ru_stime
    rss_kb = _number(final.get("max_rss_kb"))
    timed_out = ended.timed_out or final.get("timed_out") is True
    result = read_result(scratch / "box" / "out") or {}
    common: dict[str, Any] = {
        "n_users": train.n_users,
        "k": k,
        "wall_seconds": ended.wall_seconds,
        "cpu_seconds": cpu,
        "peak_memory_mb": None if rss_kb is None else rss_kb / 1024.0,
        "fit_seconds": _number(result.get("fit_seconds")),
        "recommend_seconds": _number(result.get("recommend_seconds")),
        "exit_code": code,
        "isolation": isolation,
        "traceback_tail": str(result.get("traceback", ""))[-TAIL_CHARS:],
        "stdout_tail": _tail(scratch / "logs" / "stdout"),
        "stderr_tail": _tail(scratch / "logs" / "stderr"),
    }
    status, detail = _status(timed_out, code, cpu, result, limits)
    if status != "ok":
        return SandboxResult(status=status, detail=detail, **common)
    recs = read_recommendations(scratch / "box" / "out", train.n_users, k)
    if isinstance(recs, str):
        return SandboxResult(status="bad-output", detail=recs, **common)
    users = np.arange(train.n_users)
    try:
        validate_recommendations(recs, users, k, train.n_items, train.binary)
    except InvalidRecommendationsError as exc:
        return SandboxResult(status="bad-output", detail=str(exc), **common)
    return SandboxResult(status="ok", detail=detail, recommendations=recs, **common)


def _status(
    timed_out: bool, code: int, cpu: float, result: dict[str, Any], limits: SandboxLimits
) -> tuple[SandboxStatus, str]:
    signum = -code if code < 0 else None
    signame = signal.Signals(signum).name if signum in signal.valid_signals() else str(signum)
    if timed_out:
        return "timeout", f"killed after the wall-clock limit of {limits.wall_seconds:g} s"
    if signum == signal.SIGXCPU or (
        signum == signal.SIGKILL and cpu >= limits.effective_cpu_seconds
    ):
        return "timeout", f"stopped at the CPU-time limit of {limits.effective_cpu_seconds:g} s"
    reported = result.get("status")
    if reported in ("oom", "crash", "bad-output"):
        error = str(result.get("error", ""))[:500]
        if reported == "oom":
            return "oom", f"MemoryError under the memory limit of {limits.memory_mb} MB"
        return reported, error or reported
    if signum in _MEMORY_SIGNALS and limits.memory_mb is not None:
        return "oom", f"killed by {signame} under the memory limit of {limits.memory_mb} MB"
    if signum is not None:
        return "crash", f"killed by {signame}"
    if reported != "ok":
        return "crash", f"exited with code {code} without a result"
    if code != 0:
        return "crash", f"exited with code {code} after writing its result"
    return "ok", "fit and recommend finished"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - TAIL_CHARS))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
