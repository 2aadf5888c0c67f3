"""Any command under the sandbox: exit statuses, limits, files back, isolation."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from recloop.workspace import sandbox_exec
from recloop.workspace.isolation import namespace_prefix
from recloop.workspace.sandbox import SandboxLimits
from recloop.workspace.sandbox_command import Scratch, python_command, run_command

ISOLATED = namespace_prefix()[0] is not None
FAST = SandboxLimits(wall_seconds=20, memory_mb=1024)


def _python(code: str) -> list[str]:
    return python_command("-c", code)


def test_ok_with_its_output_and_costs(tmp_path: Path) -> None:
    result = run_command(tmp_path, _python("import os; print(os.getcwd())"), FAST)
    assert (result.status, result.exit_code) == ("ok", 0)
    assert result.stdout_tail.strip() == str(tmp_path.resolve())
    assert result.wall_seconds > 0 and result.peak_memory_mb is not None


def test_a_failing_command(tmp_path: Path) -> None:
    result = run_command(
        tmp_path, _python("import sys; sys.stderr.write('bad'); sys.exit(3)"), FAST
    )
    assert (result.status, result.exit_code) == ("failed", 3)
    assert result.stderr_tail == "bad"


def test_wall_clock_and_memory_limits(tmp_path: Path) -> None:
    slow = run_command(
        tmp_path, _python("import time; time.sleep(30)"), SandboxLimits(wall_seconds=1)
    )
    assert slow.status == "timeout" and slow.wall_seconds < 10
    big = run_command(tmp_path, _python("x = bytearray(2 * 2**30)"), SandboxLimits(memory_mb=512))
    assert big.status == "oom"


def test_inputs_in_and_files_out(tmp_path: Path) -> None:
    def command(scratch: Scratch) -> list[str]:
        (scratch.root / "in.txt").write_text("41")
        number = f"int(open('{scratch.root}/in.txt').read())"
        return _python(f"open('{scratch.out}/answer', 'w').write(str({number} + 1))")

    result = run_command(tmp_path, command, FAST, outputs=["answer", "missing"])
    assert result.ok and result.outputs == {"answer": b"42"}


def test_a_timeline_is_timed_on_the_parents_clock(tmp_path: Path) -> None:
    """The child writes a phase, fakes its own clock, waits 0.4 s and writes another: the
    parent's times are 0.4 s apart whatever the child's clock says."""

    def command(scratch: Scratch) -> list[str]:
        path = scratch.out / "phase"
        code = (
            "import os, time\n"
            "def say(word):\n"
            f"    open('{path}.tmp', 'w').write(word); os.replace('{path}.tmp', '{path}')\n"
            "say('one'); time.perf_counter = lambda: 0.0; time.sleep(0.4); say('two')\n"
            "time.sleep(0.1)\n"
        )
        return _python(code)

    result = run_command(tmp_path, command, FAST, timeline="phase")
    assert result.ok, result.stderr_tail
    said = [seen.text for seen in result.timeline]
    assert said == ["one", "two"]
    first, second = (seen.at for seen in result.timeline)
    assert 0.3 <= second - first < 1.5  # the child claims 0: its clock is frozen
    assert second <= result.wall_seconds
    assert run_command(tmp_path, command, FAST).timeline == []  # only when asked


def test_the_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    result = run_command(tmp_path, _python("import os; print(sorted(os.environ))"), FAST)
    assert "SECRET_TOKEN" not in result.stdout_tail


@pytest.mark.skipif(not ISOLATED, reason="namespace isolation unavailable here")
def test_no_network_and_a_read_only_worktree(tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "except OSError as e:\n    print('net', e.errno)\n"
        "try:\n    open('x', 'w')\nexcept OSError as e:\n    print('fs', e.errno)\n"
    )
    result = run_command(tmp_path, _python(code), FAST)
    assert result.ok and "net" in result.stdout_tail and "fs 30" in result.stdout_tail
    assert result.isolation.complete
    assert not (tmp_path / "x").exists()


def test_without_isolation_it_says_so(tmp_path: Path) -> None:
    result = run_command(tmp_path, _python("pass"), FAST, isolate=False)
    assert result.ok and result.isolation.network == "unavailable"


def test_an_empty_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        run_command(tmp_path, [], FAST)


def test_sandbox_exec_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = SimpleNamespace(apply_limits=lambda limits: None)  # keep this process's limits
    monkeypatch.setattr(sandbox_exec, "_sandbox_child", lambda: stub)
    assert sandbox_exec.main(["{}"]) == 2
    assert sandbox_exec.main(["{}", "--", "/nonexistent/program"]) == 127
    assert "cannot run" in capsys.readouterr().err  # the exec itself: every run above
