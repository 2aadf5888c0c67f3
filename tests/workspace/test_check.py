"""`check_workspace`: passes on the example, and names what is wrong in a broken one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recloop.workspace.check import CheckReport, check_workspace
from recloop.workspace.example import create_example
from recloop.workspace.problems import Problem


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_example(tmp_path_factory.mktemp("pristine") / "ws").path


@pytest.fixture
def workspace(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the example workspace (git history included) to break."""
    return Path(shutil.copytree(pristine, tmp_path / "ws", symlinks=True))


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _change(root: Path, rel: str, old: str, new: str, commit: bool = True) -> None:
    path = root / rel
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    if commit:
        _git(root, "commit", "-qam", f"edit {rel}")


def _line(root: Path, rel: str, fragment: str) -> int:
    lines = (root / rel).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def _only(report: CheckReport) -> Problem:
    assert len(report.problems) == 1, report.render()
    return report.problems[0]


def test_the_example_passes_with_a_summary(pristine: Path) -> None:
    report = check_workspace(pristine)
    assert report.ok, report.render()
    summary = dict(report.summary)
    assert summary["entry point"].startswith("movierec.pipeline:build_recommender (movierec/")
    assert summary["git"].startswith("main at ") and summary["git"].endswith(", clean")
    assert summary["search"] == "9 parameters of config/pipeline.toml"
    assert report.render().startswith(f"OK: {pristine.resolve()} is a recloop workspace")


def test_a_missing_entry_point_module(workspace: Path) -> None:
    _change(workspace, "recloop.toml", '"movierec.pipeline:', '"movierec.pipelines:')
    problem = _only(check_workspace(workspace))
    assert problem.key == "recommender.entry_point"
    assert "module 'movierec.pipelines' not found" in problem.message
    assert problem.line == _line(workspace, "recloop.toml", "entry_point =")


def test_a_factory_the_module_does_not_define(workspace: Path) -> None:
    _change(workspace, "movierec/pipeline.py", "def build_recommender(", "def build(")
    problem = _only(check_workspace(workspace))
    assert problem.key == "recommender.entry_point"
    assert problem.message == "movierec/pipeline.py defines no 'build_recommender' at module level"


def test_a_protected_glob_that_matches_nothing(workspace: Path) -> None:
    _change(workspace, "recloop.toml", '"tests/**"', '"test/**"')
    problem = _only(check_workspace(workspace))
    assert problem.key == "paths.protected[0]"
    assert problem.message == "'test/**' matches no file of the workspace"
    assert problem.line == _line(workspace, "recloop.toml", '"test/**"')


def test_uncommitted_changes_on_main(workspace: Path) -> None:
    _change(workspace, "movierec/rerank.py", "import numpy as np", "import numpy as np  # x", False)
    (workspace / "scratch.py").write_text("print(1)\n")
    problem = _only(check_workspace(workspace))
    assert problem.key == "git"
    assert "uncommitted changes on main: movierec/rerank.py, scratch.py;" in problem.message


def test_files_under_recloop_dir_do_not_count_as_changes(workspace: Path) -> None:
    (workspace / ".recloop" / "worktrees").mkdir(parents=True)
    (workspace / ".recloop" / "ledger.db").write_text("x")
    assert check_workspace(workspace).ok


def test_main_must_be_checked_out(workspace: Path) -> None:
    _git(workspace, "checkout", "-qb", "feature")
    problem = _only(check_workspace(workspace))
    assert problem.key == "git"
    assert problem.message.startswith("the working copy is on feature, not main;")
    _git(workspace, "checkout", "-q", "--detach")
    assert "is on a detached HEAD, not main" in _only(check_workspace(workspace)).message


def test_a_folder_without_git(workspace: Path) -> None:
    shutil.rmtree(workspace / ".git")
    problem = _only(check_workspace(workspace))
    assert problem.key == "git" and "is not a git repository" in problem.message


def test_a_missing_main_branch(workspace: Path) -> None:
    _git(workspace, "branch", "-qm", "main", "trunk")
    problem = _only(check_workspace(workspace))
    assert problem.key == "git" and "no branch 'main'" in problem.message


def test_an_undeclared_import_in_editable_code(workspace: Path) -> None:
    _change(
        workspace, "movierec/data.py", "import numpy as np\n", "import numpy as np\nimport pandas\n"
    )
    problem = _only(check_workspace(workspace))
    assert problem.key == "recommender.dependencies"
    line = _line(workspace, "movierec/data.py", "import pandas")
    assert problem.message == f"movierec/data.py:{line} imports 'pandas', which is not declared"


def test_editable_code_that_does_not_parse(workspace: Path) -> None:
    _change(workspace, "movierec/rerank.py", "def _one_list(", "def _one_list(:")
    problem = _only(check_workspace(workspace))
    assert problem.file == "movierec/rerank.py"
    assert problem.line == _line(workspace, "movierec/rerank.py", "def _one_list(:")


def test_a_search_parameter_the_config_does_not_have(workspace: Path) -> None:
    _change(workspace, "recloop.toml", '"candidates.neighbours"', '"candidates.neighbors"')
    problem = _only(check_workspace(workspace))
    assert problem.key == "search.params[3].path"
    assert problem.message == "'candidates.neighbors' is not a key of config/pipeline.toml"
    assert problem.line == _line(workspace, "recloop.toml", '"candidates.neighbors"')


def test_a_current_config_value_outside_its_search_range(workspace: Path) -> None:
    _change(workspace, "config/pipeline.toml", "popular = 100", "popular = 1000")
    problem = _only(check_workspace(workspace))
    assert problem.key == "search.params[1].path"
    assert problem.message == "its current value 1000 is outside [0, 300]"


def test_an_invalid_manifest_is_reported_with_git_problems_too(workspace: Path) -> None:
    _change(workspace, "recloop.toml", 'dataset = "ml-100k"', 'dataset = "ml-10m"', commit=False)
    report = check_workspace(workspace)
    assert [p.key for p in report.problems] == ["data.dataset", "git"]
    text = report.render()
    line = _line(workspace, "recloop.toml", "ml-10m")
    assert f"recloop.toml:{line}: data.dataset: unknown dataset 'ml-10m'" in text
    assert text.endswith(f"2 problems in {workspace.resolve()}")
