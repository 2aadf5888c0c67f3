"""How far a sandboxed run can be isolated on this machine, and the report of what it got.

With `unshare` and `setpriv` (util-linux) and the right to create namespaces (root, or
unprivileged user namespaces), the child runs in new mount, network and PID namespaces set up
by `sandbox_launch`: no network, the data folders masked, everything but its scratch folder
read-only, no capabilities. Without them the child still gets the scrubbed environment, the
resource limits and its own process group, and the report says what is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict

import recloop
from recloop.recsys.datadir import data_dir


class Isolation(BaseModel):
    """What a sandboxed run was actually denied (checked, not assumed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    network: Literal["isolated", "unavailable"]  # "unavailable": isolation unavailable
    data: Literal["hidden", "visible"]  # the data and cache folders (and any extra paths)
    filesystem: Literal["read-only", "writable"]  # everything outside the run's scratch folder
    processes: Literal["isolated", "shared"]  # a PID namespace: no other process visible
    privileges: Literal["dropped", "unchanged"]  # capabilities dropped, no new privileges
    hidden_paths: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return (self.network, self.data, self.filesystem, self.processes, self.privileges) == (
            "isolated",
            "hidden",
            "read-only",
            "isolated",
            "dropped",
        )

    @classmethod
    def none(cls, reason: str) -> Isolation:
        """No namespaces: the run sees the network, the data and the whole file system."""
        return cls(
            network="unavailable",
            data="visible",
            filesystem="writable",
            processes="shared",
            privileges="unchanged",
            notes=(reason,),
        )

    @classmethod
    def from_launcher(
        cls, report: dict[str, Any] | None, wanted: Iterable[str], unhideable: Iterable[str]
    ) -> Isolation:
        """Read the launcher's report; anything it did not confirm counts as not achieved.

        `wanted` are the paths the launcher was asked to mask; `unhideable` notes paths that
        could not be masked at all (the run needed a folder inside them).
        """
        unhideable = tuple(unhideable)
        if report is None:
            return cls.none("the sandbox launcher sent no report")
        hidden = tuple(report.get("hidden", ()))
        failures = [*report.get("hide_failed", ()), *report.get("read_only_failed", ())]
        return cls(
            network="isolated" if report.get("network") else "unavailable",
            data="hidden" if set(wanted) <= set(hidden) and not unhideable else "visible",
            filesystem="writable" if report.get("read_only_failed") else "read-only",
            processes="isolated" if report.get("pid_namespace") else "shared",
            privileges="dropped",
            hidden_paths=hidden,
            notes=(*unhideable, *(f"failed: {f}" for f in failures)),
        )


@lru_cache(maxsize=1)
def namespace_prefix() -> tuple[tuple[str, ...] | None, str]:
    """The `unshare ...` command prefix that works here (None if none does) and why."""
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    if unshare is None or setpriv is None:
        missing = "unshare" if unshare is None else "setpriv"
        return None, f"{missing} (util-linux) is not installed"
    prefix = [unshare, "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        prefix += ["--user", "--map-root-user"]
    try:  # the interpreter itself, as the launcher will run: it may be unreachable in there
        probe = subprocess.run(
            [*prefix, "--", sys.executable, "-P", "-s", "-B", "-c", "pass"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"unshare could not run: {exc}"
    if probe.returncode != 0:
        reason = probe.stderr.decode("utf-8", "replace").strip()
        return None, f"namespaces are not permitted here: {reason}"
    mode = "as root" if os.geteuid() == 0 else "in a user namespace"
    return tuple(prefix), f"mount, network and PID namespaces {mode}"


def setpriv_path() -> str:
    path = shutil.which("setpriv")
    if path is None:
        raise RuntimeError("setpriv is not installed")
    return path


def paths_to_hide(extra: Iterable[str | Path] = ()) -> list[Path]:
    """The data directory, recloop's user cache directory and `extra`, resolved, de-duplicated."""
    candidates = [data_dir(), Path(platformdirs.user_cache_dir("recloop")), *map(Path, extra)]
    out: list[Path] = []
    for path in candidates:
        resolved = path.expanduser().resolve()
        if resolved not in out:
            out.append(resolved)
    return out


def hideable(paths: Iterable[Path], needed: Iterable[Path]) -> tuple[list[str], list[str]]:
    """Existing paths safe to mask (none holds a folder the run needs) and notes on the rest."""
    needed = [p.resolve() for p in needed]
    needed += [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    needed += [Path(recloop.__file__).resolve().parent]
    ok, notes = [], []
    for path in paths:
        if not path.exists():
            continue
        blocking = [n for n in needed if n == path or path in n.parents]
        if blocking:
            notes.append(f"cannot hide {path}: the run needs {blocking[0]} inside it")
        else:
            ok.append(str(path))
    return ok, notes
