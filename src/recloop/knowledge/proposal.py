"""A proposal: the idea a brainstorm agent emits before any code is written.

A proposal names its family (the kind of change, from a fixed list; `free-form` for anything
else), its parameters (scalars or lists of scalars), the hypothesis in words, the files it plans
to touch and its risk level (L1 parameter tweak … L4 cross-module change). It is the input of
`forbidden.check_proposal`, the cheapest rejection of all.

Parameter names are compared after `normalise_name` (case-folded, `-` read as `_`), so
`Half-Life` and `half_life` are one parameter.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recloop.workspace.manifest import Level

Family = Literal[
    "blend-weights",
    "candidate-neighbours",
    "ease-ranking",
    "time-decay",
    "popularity-debias",
    "diversity-rerank",
    "cold-start-fallback",
    "free-form",
]
FAMILIES: tuple[str, ...] = get_args(Family)

Scalar = bool | int | float | str
ParamValue = Scalar | list[Scalar] | None


def normalise_name(name: str) -> str:
    """A parameter's name as recloop compares it: stripped, case-folded, `-` as `_`."""
    return name.strip().casefold().replace("-", "_")


def relative_posix(path: str) -> str:
    """A POSIX path inside the workspace (no absolute path, no `..`, no backslash)."""
    posix = PurePosixPath(path)
    if not path or posix.is_absolute() or ".." in posix.parts or "\\" in path:
        raise ValueError(f"{path!r} must be a relative path inside the workspace, with '/'")
    return posix.as_posix()


class Proposal(BaseModel):
    """One idea to try on the champion, as a brainstorm agent states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: Family
    hypothesis: str = Field(min_length=1)
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    files: tuple[str, ...] = ()  # files it plans to touch, relative to the workspace root
    risk: Level = "L1"
    expected_effect: str = ""  # in words, e.g. "+3% ndcg@10, coverage unchanged"

    @field_validator("parameters")
    @classmethod
    def _distinct_names(cls, params: dict[str, ParamValue]) -> dict[str, ParamValue]:
        names = [normalise_name(n) for n in params]
        if "" in names:
            raise ValueError("a parameter name must not be empty")
        if len(set(names)) != len(names):
            raise ValueError("two parameters have the same name once normalised (case, '-')")
        return params

    @field_validator("files")
    @classmethod
    def _relative_files(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({relative_posix(f) for f in files}))

    @property
    def normalised_parameters(self) -> dict[str, ParamValue]:
        """The parameters keyed by their normalised names."""
        return {normalise_name(n): v for n, v in self.parameters.items()}
