"""The Develop agent's read-only tools on the example workspace: answers and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.agents.llm.actions import ReadFile, Search, ViewMap
from recloop.agents.llm.tools import ReadPolicy, ToolRefused, WorkspaceTools
from recloop.recsys.logsource import LogSource
from recloop.workspace.git import run_git

from ..conftest import Example

IDENTITY = {
    "GIT_AUTHOR_NAME": "team",
    "GIT_AUTHOR_EMAIL": "team@example.org",
    "GIT_COMMITTER_NAME": "team",
    "GIT_COMMITTER_EMAIL": "team@example.org",
}


@pytest.fixture
def tools(example: Example) -> WorkspaceTools:
    return WorkspaceTools(example.root, ReadPolicy.from_manifest(example.manifest))


def test_read_file_numbers_the_lines_of_a_range(tools: WorkspaceTools) -> None:
    text = tools.read_file("config/pipeline.toml", start=16, end=18)
    lines = text.splitlines()
    assert lines[0] == "config/pipeline.toml (lines 16-18 of 24; read on with start=19):"
    assert lines[1:] == [
        "   16| # Linear blend of the candidate features, each scaled to [0, 1] per user.",
        "   17| popularity = 0.5",
        "   18| cooccurrence = 1.0",
    ]
    whole = tools.read_file("./config/pipeline.toml")  # a leading ./ is read as the root
    assert whole.splitlines()[0] == "config/pipeline.toml (lines 1-24 of 24):"
    with pytest.raises(ToolRefused, match="past the end"):
        tools.read_file("config/pipeline.toml", start=99)


def test_protected_files_may_be_read(tools: WorkspaceTools) -> None:
    assert 'entry_point = "movierec.pipeline:build_recommender"' in tools.read_file("recloop.toml")
    assert "def test_" in tools.read_file("tests/test_ranking.py")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/hostname", "absolute paths"),
        ("../outside.txt", "'..'"),
        ("movierec/../../outside.txt", "'..'"),
        (".git/config", "inside .git"),
        (".recloop/cache/champion.json", "hidden from agents"),
        ("movierec/missing.py", "no such file"),
        ("movierec", "no such file"),
    ],
)
def test_paths_outside_or_hidden_are_refused(tools: WorkspaceTools, path: str, reason: str) -> None:
    (tools.root.parent / "outside.txt").write_text("TOP-SECRET\n", encoding="utf-8")
    with pytest.raises(ToolRefused, match=reason):
        tools.read_file(path)
    answer = tools.run(ReadFile(tool="read_file", path=path))
    assert answer.startswith("REFUSED by the harness:") and "TOP-SECRET" not in answer


def test_a_symlink_out_of_the_worktree_is_refused(tools: WorkspaceTools) -> None:
    secret = tools.root.parent / "secret.txt"
    secret.write_text("TOP-SECRET\n", encoding="utf-8")
    (tools.root / "movierec" / "notes.txt").symlink_to(secret)
    (tools.root / "linked").symlink_to(tools.root.parent)
    for path in ("movierec/notes.txt", "linked/secret.txt"):
        with pytest.raises(ToolRefused, match="symlink"):
            tools.read_file(path)


def test_binary_and_oversized_files_are_refused(example: Example) -> None:
    tools = WorkspaceTools(example.root, ReadPolicy(max_bytes=2_000))
    (example.root / "movierec" / "blob.bin").write_bytes(b"\xff\xfe\x00 not text")
    with pytest.raises(ToolRefused, match="not a UTF-8 text file"):
        tools.read_file("movierec/blob.bin")
    with pytest.raises(ToolRefused, match="larger than 2,000 bytes"):
        tools.read_file("movierec/candidates.py")


def test_the_teams_data_log_is_hidden(example: Example) -> None:
    log = example.root / "logs" / "events.csv"
    log.parent.mkdir()
    log.write_text("user_id,item_id\n1,HELD-OUT-ITEM\n", encoding="utf-8")
    run_git(["add", "logs/events.csv"], example.root)
    run_git(["commit", "--quiet", "-m", "the log"], example.root, env=IDENTITY)
    data = example.manifest.data.model_copy(
        update={"dataset": None, "source": LogSource(path=Path("logs/events.csv"))}
    )
    manifest = example.manifest.model_copy(update={"data": data})
    tools = WorkspaceTools(example.root, ReadPolicy.from_manifest(manifest))
    with pytest.raises(ToolRefused, match="evaluation data"):
        tools.read_file("logs/events.csv")
    assert "HELD-OUT-ITEM" not in tools.search("held-out-item")
    unhidden = WorkspaceTools(example.root, ReadPolicy())
    assert "logs/events.csv:2" in unhidden.search("held-out-item")  # it is there to be found


def test_search_finds_symbols_and_literal_text(tools: WorkspaceTools) -> None:
    found = tools.search("blend")
    assert "function movierec.ranking.blend(feature_values" in found
    assert "movierec/ranking.py:37-" in found
    text = tools.search("POPULARITY = 0.5")  # case-insensitive
    assert "config/pipeline.toml:17: popularity = 0.5" in text
    literal = tools.search("max(float(")  # regex characters are literal
    assert "movierec/ranking.py:29:" in literal
    nothing = tools.search("no-such-thing-anywhere")
    assert nothing.count("(none)") == 2 and "(0 found, 0 shown)" in nothing


def test_view_map_gives_a_module_and_its_neighbours(tools: WorkspaceTools) -> None:
    ranking = tools.view_map("movierec.ranking")
    assert "movierec/ranking.py  [movierec.ranking" in ranking
    assert "movierec/candidates.py" in ranking and "movierec/pipeline.py" in ranking
    assert "movierec/rerank.py" not in ranking
    assert "import graph" in tools.view_map()
    answer = tools.run(ViewMap(tool="view_map", module="movierec.nope"))
    assert answer.startswith("REFUSED") and "movierec.ranking" in answer


def test_the_map_excerpt_follows_the_proposals_files(tools: WorkspaceTools) -> None:
    excerpt = tools.map_excerpt(("movierec/ranking.py",))
    assert excerpt == tools.view_map("movierec.ranking")
    assert tools.map_excerpt(("config/pipeline.toml",)) == tools.view_map()
    assert tools.map_excerpt(()) == tools.view_map()


def test_run_dispatches_every_tool(tools: WorkspaceTools) -> None:
    assert tools.run(Search(tool="search", pattern="blend")) == tools.search("blend")
    read = ReadFile(tool="read_file", path="movierec/__init__.py")
    assert tools.run(read) == tools.read_file("movierec/__init__.py")
