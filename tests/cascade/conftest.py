"""Shared cascade fixtures: one corpus workspace and context per session, champion measured once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recloop.cascade.context import CascadeContext
from recloop.cascade.corpus import Corpus, corpus_workspace, load_corpus
from recloop.workspace.example import create_example


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus()


@pytest.fixture(scope="session")
def corpus_context(
    tmp_path_factory: pytest.TempPathFactory, ml100k_root: Path, corpus: Corpus
) -> Iterator[CascadeContext]:
    """The corpus workspace (example + tighter budgets) with its champion measured once."""
    root = corpus_workspace(tmp_path_factory.mktemp("cascade") / "movies", corpus)
    context = CascadeContext(root, data_root=ml100k_root)
    context.champion()
    yield context
    context.close()


POPULARITY_OFF = """\
--- a/config/pipeline.toml
+++ b/config/pipeline.toml
@@ -15,3 +15,3 @@
 # Linear blend of the candidate features, each scaled to [0, 1] per user.
-popularity = 0.5
+popularity = 0.0
 cooccurrence = 1.0
"""


@pytest.fixture
def popularity_off() -> str:
    """A sound config-only patch: the popularity feature turned off."""
    return POPULARITY_OFF


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh example workspace (no data needed until a stage runs code)."""
    return create_example(tmp_path / "movies").path


@pytest.fixture
def example_context(example: Path) -> CascadeContext:
    return CascadeContext(example)
