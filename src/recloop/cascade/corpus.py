"""The planted-fault corpus: candidate patches against the example workspace, with the verdict due.

`corpus/` (package data) holds one unified diff per case and `index.toml`: each case's kind
(`bad`: must be rejected; `good`: must reach the online slot), the stage and cause expected, a
description, and whether it needs the sandbox's namespace isolation to be caught (a case that
gets past the static checks and is stopped only by the read-only file system). `setup.diff` is
committed on the corpus workspace's main first: the stage budgets the corpus runs under.
The diffs are generated from the example template by `tests/cascade/make_corpus.py`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from recloop.cascade.submission import Submission
from recloop.workspace.example import create_example
from recloop.workspace.git import run_git
from recloop.workspace.manifest import Stage

CORPUS_PACKAGE = "recloop.cascade"
CORPUS_DIR = "corpus"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorpusCase(_Model):
    """One planted candidate and the verdict the cascade owes it."""

    name: str
    kind: Literal["good", "bad"]
    stage: Stage
    cause: str
    description: str
    patch: str  # file name under corpus/
    needs_isolation: bool = False

    def read_patch(self) -> str:
        return read_corpus_file(self.patch)

    def submission(self) -> Submission:
        return Submission(name=self.name, patch=self.read_patch(), proposal_family="corpus")


class SetupSection(_Model):
    patch: str
    description: str


class Corpus(_Model):
    """The corpus index (see the module docstring)."""

    setup: SetupSection
    cases: list[CorpusCase] = Field(alias="case")

    def select(self, names: list[str] | None) -> list[CorpusCase]:
        """The named cases (all when `names` is None); unknown names are an error."""
        if names is None:
            return list(self.cases)
        known = {c.name: c for c in self.cases}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown corpus case(s): {', '.join(unknown)}")
        return [known[n] for n in names]


def load_corpus() -> Corpus:
    """The corpus shipped with recloop."""
    return Corpus.model_validate(tomllib.loads(read_corpus_file("index.toml")))


def read_corpus_file(name: str) -> str:
    """A file of the shipped corpus (a diff or the index), as text."""
    return (resources.files(CORPUS_PACKAGE) / CORPUS_DIR / name).read_text(encoding="utf-8")


def corpus_workspace(target: str | Path, corpus: Corpus | None = None) -> Path:
    """The example workspace at `target` with the corpus's setup committed on main."""
    corpus = corpus or load_corpus()
    root = create_example(target, "movielens").path
    run_git(["apply", "-"], root, input=read_corpus_file(corpus.setup.patch).encode())
    identity = {
        "GIT_AUTHOR_NAME": "recloop",
        "GIT_AUTHOR_EMAIL": "recloop@localhost",
        "GIT_COMMITTER_NAME": "recloop",
        "GIT_COMMITTER_EMAIL": "recloop@localhost",
    }
    run_git(["commit", "--quiet", "--all", "-m", corpus.setup.description], root, env=identity)
    return root
