"""Submissions: candidate names git accepts, the files and lines a patch changes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recloop.cascade.submission import Submission, changed_files, changed_lines

GIT_PATCH = """\
diff --git a/movierec/a.py b/movierec/a.py
index 1..2 100644
--- a/movierec/a.py
+++ b/movierec/a.py
@@ -1,3 +1,4 @@
 x = 1
-y = 2
+y = 3
+--- not a header
 z = 4
diff --git a/old.py b/new.py
similarity index 90%
rename from old.py
rename to new.py
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-print(1)
"""


def test_names_must_make_a_git_branch() -> None:
    assert Submission(name="cos-sim_2", patch="").name == "cos-sim_2"
    for bad in ("Upper", "-dash", "a b", "x" * 64, ""):
        with pytest.raises(ValidationError):
            Submission(name=bad, patch="")


def test_changed_files_reads_every_name_git_will_touch() -> None:
    assert changed_files(GIT_PATCH) == ["movierec/a.py", "old.py", "new.py", "gone.py"]
    assert Submission(name="x", patch=GIT_PATCH).changed_files[0] == "movierec/a.py"


def test_changed_lines_counts_hunk_lines_not_headers() -> None:
    assert changed_lines(GIT_PATCH) == (2, 2)  # a line reading '--- ...' inside a hunk counts


def test_traditional_diffs_strip_one_level_like_git() -> None:
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert changed_files(patch) == ["x.py"]
    assert changed_lines(patch) == (1, 1)
