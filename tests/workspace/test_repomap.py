"""The repository map: what the AST says, without running anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recloop.workspace import repomap as repomap_module
from recloop.workspace.repomap import RepoMap, build_repo_map, module_name

TEMPLATE = Path(repomap_module.__file__).parent / "templates" / "movielens"


@pytest.fixture(scope="module")
def example_map() -> RepoMap:
    return build_repo_map(TEMPLATE)


def test_the_example_modules_are_all_listed(example_map: RepoMap) -> None:
    names = {m.name for m in example_map.modules}
    stages = {"candidates", "config", "data", "pipeline", "ranking", "rerank"}
    assert {f"movierec.{s}" for s in stages} | {"movierec"} <= names
    assert "tests.test_pipeline" in names
    assert example_map.failures == []
    assert example_map.module("movierec.data").path == "movierec/data.py"


def test_functions_classes_and_methods_with_signatures_and_docs(example_map: RepoMap) -> None:
    rerank = example_map.module("movierec.rerank")
    assert [f.name for f in rerank.functions] == ["apply_rules", "_one_list"]
    assert rerank.doc is not None and rerank.doc.startswith("Re-ranking")
    pipeline = example_map.module("movierec.pipeline")
    (recommender,) = pipeline.classes
    methods = {m.name: m for m in recommender.methods}
    assert set(methods) == {"__init__", "fit", "recommend", "_recommend_batch"}
    assert methods["recommend"].qualname == "Recommender.recommend"
    assert methods["recommend"].signature == (
        "(self, user_ids: np.ndarray, k: int, exclude_seen: bool=True) -> np.ndarray"
    )
    index = example_map.module("movierec.candidates").classes[1]
    assert index.name == "CooccurrenceIndex"
    assert next(m for m in index.methods if m.name == "build").decorators == ["classmethod"]


def test_the_import_graph_among_workspace_modules(example_map: RepoMap) -> None:
    graph = example_map.import_graph
    assert graph["movierec.pipeline"] == [
        "movierec.candidates",
        "movierec.config",
        "movierec.data",
        "movierec.ranking",
        "movierec.rerank",
    ]
    assert graph["movierec.ranking"] == ["movierec.candidates", "movierec.data"]
    assert graph["movierec.config"] == []
    assert example_map.imported_by("movierec.ranking") == [
        "movierec.pipeline",
        "tests.test_ranking",
    ]


def test_outside_packages_are_numpy_scipy_and_the_standard_library(example_map: RepoMap) -> None:
    outside = set()
    for module in example_map.modules:
        if module.path.startswith("movierec/"):
            outside |= set(module.external_packages)
    assert {"numpy", "scipy"} <= outside
    assert not {p for p in outside if not repomap_module.is_stdlib(p)} - {"numpy", "scipy"}
    assert "recloop" not in outside


def test_find_symbol_gives_file_and_line_span(example_map: RepoMap) -> None:
    (ref,) = example_map.find_symbol("build_recommender")
    assert (ref.module, ref.path, ref.kind) == (
        "movierec.pipeline",
        "movierec/pipeline.py",
        "function",
    )
    source = (TEMPLATE / ref.path).read_text().splitlines()
    assert source[ref.line - 1].startswith("def build_recommender(")
    assert "return Recommender(" in "\n".join(source[ref.line - 1 : ref.end_line])
    assert [r.qualname for r in example_map.find_symbol("Recommender.fit")] == ["Recommender.fit"]
    assert example_map.find_symbol("movierec.rerank.apply_rules")[0].kind == "function"
    assert example_map.find_symbol("no_such_thing") == []


def test_related_modules_by_distance(example_map: RepoMap) -> None:
    near = example_map.related_modules("movierec.ranking")
    assert near == [
        "movierec.candidates",
        "movierec.data",
        "movierec.pipeline",
        "tests.test_ranking",
    ]
    assert "movierec.rerank" in example_map.related_modules("movierec.ranking", depth=2)
    with pytest.raises(KeyError):
        example_map.related_modules("nope")


def test_render_shows_modules_symbols_and_the_graph(example_map: RepoMap) -> None:
    text = example_map.render()
    assert "movierec/pipeline.py  [movierec.pipeline," in text
    assert "  class Recommender  # Candidates -> ranking -> business rules" in text
    assert "    def fit(self, train: TrainingLog) -> Recommender" in text
    assert "  movierec.ranking -> movierec.candidates, movierec.data" in text
    only = example_map.render(["movierec.rerank"])
    assert "movierec/rerank.py" in only and "movierec/pipeline.py" not in only


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_relative_imports_submodules_and_failures(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/__init__.py", "from . import sub\n")
    _write(tmp_path, "pkg/sub/__init__.py", '"""Sub."""\nfrom ..util import helper\n')
    _write(tmp_path, "pkg/sub/leaf.py", "from . import sibling\nfrom pkg import util, sub\n")
    _write(tmp_path, "pkg/sub/sibling.py", "import pkg.util as u\nimport os.path\n")
    _write(tmp_path, "pkg/util.py", "async def helper(x, *a, y=1, **kw):\n    def inner(): ...\n")
    _write(tmp_path, "broken.py", "def oops(:\n")
    repo = build_repo_map(tmp_path)
    graph = repo.import_graph
    assert graph["pkg"] == ["pkg.sub"]
    assert graph["pkg.sub"] == ["pkg.util"]
    assert graph["pkg.sub.leaf"] == ["pkg.sub", "pkg.sub.sibling", "pkg.util"]
    assert graph["pkg.sub.sibling"] == ["pkg.util"]
    assert repo.module("pkg.sub.sibling").external_packages == ["os"]
    (helper,) = repo.module("pkg.util").functions  # nested functions are not listed
    assert helper.is_async and helper.signature == "(x, *a, y=1, **kw)"
    assert [(f.path, f.line) for f in repo.failures] == [("broken.py", 1)]
    assert "broken.py:1:" in repo.render()


def test_hidden_folders_virtualenvs_caches_and_symlinks_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "app.py", "x = 1\n")
    for rel in (".recloop/worktrees/c/app.py", ".git/hooks/x.py", "__pycache__/a.py"):
        _write(tmp_path, rel, "y = 2\n")
    _write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")
    _write(tmp_path, "env/lib/site.py", "z = 3\n")
    _write(tmp_path, "mylib.egg-info/x.py", "z = 3\n")
    os.symlink(tmp_path / "app.py", tmp_path / "link.py")
    assert [m.path for m in build_repo_map(tmp_path).modules] == ["app.py"]


def test_nothing_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _write(tmp_path, "evil.py", f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    repo = build_repo_map(tmp_path)
    assert [m.name for m in repo.modules] == ["evil"]
    assert not marker.exists()


def test_module_names_are_relative_to_the_source_folder() -> None:
    assert module_name("src/pkg/mod.py", "src") == "pkg.mod"
    assert module_name("src/pkg/__init__.py", "src") == "pkg"
    assert module_name("tools/run.py", "src") == "tools.run"
    assert module_name("__init__.py") == "__init__"


def test_the_map_is_plain_data(example_map: RepoMap) -> None:
    assert RepoMap.model_validate_json(example_map.model_dump_json()) == example_map
