"""Where a key lives in a TOML text: the line of every table, key and array element.

`tomllib` parses but keeps no positions, and a manifest error that names no line sends a person
hunting. This scanner walks the (already valid) text once and records the 1-based line where each
dotted key path starts: `[tables]`, `[[arrays of tables]]` (indexed 0, 1, ... in order), dotted
keys, inline tables and the elements of arrays. It decodes no values; if it meets something it does
not understand it stops and keeps what it found, so the worst case is a less precise line.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\n#]")


def key_lines(text: str) -> dict[KeyPath, int]:
    """The first line (1-based) of every key path in a valid TOML document."""
    scanner = _Scanner(text)
    with contextlib.suppress(IndexError, ValueError):  # keep the positions found so far
        scanner.document()
    return scanner.lines


def locate(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its longest located prefix (a missing key's table); else None."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.lines: dict[KeyPath, int] = {}
        self._array_tables: dict[KeyPath, int] = {}  # path -> index of its latest element
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def document(self) -> None:
        table: KeyPath = ()
        while self._skip_blank(newlines=True):
            line = self._line()
            if self.s.startswith("[[", self.i):
                self.i += 2
                key = self._key()
                self._expect("]]")
                base = (*self._resolve(key[:-1]), key[-1])
                index = self._array_tables.get(base, -1) + 1
                self._array_tables[base] = index
                table = (*base, index)
                self._record_all(table, line)
            elif self.s.startswith("[", self.i):
                self.i += 1
                table = self._resolve(self._key())
                self._expect("]")
                self._record_all(table, line)
            else:
                path = table + self._key()
                self._record_all(path, line)
                self._skip_blank(newlines=False)
                self._expect("=")
                self._value(path)

    def _line(self) -> int:
        return bisect.bisect_left(self._newlines, self.i) + 1

    def _record_all(self, path: KeyPath, line: int) -> None:
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], line)

    def _resolve(self, key: KeyPath) -> KeyPath:
        """A header's path with each array of tables replaced by its latest element."""
        out: KeyPath = ()
        for part in key:
            out = (*out, part)
            if out in self._array_tables:
                out = (*out, self._array_tables[out])
        return out

    def _skip_blank(self, newlines: bool) -> bool:
        """Skip spaces, tabs, comments (and newlines if asked); False at the end of the text."""
        s = self.s
        while self.i < len(s):
            char = s[self.i]
            if char in " \t\r" or (newlines and char == "\n"):
                self.i += 1
            elif char == "#":
                end = s.find("\n", self.i)
                self.i = len(s) if end == -1 else end
            else:
                return True
        return False

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self.s.startswith(token, self.i):
            raise ValueError(f"expected {token!r} at offset {self.i}")
        self.i += len(token)

    def _key(self) -> KeyPath:
        parts: list[str | int] = []
        while True:
            self._skip_blank(newlines=False)
            char = self.s[self.i]
            if char == '"':
                raw = self._basic_string()
                parts.append(json.loads(raw) if "\\" in raw else raw[1:-1])
            elif char == "'":
                parts.append(self._literal_string()[1:-1])
            else:
                match = _BARE_KEY.match(self.s, self.i)
                if match is None:
                    raise ValueError(f"no key at offset {self.i}")
                parts.append(match.group())
                self.i = match.end()
            self._skip_blank(newlines=False)
            if self.s[self.i] != ".":
                return tuple(parts)
            self.i += 1

    def _value(self, path: KeyPath) -> None:
        self._skip_blank(newlines=False)
        s, i = self.s, self.i
        if s[i] == "[":
            self._array(path)
        elif s[i] == "{":
            self._inline_table(path)
        elif s.startswith('"""', i) or s.startswith("'''", i):
            self._multiline_string(s[i])
        elif s[i] == '"':
            self._basic_string()
        elif s[i] == "'":
            self._literal_string()
        else:
            match = _SCALAR_END.search(s, i)
            self.i = len(s) if match is None else match.start()

    def _array(self, path: KeyPath) -> None:
        self.i += 1
        index = 0
        while self._skip_blank(newlines=True):
            if self.s[self.i] == "]":
                self.i += 1
                return
            element = (*path, index)
            self._record_all(element, self._line())
            self._value(element)
            self._skip_blank(newlines=True)
            if self.s[self.i] == ",":
                self.i += 1
                index += 1

    def _inline_table(self, path: KeyPath) -> None:
        self.i += 1
        while self._skip_blank(newlines=True):
            if self.s[self.i] == "}":
                self.i += 1
                return
            key = (*path, *self._key())
            self._record_all(key, self._line())
            self._expect("=")
            self._value(key)
            self._skip_blank(newlines=True)
            if self.s[self.i] == ",":
                self.i += 1

    def _basic_string(self) -> str:
        start = self.i
        self.i += 1
        while self.s[self.i] != '"':
            self.i += 2 if self.s[self.i] == "\\" else 1
        self.i += 1
        return self.s[start : self.i]

    def _literal_string(self) -> str:
        start = self.i
        self.i = self.s.index("'", self.i + 1) + 1
        return self.s[start : self.i]

    def _multiline_string(self, quote: str) -> None:
        fence = quote * 3
        self.i += 3
        while not self.s.startswith(fence, self.i):
            self.i += 2 if quote == '"' and self.s[self.i] == "\\" else 1
        self.i += 3
        while self.i < len(self.s) and self.s[self.i] == quote:  # up to two quotes may close it
            self.i += 1
