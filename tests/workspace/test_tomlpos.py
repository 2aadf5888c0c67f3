"""The TOML key locator agrees with tomllib's structure and finds each key's line."""

from __future__ import annotations

import tomllib

from recloop.workspace._tomlpos import key_lines, locate

TEXT = '''\
# a comment
title = "x"  # trailing comment

[a]
b = 1
dotted.key.here = true
"quoted key" = 'literal'
inline = { x = 1, y = { z = 2 } }
multi = [
  1,
  [2, 3],
  { w = 4 },
]
text = """
not = a key
[not a table]
"""
after = 5

[[arr]]
name = "first"

[[arr]]
name = "second"

[arr.sub]
deep = 1

[a."b c".d]
e = 2
'''


def test_every_key_gets_the_line_it_starts_on() -> None:
    tomllib.loads(TEXT)  # the fixture is valid TOML
    lines = key_lines(TEXT)
    expected = {
        ("title",): 2,
        ("a",): 4,
        ("a", "b"): 5,
        ("a", "dotted"): 6,
        ("a", "dotted", "key", "here"): 6,
        ("a", "quoted key"): 7,
        ("a", "inline", "y", "z"): 8,
        ("a", "multi"): 9,
        ("a", "multi", 0): 10,
        ("a", "multi", 1, 1): 11,
        ("a", "multi", 2, "w"): 12,
        ("a", "text"): 14,
        ("a", "after"): 18,
        ("arr", 0): 20,
        ("arr", 0, "name"): 21,
        ("arr", 1): 23,
        ("arr", 1, "name"): 24,
        ("arr", 1, "sub", "deep"): 27,
        ("a", "b c", "d", "e"): 30,
    }
    assert {path: lines.get(path) for path in expected} == expected


def test_text_inside_multiline_strings_is_not_taken_for_keys() -> None:
    lines = key_lines(TEXT)
    assert ("a", "not") not in lines
    assert ("not a table",) not in lines


def test_locate_falls_back_to_the_nearest_located_table() -> None:
    lines = key_lines(TEXT)
    assert locate(lines, ("arr", 1, "missing")) == 23
    assert locate(lines, ("a", "inline", "x", "deeper")) == 8
    assert locate(lines, ("nowhere",)) is None


def test_a_text_it_cannot_follow_keeps_what_was_found() -> None:
    lines = key_lines("a = 1\nb = @\nc = 3\n")
    assert lines[("a",)] == 1
