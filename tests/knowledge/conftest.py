"""Shared pieces of the knowledge tests: a fixed clock, champions, a failure factory, git."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHAMPION = Champion(commit="a" * 40, generation=5)
NEXT_CHAMPION = Champion(commit="b" * 40, generation=6)

MakeFailure = Callable[..., FailureRecord]


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def champion() -> Champion:
    return CHAMPION


@pytest.fixture
def make_failure() -> MakeFailure:
    """A failure record with sensible defaults; every call is a distinct record (new time)."""
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> FailureRecord:
        n = next(counter)
        defaults: dict[str, Any] = {
            "stage": "structural",
            "cause": "undefined-name",
            "sentence": f"attempt {n}: name 'decay' is not defined",
            "now": NOW.replace(minute=n % 60, second=n // 60),
            "family": "time-decay",
            "parameters": {"half_life_days": 30},
            "changed_files": ["movierec/data.py"],
            "sources": {
                "movierec/data.py": (
                    "def weights():\n    return 1\n",
                    f"def weights():\n    return decay({n})\n",
                )
            },
            "champion": CHAMPION.commit,
        }
        defaults.update(fields)
        return FailureRecord.from_rejection(**defaults)

    return make


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def git_workspace(tmp_path: Path) -> Path:
    """A git repository with one commit on main (not a full recloop workspace)."""
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Team")
    git(root, "config", "user.email", "team@example.com")
    (root / "a.txt").write_text("one\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "champion")
    return root
