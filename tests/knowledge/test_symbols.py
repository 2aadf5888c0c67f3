"""Changed symbols: by AST of both sides, by changed lines, by config keys, from a diff."""

from __future__ import annotations

import pytest

from recloop.knowledge.symbols import MODULE, WHOLE_FILE, changed_symbols, symbols_from_diff

SOURCE = """import numpy as np

LIMIT = 10


@cache
def score(x):
    def inner(y):
        return y + 1

    return inner(x)


class Ranker:
    alpha = 0.5

    def fit(self, data):
        return self

    @property
    def size(self):
        return 1
"""


@pytest.mark.parametrize(
    ("old", "new", "symbols"),
    [
        ("return self", "return None", {"Ranker.fit"}),
        ("alpha = 0.5", "alpha = 0.7", {"Ranker"}),
        ("LIMIT = 10", "LIMIT = 20", {MODULE}),
        ("import numpy as np", "import numpy as np\nimport scipy", {MODULE}),
        ("return y + 1", "return y + 2", {"score.inner"}),
        ("@cache\n", "", {"score"}),
        ("def fit(self, data):", "def fit(self, data, seed=0):", {"Ranker.fit"}),
        ("def fit(", "def train(", {"Ranker.fit", "Ranker.train"}),
        ("LIMIT = 10", "LIMIT = 10  # a comment", set()),
        ("return self", "return (self)", set()),  # formatting only
        (
            "        return 1\n",
            "        return 1\n\n    def extra(self):\n        pass\n",
            {"Ranker.extra"},
        ),
    ],
)
def test_python_changes_by_ast(old: str, new: str, symbols: set[str]) -> None:
    assert SOURCE.count(old) == 1
    assert changed_symbols("m.py", SOURCE, SOURCE.replace(old, new)) == symbols


def test_moving_a_definition_is_no_change() -> None:
    start, end = SOURCE.index("@cache"), SOURCE.index("class Ranker")
    moved = SOURCE[:start] + SOURCE[end:] + "\n\n" + SOURCE[start:end]
    assert changed_symbols("m.py", SOURCE, moved) == set()


@pytest.mark.parametrize(
    ("old", "new", "symbols"),
    [
        ("return self", "return (self", {"Ranker.fit"}),
        ("LIMIT = 10", "LIMIT = (", {MODULE}),
        ("        return 1\n", "        return 1\n        x = [\n", {"Ranker.size"}),
        ("LIMIT = 10\n", "LIMIT = 10\n\ndef broken(:\n    pass\n", {"broken"}),
    ],
)
def test_python_changes_that_do_not_parse_map_lines_onto_the_other_side(
    old: str, new: str, symbols: set[str]
) -> None:
    assert changed_symbols("m.py", SOURCE, SOURCE.replace(old, new)) == symbols


def test_neither_side_parsing_is_the_whole_file() -> None:
    assert changed_symbols("m.py", "def (", "def )") == {WHOLE_FILE}


def test_created_deleted_unchanged_and_other_files() -> None:
    assert changed_symbols("m.py", None, SOURCE) == {WHOLE_FILE}
    assert changed_symbols("m.py", SOURCE, None) == {WHOLE_FILE}
    assert changed_symbols("m.py", SOURCE, SOURCE) == set()
    assert changed_symbols("notes.md", "a", "b") == {WHOLE_FILE}


def test_config_files_by_key() -> None:
    toml = "[candidates]\npopular = 100\nneighbours = 50\n\n[ranking.weights]\npop = 0.5\n"
    edited = toml.replace("50", "200").replace("pop = 0.5", "pop = 0.5  # same value")
    assert changed_symbols("c.toml", toml, edited) == {"candidates.neighbours"}
    added = toml + "genre = 1.0\n"
    assert changed_symbols("c.toml", toml, added) == {"ranking.weights.genre"}
    assert changed_symbols("c.toml", toml, toml + "[[broken") == {WHOLE_FILE}
    js = '{"a": {"b": 1, "c": [1, 2]}}'
    assert changed_symbols("c.json", js, js.replace("[1, 2]", "[2]")) == {"a.c"}


GIT_DIFF = """diff --git a/movierec/ranking.py b/movierec/ranking.py
index 1111111..2222222 100644
--- a/movierec/ranking.py
+++ b/movierec/ranking.py
@@ -10,7 +10,7 @@ class Ranker:
     def fit(self, data):
         self.data = data
-        return self
+        return None

     def score(self, users):
         return 0
@@ -30,2 +30,3 @@ class Ranker:
 LIMIT = 1
--- y
+++ z
+VALUE = 2
diff --git a/config/pipeline.toml b/config/pipeline.toml
--- a/config/pipeline.toml
+++ b/config/pipeline.toml
@@ -1,4 +1,4 @@
 [candidates]
 popular = 100
-neighbours = 50
+neighbours = 200

diff --git a/movierec/new.py b/movierec/new.py
new file mode 100644
--- /dev/null
+++ b/movierec/new.py
@@ -0,0 +1 @@
+X = 1
"""


def test_symbols_from_a_diff_alone() -> None:
    found = symbols_from_diff(GIT_DIFF)
    # `--- y` / `+++ z` inside a hunk are content (counted from the hunk header), not headers
    assert found == {
        "movierec/ranking.py": {"Ranker.fit", MODULE},
        "config/pipeline.toml": {"candidates.neighbours"},
        "movierec/new.py": {WHOLE_FILE},
    }
