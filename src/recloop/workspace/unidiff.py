"""Reading a unified diff's file headers, as `git apply` will: one `FileSection` per file.

The reader counts each hunk's lines from its `@@ -a,b +c,d @@` header, so a removed line that
reads `--- x` or an added `+++ y` inside a hunk is content, never a header. Names are kept as
written (quoted names unquoted, the `a/`/`b/` prefixes left on), so checks can see what git would
silently strip (`/etc/passwd` becomes `etc/passwd` under `-p1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@dataclass
class FileSection:
    """One file's part of a patch as recloop reads its headers (names as written, unstripped)."""

    git_header: bool = False
    old_name: str | None = None  # `--- ` name, or None for /dev/null
    new_name: str | None = None  # `+++ ` name, or None for /dev/null
    rename_from: str | None = None
    rename_to: str | None = None
    copy_from: str | None = None
    copy_to: str | None = None
    modes: list[str] = field(default_factory=list)
    deleted: bool = False
    created: bool = False
    binary: bool = False
    hunks: int = 0

    def raw_names(self) -> list[str]:
        names = [self.old_name, self.new_name, self.rename_from, self.rename_to]
        return [n for n in (*names, self.copy_from, self.copy_to) if n is not None]


def parse_patch(patch: bytes) -> list[FileSection]:
    """Split a unified diff into file sections, reading headers and counting hunk lines."""
    sections: list[FileSection] = []
    current: FileSection | None = None
    old_left = new_left = 0
    for line in patch.split(b"\n"):
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag in (b" ", b""):
                old_left, new_left = old_left - 1, new_left - 1
                continue
            if tag == b"-":
                old_left -= 1
                continue
            if tag == b"+":
                new_left -= 1
                continue
            if tag == b"\\":
                continue
            old_left = new_left = 0  # a short hunk: git will say so; read on as headers
        if line.startswith(b"\\"):
            continue
        if line.startswith(b"diff --git "):
            current = FileSection(git_header=True)
            sections.append(current)
        elif line.startswith(b"--- "):
            if current is None or current.hunks or not current.git_header:
                current = FileSection()
                sections.append(current)
            current.old_name = _header_name(line[4:])
        elif current is None:
            continue  # preamble (a commit message, say) before the first file
        elif line.startswith(b"+++ "):
            current.new_name = _header_name(line[4:])
        elif match := _HUNK.match(line):
            current.hunks += 1
            old_left = int(match.group(1) or b"1")
            new_left = int(match.group(2) or b"1")
        elif not current.hunks:
            _read_extended_header(current, line)
        if line.startswith((b"GIT binary patch", b"Binary files ")):
            current.binary = True
    return sections


def _read_extended_header(section: FileSection, line: bytes) -> None:
    text = line.decode("utf-8", "surrogateescape")
    for prefix, attr in (
        ("rename from ", "rename_from"),
        ("rename to ", "rename_to"),
        ("copy from ", "copy_from"),
        ("copy to ", "copy_to"),
    ):
        if text.startswith(prefix):
            setattr(section, attr, _unquote(text[len(prefix) :]))
            return
    for prefix in ("old mode ", "new mode ", "deleted file mode ", "new file mode "):
        if text.startswith(prefix):
            section.modes.append(text[len(prefix) :].strip())
            section.deleted |= prefix.startswith("deleted")
            section.created |= prefix.startswith("new file")


def _header_name(raw: bytes) -> str | None:
    text = raw.decode("utf-8", "surrogateescape").rstrip("\r")
    name = _unquote(text) if text.startswith('"') else text.split("\t")[0].rstrip()
    return None if name == "/dev/null" else name


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of a path ("a/x\\ty" with escapes); plain names pass as is."""
    text = text.strip()
    if not (text.startswith('"') and '"' in text[1:]):
        return text
    body = text[1 : text.rindex('"')]
    out = bytearray()
    i = 0
    escapes = {"n": 10, "t": 9, '"': 34, "\\": 92, "a": 7, "b": 8, "f": 12, "r": 13, "v": 11}
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(escapes.get(nxt, ord(nxt)))
            i += 2
            continue
        out += char.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def strip_first(name: str) -> str:
    """What `git apply -p1` makes of a `---`/`+++` name (`a/src/x.py` -> `src/x.py`)."""
    return name.split("/", 1)[1] if "/" in name else name
