"""Durable whole-file writes: a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file beside the target (`.<name>.<random>.tmp`, same folder so the
rename stays on one filesystem), are flushed and fsynced, and the temporary file is renamed over
the target (`os.replace` is atomic). A crash leaves at most a stray temporary file, never a torn
target; a failed write removes its temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably (see the module docstring); makes the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
