"""The structural stage on a real example workspace: refusals, findings, and the commit made."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.settings import CascadeSettings
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission
from recloop.workspace.errors import GitError
from recloop.workspace.git import run_git


def _diff(root: Path, path: str, old: str, new: str) -> str:
    """A patch made by editing a file and asking git, then undoing the edit."""
    target = root / path
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(old, new) if old else new, encoding="utf-8")
    run_git(["add", "--all"], root)
    patch = run_git(["diff", "--cached", "--no-ext-diff"], root).decode()
    run_git(["reset", "--quiet", "--hard"], root)
    run_git(["clean", "-fdq"], root)
    return patch


def _run(context: CascadeContext, patch: str, name: str = "cand") -> tuple[str, str, str]:
    verdict = StructuralStage().run(Submission(name=name, patch=patch), context)
    return verdict.outcome, verdict.cause, verdict.sentence


def test_a_sound_change_is_committed_on_its_own_branch(
    example_context: CascadeContext, popularity_off: str
) -> None:
    verdict = StructuralStage().run(Submission(name="pop0", patch=popularity_off), example_context)
    assert (verdict.outcome, verdict.cause) == ("pass", causes.PASSED)
    commit = verdict.evidence.details["commit"]
    candidate = example_context.candidates.get("pop0")
    assert candidate.head == commit and candidate.base == example_context.champion_commit
    assert "popularity = 0.0" in (candidate.path / "config/pipeline.toml").read_text()
    assert verdict.evidence.details["changed_files"] == ["config/pipeline.toml"]
    # a rerun (a resumed loop) replaces the worktree instead of failing
    again = StructuralStage().run(Submission(name="pop0", patch=popularity_off), example_context)
    assert again.passed


def test_a_refused_change_leaves_no_branch(
    example_context: CascadeContext, popularity_off: str
) -> None:
    patch = popularity_off.replace("config/pipeline.toml", "recloop.toml")
    outcome, cause, sentence = _run(example_context, patch)
    assert (outcome, cause) == ("reject", "protected-path")
    assert "recloop.toml" in sentence
    with pytest.raises(GitError):
        example_context.candidates.get("cand")


def test_syntax_errors_are_located(example: Path, example_context: CascadeContext) -> None:
    patch = _diff(
        example, "movierec/rerank.py", "    for item in ranked:\n", "    for item in ranked\n"
    )
    verdict = StructuralStage().run(Submission(name="syn", patch=patch), example_context)
    assert verdict.cause == causes.SYNTAX_ERROR
    location = verdict.evidence.locations[0]
    assert location.path == "movierec/rerank.py" and location.line is not None


def test_findings_the_champion_already_has_are_not_held_against_a_change(
    example: Path, example_context: CascadeContext
) -> None:
    # the champion itself reads the environment in data.py ...
    old = "SECONDS_PER_DAY = 86_400.0\n"
    legacy = "import os\n" + old + "HOME = os.environ.get('HOME')\n"
    (example / "movierec/data.py").write_text(
        (example / "movierec/data.py").read_text().replace(old, legacy)
    )
    run_git(["commit", "--quiet", "-am", "legacy"], example)
    context = CascadeContext(example)
    # ... so a change elsewhere in that file passes, and a new read is still caught
    harmless = _diff(
        example, "movierec/data.py", "SECONDS_PER_DAY = 86_400.0", "SECONDS_PER_DAY = 86400.0"
    )
    assert _run(context, harmless)[1] == causes.PASSED
    more = _diff(example, "movierec/data.py", "HOME = ", "USER = os.getenv('USER')\nHOME = ")
    assert _run(context, more, "more")[1] == causes.ENVIRONMENT_READ


def test_size_limits_come_from_the_settings(example: Path, popularity_off: str) -> None:
    context = CascadeContext(example, CascadeSettings(max_changed_lines=1))
    assert _run(context, popularity_off)[1] == causes.DIFF_TOO_LARGE


def test_lint_can_be_turned_off(example: Path) -> None:
    patch = _diff(
        example,
        "movierec/rerank.py",
        "    ranked = ranked[",
        "    unused = 1\n    ranked = ranked[",
    )
    assert _run(CascadeContext(example), patch)[1] == causes.LINT_ERROR
    assert _run(CascadeContext(example, CascadeSettings(lint=False)), patch)[1] == causes.PASSED


def test_a_new_top_level_module_counts_as_the_workspace_s_own(example: Path) -> None:
    manifest = example / "recloop.toml"
    manifest.write_text(
        manifest.read_text().replace('"movierec/**/*.py"', '"*.py", "movierec/**/*.py"')
    )
    run_git(["commit", "--quiet", "-am", "root modules editable"], example)
    patch = _diff(example, "helpers.py", "", "X = 1\n")
    patch += _diff(
        example,
        "movierec/data.py",
        "import numpy as np\n",
        "import numpy as np\n\nimport helpers\n",
    )
    context = CascadeContext(example, CascadeSettings(lint=False))
    assert _run(context, patch)[1] == causes.PASSED
