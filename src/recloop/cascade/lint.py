"""ruff on a candidate's changed Python files: undefined names and other pyflakes errors.

recloop runs `ruff check --select F,E9` itself, with `--isolated` (the workspace's ruff settings
cannot switch rules off) and `--ignore-noqa` (a `# noqa` comment in the candidate cannot hide a
finding). Only findings the change introduced count: the champion's versions of the same files
are checked in the same call and their findings subtracted (by rule and message), so a candidate
is never blamed for debt it did not write. ruff parses, it never runs the code, so it runs
outside the sandbox. Without ruff installed the check is skipped and the verdict says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from recloop.cascade import causes
from recloop.cascade.static_checks import Finding

UNDEFINED_NAME_CODES = frozenset(("F821", "F822", "F823"))
SELECT = "F,E9"


def ruff_command() -> list[str] | None:
    """The ruff executable next to recloop's interpreter (as `python -m ruff` finds it)."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        return None
    try:
        return [str(find_ruff_bin())]
    except FileNotFoundError:
        return [sys.executable, "-m", "ruff"]


def lint(new_root: Path, base_root: Path, files: list[str], timeout: float) -> list[Finding] | None:
    """New findings in `files` (relative paths under `new_root`); None when ruff is missing.

    `base_root` holds the champion's versions of those files that existed before the change.
    """
    command = ruff_command()
    if command is None or not files:
        return None if command is None else []
    targets = [new_root / f for f in files] + [
        base_root / f for f in files if (base_root / f).is_file()
    ]
    proc = subprocess.run(
        [
            *command,
            "check",
            "--isolated",
            "--no-cache",
            "--ignore-noqa",
            "--select",
            SELECT,
            "--target-version",
            f"py3{sys.version_info.minor}",
            "--output-format",
            "json",
            "--exit-zero",
            *map(str, targets),
        ],
        capture_output=True,
        timeout=max(timeout, 1.0),
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ruff failed (exit {proc.returncode}): {proc.stderr.decode()[-500:]}")
    rows = json.loads(proc.stdout or b"[]")
    candidate: list[Finding] = []
    champion: Counter[str] = Counter()
    for row in rows:
        path = Path(row["filename"]).resolve()
        code = str(row.get("code") or "E999")
        signature = f"{code}|{row.get('message', '')}"
        if path.is_relative_to(base_root.resolve()):
            champion[signature] += 1
            continue
        rel = path.relative_to(new_root.resolve()).as_posix()
        cause = causes.UNDEFINED_NAME if code in UNDEFINED_NAME_CODES else causes.LINT_ERROR
        line = int((row.get("location") or {}).get("row") or 0)
        candidate.append(Finding(cause, rel, line, f"{code} {row.get('message', '')}", signature))
    out = []
    for finding in sorted(
        candidate, key=lambda f: (f.cause != causes.UNDEFINED_NAME, f.path, f.line)
    ):
        if champion[finding.signature] > 0:
            champion[finding.signature] -= 1
        else:
            out.append(finding)
    return out
