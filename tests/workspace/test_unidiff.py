from recloop.workspace.unidiff import parse_patch, strip_first

GOOD = """\
diff --git a/src/pkg/model.py b/src/pkg/model.py
--- a/src/pkg/model.py
+++ b/src/pkg/model.py
@@ -1,2 +1,4 @@
 def score():
-    return 1
+--- not a header
++++ nor this
+    return 2
diff --git a/src/pkg/new.py b/src/pkg/new.py
new file mode 100644
--- /dev/null
+++ b/src/pkg/new.py
@@ -0,0 +1 @@
+NEW = 1
diff --git a/src/pkg/old.py b/src/pkg/renamed.py
similarity index 100%
rename from src/pkg/old.py
rename to src/pkg/renamed.py
diff --git a/config.toml b/config.toml
deleted file mode 100644
--- a/config.toml
+++ /dev/null
@@ -1 +0,0 @@
-alpha = 1
\\ No newline at end of file
"""


def test_headers_are_read_and_hunk_lines_skipped() -> None:
    sections = parse_patch(GOOD.encode())
    assert len(sections) == 4
    assert sections[0].hunks == 1 and sections[0].old_name == "a/src/pkg/model.py"
    assert sections[1].created and sections[1].modes == ["100644"]
    assert (sections[2].rename_from, sections[2].rename_to) == (
        "src/pkg/old.py",
        "src/pkg/renamed.py",
    )
    assert sections[3].deleted and sections[3].new_name is None


def test_traditional_diffs_and_preambles() -> None:
    text = (
        b"From: someone\nSubject: fix\n\n--- a/x.py\t2024-01-01\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    )
    (section,) = parse_patch(text)
    assert not section.git_header
    assert (section.old_name, section.new_name, section.hunks) == ("a/x.py", "b/x.py", 1)
    binary = b"diff --git a/b.bin b/b.bin\nBinary files a/b.bin and b/b.bin differ\n"
    assert parse_patch(binary)[0].binary
    assert parse_patch(b"just words\n") == []
    assert strip_first("a/src/x.py") == "src/x.py" and strip_first("x.py") == "x.py"


def test_quoted_names_are_unquoted() -> None:
    quoted = b'diff --git "a/src/a\\tb.py" "b/src/a\\tb.py"\n--- "a/src/a\\tb.py"\n'
    quoted += b'+++ "b/src/caf\\303\\251.py"\n'
    section = parse_patch(quoted)[0]
    assert section.old_name == "a/src/a\tb.py"
    assert section.new_name == "b/src/caf\u00e9.py"
