"""ruff on changed files: undefined names found, `# noqa` ignored, the champion's debt forgiven."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.cascade import causes, lint


def _write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def test_undefined_names_first_and_noqa_ignored(tmp_path: Path) -> None:
    new, base = tmp_path / "new", tmp_path / "base"
    _write(new, "m/a.py", "import os\n\n\ndef f():\n    return x  # noqa: F821\n")
    found = lint.lint(new, base, ["m/a.py"], timeout=30)
    assert found is not None
    assert [(f.cause, f.path, f.line) for f in found] == [
        (causes.UNDEFINED_NAME, "m/a.py", 5),
        (causes.LINT_ERROR, "m/a.py", 1),  # F401: `os` unused
    ]
    assert found[0].message.startswith("F821")


def test_findings_the_champion_already_had_do_not_count(tmp_path: Path) -> None:
    new, base = tmp_path / "new", tmp_path / "base"
    _write(base, "a.py", "import os\n")
    _write(new, "a.py", "import os\n\nimport sys\n")
    found = lint.lint(new, base, ["a.py"], timeout=30)
    assert found is not None
    assert [f.message for f in found] == ["F401 `sys` imported but unused"]


def test_clean_files_and_no_files(tmp_path: Path) -> None:
    _write(tmp_path / "new", "a.py", "x = 1\n")
    assert lint.lint(tmp_path / "new", tmp_path / "base", ["a.py"], timeout=30) == []
    assert lint.lint(tmp_path / "new", tmp_path / "base", [], timeout=30) == []


def test_without_ruff_the_check_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint, "ruff_command", lambda: None)
    assert lint.lint(tmp_path, tmp_path, ["a.py"], timeout=30) is None
