"""Path globs of a workspace manifest: what agents may edit and what they may never touch.

Patterns are relative POSIX paths matched against paths relative to the workspace root:

- `*` matches any characters within one path segment, `?` one character, `[abc]` / `[!abc]`
  one character of (or not of) a set;
- `**` as a whole segment matches zero or more segments (`movierec/**/*.py` matches
  `movierec/a.py` and `movierec/sub/b.py`);
- a pattern also matches everything below a path it matches, so `tests` and `tests/**` both
  cover the whole `tests/` folder.

A pattern that could reach outside the workspace (absolute, `..`) or that is ambiguous
(backslashes, `**` glued to other characters, an unclosed `[`) is rejected by `check_glob`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


class GlobError(ValueError):
    """A pattern that is not a valid workspace glob; the message says why."""


def check_glob(pattern: str) -> str:
    """Return the pattern normalised (trailing `/` dropped) or raise `GlobError` saying why."""
    if not pattern.strip():
        raise GlobError("a glob must not be empty")
    if "\\" in pattern:
        raise GlobError(f"glob {pattern!r} contains a backslash; use '/' between folders")
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        raise GlobError(f"glob {pattern!r} is absolute; globs are relative to the workspace root")
    normalised = pattern.rstrip("/")
    for segment in normalised.split("/"):
        if segment in ("", ".", ".."):
            raise GlobError(
                f"glob {pattern!r} has an empty, '.' or '..' segment; "
                "write paths inside the workspace without them"
            )
        if "**" in segment and segment != "**":
            raise GlobError(f"glob {pattern!r}: '**' must be a whole segment, as in 'src/**/*.py'")
        if not _sets_closed(segment):
            raise GlobError(f"glob {pattern!r} has an unclosed or empty '[...]' set")
    return normalised


def _sets_closed(segment: str) -> bool:
    """Every `[` opens a non-empty set closed by a later `]` in the same segment."""
    i = segment.find("[")
    while i != -1:
        end = segment.find("]", i + 2 if segment[i + 1 : i + 2] != "!" else i + 3)
        if end == -1:
            return False
        i = segment.find("[", end + 1)
    return True


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression a (valid) glob stands for, matching whole relative paths."""
    segments = check_glob(pattern).split("/")
    while segments and segments[-1] == "**":  # "a/**" is "a" and all below it, like "a" itself
        segments.pop()
    if not segments:
        return re.compile(".*")
    parts = [
        "(?:[^/]+/)*" if segment == "**" else _segment_regex(segment) + "/" for segment in segments
    ]
    return re.compile("".join(parts)[:-1] + "(?:/.*)?")


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.index("]", i + 3 if segment[i + 1 : i + 2] == "!" else i + 2)
            body = segment[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether a relative POSIX path is matched by any of the patterns."""
    return any(compile_glob(p).fullmatch(path) for p in patterns)


def matching(paths: Iterable[str], pattern: str) -> list[str]:
    """The paths a pattern matches, in their given order."""
    regex = compile_glob(pattern)
    return [p for p in paths if regex.fullmatch(p)]
