import subprocess
from pathlib import Path

import pytest

from recloop.workspace.errors import CAUSES, PatchRejectedError
from recloop.workspace.patch import (
    PathPolicy,
    apply_patch,
    check_patch,
    refuse_path_syntax,
    write_files,
)

POLICY = PathPolicy(
    editable=("src/**", "config.toml"),
    protected=("src/pkg/rules.py", "tests", "recloop.toml", ".recloop"),
    max_file_bytes=2_000,
)


def _git(cwd: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, input=input
    ).stdout


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "wt"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "pkg" / "model.py").write_text("def score():\n    return 1\n")
    (root / "src" / "pkg" / "old.py").write_text("OLD = True\n")
    (root / "src" / "pkg" / "rules.py").write_text("BANNED = []\n")
    (root / "tests" / "test_model.py").write_text("def test_score():\n    assert True\n")
    (root / "recloop.toml").write_text("[recommender]\n")
    (root / "config.toml").write_text("alpha = 1\n")
    (root / "src" / "pkg" / "outside").symlink_to("/etc")  # an existing symlink
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return root


def _clean(root: Path) -> bool:
    return _git(root, "status", "--porcelain") == ""


GOOD = """\
diff --git a/src/pkg/model.py b/src/pkg/model.py
--- a/src/pkg/model.py
+++ b/src/pkg/model.py
@@ -1,2 +1,3 @@
 def score():
-    return 1
+    # --- a comment that looks like a header, inside a hunk
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
"""


def test_a_good_patch_is_applied(worktree: Path) -> None:
    applied = apply_patch(worktree, GOOD, POLICY)
    assert [(c.path, c.kind, c.old_path) for c in applied.changes] == [
        ("src/pkg/model.py", "modify", None),
        ("src/pkg/new.py", "create", None),
        ("src/pkg/renamed.py", "rename", "src/pkg/old.py"),
        ("config.toml", "delete", None),
    ]
    assert "return 2" in (worktree / "src/pkg/model.py").read_text()
    assert (worktree / "src/pkg/new.py").read_text() == "NEW = 1\n"
    assert not (worktree / "src/pkg/old.py").exists()
    assert not (worktree / "config.toml").exists()
    assert applied.sizes["src/pkg/new.py"] == len("NEW = 1\n")
    assert applied.sizes["src/pkg/model.py"] == (worktree / "src/pkg/model.py").stat().st_size


def test_a_traditional_diff_without_git_headers_applies(worktree: Path) -> None:
    patch = (
        "--- src/pkg/model.py\n+++ src/pkg/model.py\n@@ -2 +2 @@\n-    return 1\n+    return 3\n"
    )
    with pytest.raises(PatchRejectedError) as info:  # -p1 strips "src/": git reads pkg/model.py
        apply_patch(worktree, patch, POLICY)
    assert info.value.cause == "outside-editable"
    patch = patch.replace("--- src", "--- a/src").replace("+++ src", "+++ b/src")
    apply_patch(worktree, patch, POLICY)
    assert "return 3" in (worktree / "src/pkg/model.py").read_text()


def _new_file(path: str, body: str = "+x = 1\n", mode: str = "100644") -> str:
    return (
        f"diff --git a/{path} b/{path}\nnew file mode {mode}\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{body.count(chr(10))} @@\n{body}"
    )


def _edit(path: str, old: str, new: str) -> str:
    return f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-{old}\n+{new}\n"


BIG = "".join(f"+line {i:04d} padding padding padding padding\n" for i in range(100))
HOSTILE = {
    "traversal": (_new_file("../evil.py"), "path-traversal"),
    "traversal inside": (_new_file("src/../../evil.py"), "path-traversal"),
    "traversal stripped by -p1": (
        "--- ../../x/src/pkg/model.py\n+++ ../../x/src/pkg/model.py\n"
        "@@ -2 +2 @@\n-    return 1\n+    return 4\n",
        "path-traversal",
    ),
    "absolute stripped by -p1": (
        "--- /dev/null\n+++ /etc/cron.d/x\n@@ -0,0 +1 @@\n+x\n",
        "absolute-path",
    ),
    "absolute in git header": (_new_file("/etc/evil"), "absolute-path"),
    "protected file": (_edit("src/pkg/rules.py", "BANNED = []", "BANNED = None"), "protected-path"),
    "protected test": (
        "--- a/tests/test_model.py\n+++ b/tests/test_model.py\n@@ -1,2 +1,2 @@\n"
        " def test_score():\n-    assert True\n+    assert 1\n",
        "protected-path",
    ),
    "manifest": (_edit("recloop.toml", "[recommender]", "[hacked]"), "protected-path"),
    "outside editable": (_new_file("setup.py"), "outside-editable"),
    "git internals": (_new_file("src/.git/config"), "git-internal"),
    "new symlink": (_new_file("src/pkg/link", "+/etc/passwd\n", mode="120000"), "symlink"),
    "through an existing symlink": (_new_file("src/pkg/outside/evil.py"), "symlink"),
    "submodule": (
        "diff --git a/src/sub b/src/sub\nnew file mode 160000\nindex 0000000..1234567\n"
        "--- /dev/null\n+++ b/src/sub\n@@ -0,0 +1 @@\n+Subproject commit "
        "1234567890123456789012345678901234567890\n",
        "unsupported-mode",
    ),
    "git binary patch": (
        "diff --git a/src/pkg/blob.bin b/src/pkg/blob.bin\nnew file mode 100644\n"
        "index 0000000..e69de29\nGIT binary patch\nliteral 3\nKcmZQzWMT#Y01f~L\n\n"
        "literal 0\nHcmV?d00001\n\n",
        "binary",
    ),
    "binary files differ": (
        "diff --git a/src/pkg/blob.bin b/src/pkg/blob.bin\nnew file mode 100644\n"
        "index 0000000..1234567\nBinary files /dev/null and b/src/pkg/blob.bin differ\n",
        "binary",
    ),
    "oversized": (_new_file("src/pkg/big.py", BIG), "file-too-large"),
    "protected delete": (
        "diff --git a/tests/test_model.py b/tests/test_model.py\ndeleted file mode 100644\n"
        "--- a/tests/test_model.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n"
        "-def test_score():\n-    assert True\n",
        "protected-delete",
    ),
    "protected rename": (
        "diff --git a/src/pkg/rules.py b/src/pkg/rules2.py\nsimilarity index 100%\n"
        "rename from src/pkg/rules.py\nrename to src/pkg/rules2.py\n",
        "protected-rename",
    ),
    "context mismatch": (_edit("src/pkg/old.py", "OLD = False", "OLD = 1"), "does-not-apply"),
    "missing file": (_edit("src/pkg/none.py", "a", "b"), "does-not-apply"),
    "truncated hunk": (
        "--- a/src/pkg/old.py\n+++ b/src/pkg/old.py\n@@ -1,5 +1,5 @@\n",
        "malformed-patch",
    ),
    "empty": ("", "empty-patch"),
    "prose": ("please make it better\n", "empty-patch"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_patches_are_refused_with_their_cause(worktree: Path, name: str) -> None:
    patch, cause = HOSTILE[name]
    with pytest.raises(PatchRejectedError) as info:
        apply_patch(worktree, patch, POLICY)
    assert info.value.cause == cause, str(info.value)
    assert all(r.cause in CAUSES for r in info.value.rejections)
    assert str(info.value).startswith("patch refused: [")
    assert _clean(worktree)  # nothing was written
    assert not (worktree.parent / "evil.py").exists()


def test_every_problem_is_listed(worktree: Path) -> None:
    policy_breaks = _edit("recloop.toml", "[recommender]", "[x]") + _new_file("docs/readme.md")
    with pytest.raises(PatchRejectedError) as info:
        check_patch(worktree, _new_file("../evil.py") + policy_breaks, POLICY)
    assert info.value.causes == {"path-traversal"}  # syntax first: git never sees the patch
    with pytest.raises(PatchRejectedError) as info:
        check_patch(worktree, policy_breaks, POLICY)
    assert info.value.causes == {"protected-path", "outside-editable"}
    assert {r.path for r in info.value.rejections} == {"recloop.toml", "docs/readme.md"}


def test_a_file_grown_past_the_limit_is_refused_after_measuring(worktree: Path) -> None:
    (worktree / "src/pkg/model.py").write_text("x = 0\n" * 330)  # 1,980 bytes: under 2,000
    grow = "--- a/src/pkg/model.py\n+++ b/src/pkg/model.py\n@@ -1,2 +1,6 @@\n x = 0\n"
    grow += "+y = 1\n" * 4 + " x = 0\n"  # four 6-byte lines: 2,004 bytes
    with pytest.raises(PatchRejectedError) as info:
        apply_patch(worktree, grow, POLICY)
    assert info.value.cause == "file-too-large"
    assert "2,004 bytes, above the limit of 2,000" in str(info.value)
    assert (worktree / "src/pkg/model.py").read_text() == "x = 0\n" * 330


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("/abs", "absolute-path"),
        ("a/../b", "path-traversal"),
        ("", "invalid-path"),
        ("a//b", "invalid-path"),
        ("./a", "invalid-path"),
        ("a\nb", "invalid-path"),
        (".git/config", "git-internal"),
        ("sub/.git", "git-internal"),
    ],
)
def test_path_syntax(path: str, cause: str) -> None:
    refusal = refuse_path_syntax(path)
    assert refusal is not None and refusal.cause == cause
    assert refuse_path_syntax("src/a.b/c_d-e.py") is None


def test_whole_files_are_written_after_the_same_checks(worktree: Path) -> None:
    applied = write_files(
        worktree,
        {"src/pkg/model.py": "def score():\n    return 7\n", "src/pkg/x/new.py": b"A = 1\n"},
        POLICY,
    )
    assert [(c.path, c.kind) for c in applied.changes] == [
        ("src/pkg/model.py", "modify"),
        ("src/pkg/x/new.py", "create"),
    ]
    assert (worktree / "src/pkg/x/new.py").read_text() == "A = 1\n"
    write_files(worktree, {"src/pkg/old.py": None}, POLICY)
    assert not (worktree / "src/pkg/old.py").exists()


@pytest.mark.parametrize(
    ("files", "cause"),
    [
        ({"/etc/passwd": "x"}, "absolute-path"),
        ({"../x.py": "x"}, "path-traversal"),
        ({"tests/test_model.py": "x"}, "protected-path"),
        ({"tests/test_model.py": None}, "protected-delete"),
        ({"README.md": "x"}, "outside-editable"),
        ({"src/pkg/outside/x.py": "x"}, "symlink"),
        ({"src/pkg/blob.py": b"\x00\x01\x02"}, "binary"),
        ({"src/pkg/latin.py": b"caf\xe9"}, "binary"),
        ({"src/pkg/big.py": "x" * 2_001}, "file-too-large"),
        ({"src/pkg/none.py": None}, "does-not-apply"),
        ({}, "empty-patch"),
    ],
)
def test_whole_file_refusals(worktree: Path, files: dict, cause: str) -> None:
    with pytest.raises(PatchRejectedError) as info:
        write_files(worktree, files, POLICY)
    assert info.value.cause == cause
    assert _clean(worktree)


def test_policy_validates_its_globs() -> None:
    with pytest.raises(ValueError, match="absolute"):
        PathPolicy(editable=("/src/**",))
    with pytest.raises(ValueError, match="positive"):
        PathPolicy(editable=("src/**",), max_file_bytes=0)
    policy = PathPolicy(editable=["src/**"], protected=["src/secret.py"])
    assert policy.refuse_write("src/a.py") is None
    refusal = policy.refuse_write("src/secret.py")
    assert refusal is not None and refusal.cause == "protected-path"
