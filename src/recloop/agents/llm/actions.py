"""What the LLM Develop agent may do in one turn: exactly one action, validated by pydantic.

The model answers every turn with one JSON object whose `tool` picks the action. The first three
are read-only tools run by the harness in the candidate's worktree (`tools`); `propose_diff`
hands a unified diff to the cascade's checks (`develop`). A reply that is not one of these is
re-asked by the client with the validation errors.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    thought: str = Field(default="", description="why this step (kept in the transcript)")


class ReadFile(_Action):
    """Read a file of the repository, optionally only lines `start`..`end` (1-based, inclusive)."""

    tool: Literal["read_file"]
    path: str = Field(min_length=1, description="relative to the repository root, with '/'")
    start: int | None = Field(default=None, ge=1)
    end: int | None = Field(default=None, ge=1)


class Search(_Action):
    """Find symbols (class, function, method names) and text (a regular expression) in the code."""

    tool: Literal["search"]
    pattern: str = Field(min_length=1, max_length=200)


class ViewMap(_Action):
    """The repository map: one module with its import neighbours, or every module."""

    tool: Literal["view_map"]
    module: str | None = Field(default=None, description="a dotted module name, e.g. pkg.mod")


class ProposeDiff(_Action):
    """The change, as a unified diff against the repository as it is (`--- a/p`, `+++ b/p`)."""

    tool: Literal["propose_diff"]
    diff: str = Field(min_length=1)
    message: str = Field(min_length=1, max_length=2000, description="the commit message")


ToolAction = ReadFile | Search | ViewMap
Action = Annotated[ReadFile | Search | ViewMap | ProposeDiff, Field(discriminator="tool")]


class Turn(RootModel[Action]):
    """One turn of the Develop agent: a single action, chosen by its `tool` field."""
