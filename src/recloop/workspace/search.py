"""Config-level search spaces a manifest declares: parameters of one config file, values to try.

Each parameter is a dotted key of the config file (`ranking.weights.popularity`) with a type:
`float` or `int` over [low, high] (optionally on a log scale; ints with a step), or
`categorical` over a list of choices. Optimisers read these to propose config-only changes.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recloop.workspace.contract import Inconsistent

_CONFIG_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Param(_Section):
    path: str  # dotted key in the config file, like "ranking.weights.popularity"

    @field_validator("path")
    @classmethod
    def _config_key(cls, value: str) -> str:
        if not _CONFIG_KEY.match(value):
            raise ValueError(f"{value!r} must be a dotted key of the config file, like 'a.b'")
        return value


class _RangeParam(_Param):
    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _range(self) -> _RangeParam:
        if self.low >= self.high:
            raise Inconsistent([(("high",), f"high ({self.high}) must be above low ({self.low})")])
        if self.log and self.low <= 0:
            raise Inconsistent([(("low",), f"a log-scale range needs low > 0, got {self.low}")])
        return self


class FloatParam(_RangeParam):
    type: Literal["float"]


class IntParam(_RangeParam):
    type: Literal["int"]
    low: int
    high: int
    step: int = Field(default=1, ge=1)


class ChoiceParam(_Param):
    type: Literal["categorical"]
    choices: list[bool | int | float | str] = Field(min_length=2)


SearchParam = Annotated[FloatParam | IntParam | ChoiceParam, Field(discriminator="type")]


class SearchSpace(_Section):
    """Config-level search spaces: parameters of one config file and the values to try."""

    config: str  # the config file, relative to the workspace root
    params: list[SearchParam] = Field(min_length=1)

    @field_validator("config")
    @classmethod
    def _inside_workspace(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
            raise ValueError(f"{value!r} must be a relative path inside the workspace, with '/'")
        return path.as_posix()

    @model_validator(mode="after")
    def _unique_paths(self) -> SearchSpace:
        seen: set[str] = set()
        for i, param in enumerate(self.params):
            if param.path in seen:
                raise Inconsistent([(("params", i, "path"), f"{param.path!r} is listed twice")])
            seen.add(param.path)
        return self
