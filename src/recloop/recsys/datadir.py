"""Where recloop looks for datasets: `RECLOOP_DATA_DIR`, else the user's cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "RECLOOP_DATA_DIR"


class DataUnavailableError(RuntimeError):
    """A dataset is neither on disk nor downloadable; the message says where recloop looked."""


def data_dir() -> Path:
    """The data directory: the env var when set (tests and CI point it at shared data)."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("recloop")) / "data"
