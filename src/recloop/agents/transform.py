"""A code transformation: one family of real changes to a workspace, with a typed parameter space.

A `Transformation` reads a checkout through a `CodeView` (the champion's root when proposing, a
candidate's worktree when developing) and returns the new text of each file it changes; it
never writes. `Develop` applies that text through `workspace.patch.write_files`, so the
manifest's path policy decides what may be written, and commits it.

Every transformation answers these questions about a checkout:

- `not_applicable(view)`: why it cannot apply here (the symbols it edits are missing), or None;
- `applied(view)`: whether its code is already in place, so that only its parameters would
  change (a parameter tweak, risk L1, instead of a code change), and `current(view)`: the
  values of its parameters there (the champion's point, a free observation for the optimiser);
- `files(view)`: the files it would change, for the proposal and its risk level;
- `edit(view, params)`: the new text of each changed file.

Symbols are found through the repository map (`find_symbol`), not by fixed paths, so a team that
moves a class to another module is still served; where a symbol is missing or defined twice
the transformation says it does not apply.
"""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from recloop.agents.source import PythonSource, SourceEditError
from recloop.agents.space import Scalar, Space
from recloop.agents.tomledit import ConfigEditError
from recloop.knowledge.proposal import Family
from recloop.workspace.manifest import Manifest
from recloop.workspace.repomap import RepoMap, build_repo_map

Params = Mapping[str, Scalar]


class TransformError(ValueError):
    """A transformation cannot produce its change on this checkout; the message says why."""


# everything that means "this transformation cannot edit this checkout"; callers catch these
# together instead of every helper translating the lower layers' errors
EDIT_ERRORS = (TransformError, SourceEditError, ConfigEditError)


class CodeView:
    """Read-only access to one checkout of a workspace: files, parsed modules, the repo map."""

    def __init__(self, root: str | Path, manifest: Manifest) -> None:
        self.root = Path(root)
        self.manifest = manifest

    def read(self, path: str) -> str | None:
        """A file's text (None if it does not exist)."""
        target = self.root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def python(self, path: str) -> PythonSource:
        text = self.read(path)
        if text is None:
            raise TransformError(f"{path} does not exist")
        return PythonSource(text, path)

    @cached_property
    def repo_map(self) -> RepoMap:
        return build_repo_map(self.root, self.manifest.recommender.source_dir)

    def locate(self, qualname: str) -> str:
        """The file defining a class, function or method (`TransformError` if not exactly one)."""
        refs = self.repo_map.find_symbol(qualname)
        found = {ref.path for ref in refs if ref.qualname == qualname}
        if len(found) != 1:
            listed = ", ".join(sorted(found))
            where = "nowhere" if not found else f"in {len(found)} files ({listed})"
            raise TransformError(f"{qualname} is defined {where}")
        return found.pop()

    def module_name(self, path: str) -> str:
        for module in self.repo_map.modules:
            if module.path == path:
                return module.name
        raise TransformError(f"{path} is not a module of the repository map")


class Transformation(ABC):
    """One family of changes (see the module docstring); subclasses are small and stateless."""

    family: ClassVar[Family]
    title: ClassVar[str]  # a short name for listings: "EASE candidate generator"
    requires: ClassVar[tuple[str, ...]] = ()  # qualnames that must exist exactly once

    @abstractmethod
    def space(self, view: CodeView) -> Space:
        """The parameters it takes, with their ranges."""

    def defaults(self, view: CodeView) -> dict[str, Scalar] | None:
        """A sensible first trial (None: let the optimiser start at random)."""
        return None

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        """Its parameters' values on this checkout when `applied` (the champion's point)."""
        return None

    def not_applicable(self, view: CodeView) -> str | None:
        """Why it cannot apply to this checkout, or None."""
        try:
            for qualname in self.requires:
                view.locate(qualname)
            self.files(view)
        except EDIT_ERRORS as exc:
            return str(exc)
        return None

    @abstractmethod
    def applied(self, view: CodeView) -> bool:
        """Whether its code is already in place (only its parameters would change)."""

    @abstractmethod
    def files(self, view: CodeView) -> tuple[str, ...]:
        """The files it changes on this checkout (fewer once `applied`)."""

    @abstractmethod
    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        """The new text of every file it changes (`TransformError` when it cannot)."""

    @abstractmethod
    def hypothesis(self, params: Params) -> str:
        """Why these parameters should help, in one or two sentences."""


def module_alias(source: PythonSource, module: str) -> str | None:
    """The name `source` uses for a workspace module (`from pkg import mod` -> `mod`)."""
    package, _, leaf = module.rpartition(".")
    for node in source.tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == package and node.level == 0:
            for alias in node.names:
                if alias.name == leaf:
                    return alias.asname or alias.name
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == module:
                    return alias.asname or alias.name
    return None
