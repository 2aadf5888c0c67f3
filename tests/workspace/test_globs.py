"""Workspace globs: what they match, and the patterns refused."""

from __future__ import annotations

import pytest

from recloop.workspace.globs import GlobError, check_glob, matches, matching


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("movierec/**/*.py", "movierec/a.py", True),
        ("movierec/**/*.py", "movierec/sub/deep/b.py", True),
        ("movierec/**/*.py", "movierec/a.txt", False),
        ("movierec/**/*.py", "other/movierec/a.py", False),
        ("*.py", "a.py", True),
        ("*.py", "dir/a.py", False),
        ("tests", "tests/test_a.py", True),  # a folder covers what is below it
        ("tests/**", "tests/test_a.py", True),
        ("tests/**", "tests", True),
        ("tests", "tests_extra/a.py", False),
        ("config/?.toml", "config/a.toml", True),
        ("config/?.toml", "config/ab.toml", False),
        ("data/[ab].csv", "data/a.csv", True),
        ("data/[!ab].csv", "data/a.csv", False),
        ("data/[!ab].csv", "data/c.csv", True),
        ("**", "anything/at/all.py", True),
        ("a.py", "a_py", False),  # the dot is literal
        ("docs/", "docs/index.md", True),  # a trailing slash is dropped
    ],
)
def test_matching(pattern: str, path: str, expected: bool) -> None:
    assert matches(path, [pattern]) is expected


def test_matching_lists_the_paths_a_pattern_matches_in_order() -> None:
    assert matching(["b.py", "x/c.py", "a.py"], "*.py") == ["b.py", "a.py"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "absolute"),
        ("a/../b", "'..'"),
        ("./a", "'.'"),
        ("a//b", "empty"),
        ("a\\b", "backslash"),
        ("a**/b", "whole segment"),
        ("a/[bc", "unclosed"),
        ("a/[]", "unclosed or empty"),
    ],
)
def test_bad_patterns_are_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(GlobError, match=reason.replace("'", "'")):
        check_glob(pattern)


def test_trailing_double_stars_are_the_folder_itself() -> None:
    assert matches("a/b/c.py", ["a/**/**"]) and not matches("b/c.py", ["a/**/**"])
