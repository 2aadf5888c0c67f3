import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from recloop.workspace import sandbox_launch
from recloop.workspace.isolation import namespace_prefix, setpriv_path
from recloop.workspace.sandbox import scrubbed_env
from recloop.workspace.sandbox_launch import parse_mountinfo, under
from recloop.workspace.sandbox_process import spawn_and_wait

PREFIX = namespace_prefix()[0]
needs_namespaces = pytest.mark.skipif(
    PREFIX is None, reason=f"namespace isolation unavailable here: {namespace_prefix()[1]}"
)

# What the child checks from inside; prints one JSON object.
PROBE = """
import json, os, socket, sys
hidden_dir, hidden_file, box, outside = sys.argv[1:5]
def writable(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return True
    except OSError as exc:
        return exc.strerror
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd"))]
print(json.dumps({
    "hidden_dir": os.listdir(hidden_dir),
    "hidden_file": open(hidden_file).read(),
    "box": writable(os.path.join(box, "ok.txt")),
    "outside": writable(outside),
    "hide_again": writable(os.path.join(hidden_dir, "x")),
    "caps": caps,
    "pid": os.getpid(),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "cwd": os.getcwd(),
}))
sys.exit(int(os.environ.get("EXIT", "0")))
"""


def test_parse_mountinfo_decodes_escaped_mount_points() -> None:
    text = (
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "40 27 0:40 / /mnt/with\\040space ro,nosuid,nodev - tmpfs tmpfs ro\n"
    )
    assert parse_mountinfo(text) == [
        ("/proc", {"rw", "relatime"}),
        ("/", {"rw", "relatime"}),
        ("/mnt/with space", {"ro", "nosuid", "nodev"}),
    ]


def test_under() -> None:
    assert under("/dev/shm", ("/proc", "/dev"))
    assert under("/dev", ["/dev"])
    assert not under("/devices", ["/dev"])
    assert not under("/", ["/tmp/box"])


def _launch(
    tmp_path: Path,
    probe: str = PROBE,
    isolate: bool = True,
    exit_code: int = 0,
    wall_seconds: float = 30.0,
) -> tuple[Any, Path]:
    box = tmp_path / "box"
    (box / "home").mkdir(parents=True)
    hidden_dir = tmp_path / "data"
    hidden_dir.mkdir()
    (hidden_dir / "heldout.npz").write_bytes(b"secret rows")
    hidden_file = tmp_path / "token.txt"
    hidden_file.write_text("a token")
    outside = tmp_path / "outside.txt"
    logs = tmp_path / "logs"
    logs.mkdir()
    child = [sys.executable, "-c", probe, str(hidden_dir), str(hidden_file), str(box), str(outside)]
    config = {
        "isolate": isolate,
        "hide": [str(hidden_dir), str(hidden_file)],
        "writable": str(box),
        "child_argv": child,
        "cwd": str(tmp_path),
        "setpriv": setpriv_path() if isolate else None,
        "deadline": time.monotonic() + wall_seconds,
    }
    (tmp_path / "launch.json").write_text(json.dumps(config))
    assert sandbox_launch.__file__ is not None
    argv = [
        sys.executable,
        "-P",
        "-s",
        "-B",
        sandbox_launch.__file__,
        str(tmp_path / "launch.json"),
    ]
    if isolate:
        assert PREFIX is not None
        argv = [*PREFIX, "--", *argv]
    env = {**scrubbed_env(box, 1), "EXIT": str(exit_code)}
    ended = spawn_and_wait(argv, env, logs, wall_seconds + 5, with_report=True)
    assert os.waitstatus_to_exitcode(ended.status) == 0, (logs / "stderr").read_text()
    return ended, logs


def _lines(ended: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ended.report.decode().splitlines()]


@needs_namespaces
def test_the_launcher_hides_confines_and_drops_privileges(tmp_path: Path) -> None:
    ended, logs = _launch(tmp_path, exit_code=7)
    report, final = _lines(ended)
    assert report["network"] is True and report["pid_namespace"] is True
    assert report["hidden"] == [str(tmp_path / "data"), str(tmp_path / "token.txt")]
    assert report["hide_failed"] == [] and report["read_only_failed"] == []
    assert final["exit_code"] == 7 and final["timed_out"] is False
    assert final["max_rss_kb"] > 1000 and final["cpu_seconds"] > 0

    seen = json.loads((logs / "stdout").read_text())
    assert seen["hidden_dir"] == [] and seen["hidden_file"] == ""
    assert seen["box"] is True and (tmp_path / "box" / "ok.txt").exists()
    assert seen["outside"] == "Read-only file system" and not (tmp_path / "outside.txt").exists()
    assert seen["hide_again"] == "Read-only file system"
    assert seen["caps"] == ["0000000000000000", "0000000000000000"]
    assert seen["pid"] != 1 and seen["interfaces"] == ["lo"]
    assert seen["cwd"] == str(tmp_path)
    # outside the namespace nothing changed
    assert (tmp_path / "data" / "heldout.npz").read_bytes() == b"secret rows"


@needs_namespaces
def test_the_launcher_reports_a_child_killed_by_a_signal(tmp_path: Path) -> None:
    ended, _ = _launch(tmp_path, probe="import os; os.kill(os.getpid(), 11)")
    assert _lines(ended)[1]["exit_code"] == -11


@pytest.mark.parametrize("isolate", [False, pytest.param(True, marks=needs_namespaces)])
def test_the_launcher_kills_the_child_at_the_deadline(tmp_path: Path, isolate: bool) -> None:
    started = time.monotonic()
    ended, _ = _launch(
        tmp_path, probe="import time; time.sleep(60)", isolate=isolate, wall_seconds=1
    )
    report, final = _lines(ended)
    assert final["timed_out"] is True and final["exit_code"] == -9
    # the deadline counts the launcher's own set-up too, so the child may run a little under 1 s
    assert 0.5 < final["wall_seconds"] < 2 and time.monotonic() - started < 4
    assert (report == {}) is not isolate


def test_without_isolation_the_launcher_only_supervises(tmp_path: Path) -> None:
    ended, logs = _launch(tmp_path, isolate=False, exit_code=3)
    report, final = _lines(ended)
    assert report == {} and final["exit_code"] == 3
    seen = json.loads((logs / "stdout").read_text())
    assert seen["hidden_dir"] == ["heldout.npz"] and seen["outside"] is True
