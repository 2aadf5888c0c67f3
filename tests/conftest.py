"""Shared fixtures: the real data directory (CI points RECLOOP_DATA_DIR at shared/data), and
command apps built the way `recloop.cli` builds its own."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from recloop.recsys.data import Interactions
from recloop.recsys.datadir import DATA_DIR_ENV, data_dir

# tests read the shared data beside the checkout unless told otherwise (as CI does)
os.environ.setdefault(DATA_DIR_ENV, str(Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def ml100k_root() -> Path:
    root = data_dir()
    if not (root / "ml-100k" / "u.data").is_file():
        message = f"MovieLens 100K is not in {root} (set {DATA_DIR_ENV})"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has the data: a skip there would hide lost coverage
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def ml100k(ml100k_root: Path) -> Interactions:
    from recloop.recsys.movielens import load_ml100k

    return load_ml100k(ml100k_root)


CommandApp = Callable[[Callable[[typer.Typer], None]], typer.Typer]


@pytest.fixture(scope="session")
def command_app() -> CommandApp:
    """`command_app(register)`: a root Typer app (with a callback, so commands and groups are
    sub-commands, as in recloop's) that a command module registers itself on."""

    def make(register: Callable[[typer.Typer], None]) -> typer.Typer:
        app = typer.Typer()

        @app.callback()
        def root() -> None:
            """A root like recloop's."""

        register(app)
        return app

    return make
