"""The pattern of a forbidden direction: which proposals and changes it covers, and why.

A pattern constrains up to four things; what it leaves empty is unconstrained:

- `family`: the proposal's family must be this one;
- `params`: each named parameter must be present with a value inside its condition, a
  `NumericRange` (inclusive; numbers only, booleans are not numbers) or a `ValueSet` (bucket
  labels, see `signature.bucket_label`: strings case-folded, lists element-wise);
- `files`: the files the proposal plans to touch (before code) or the change touched (after);
- `symbols`: the `path::symbol`s the change touched (checkable only after code is written).

With `exact` (the patterns the promotion rule writes: "this very idea"), a proposal or change
must have exactly the pattern's parameter names (no more, no fewer) and, after code, exactly its
files and symbols. Without it (a person's pattern: "anything in this region"), listed
parameters must be present and inside, and files and symbols must overlap.

Before code is written a proposal's files are only a plan: they must overlap the pattern's files;
a proposal that names no files is not told apart by them (the clause says so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recloop.knowledge.proposal import ParamValue, Proposal, normalise_name, relative_posix
from recloop.knowledge.signature import (
    LOG_RATIO,
    Signature,
    bucket_bounds,
    bucket_label,
    is_number,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NumericRange(_Frozen):
    """Numbers in [low, high], both included."""

    kind: Literal["range"] = "range"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise ValueError(f"a range needs low <= high, got [{self.low}, {self.high}]")
        return self

    def contains(self, value: ParamValue) -> bool:
        return is_number(value) and self.low <= float(value) <= self.high  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.low == self.high:
            return f"= {self.low:.4g}"
        return f"in [{self.low:.4g}, {self.high:.4g}]"


class ValueSet(_Frozen):
    """Values whose bucket label is one of `labels`."""

    kind: Literal["values"] = "values"
    labels: tuple[str, ...] = Field(min_length=1)

    @field_validator("labels")
    @classmethod
    def _sorted(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(labels)))

    def contains(self, value: ParamValue) -> bool:
        return bucket_label(value) in self.labels

    def describe(self) -> str:
        return (
            f"= {self.labels[0]}" if len(self.labels) == 1 else f"in {{{', '.join(self.labels)}}}"
        )


Condition = Annotated[NumericRange | ValueSet, Field(discriminator="kind")]


def condition_for(value: ParamValue, ratio: float = LOG_RATIO) -> NumericRange | ValueSet:
    """The region around one value: its log bucket for a number, its label otherwise."""
    if is_number(value):
        low, high = bucket_bounds(float(value), ratio)  # type: ignore[arg-type]
        if not math.isnan(low):
            return NumericRange(low=low, high=high)
    return ValueSet(labels=(bucket_label(value),))


class Pattern(_Frozen):
    """See the module docstring."""

    family: str | None = None
    params: dict[str, Condition] = Field(default_factory=dict)
    files: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    exact: bool = False

    @field_validator("params")
    @classmethod
    def _normalised_names(cls, params: dict[str, Condition]) -> dict[str, Condition]:
        out = {normalise_name(name): condition for name, condition in params.items()}
        if len(out) != len(params) or "" in out:
            raise ValueError("parameter names must be non-empty and distinct once normalised")
        return dict(sorted(out.items()))

    @field_validator("files")
    @classmethod
    def _relative_files(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({relative_posix(f) for f in files}))

    @field_validator("symbols")
    @classmethod
    def _sorted_symbols(cls, symbols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(symbols)))

    @model_validator(mode="after")
    def _not_everything(self) -> Self:
        if not (self.family or self.params or self.files or self.symbols):
            raise ValueError("a pattern must name a family, a parameter, a file or a symbol")
        return self

    def match_proposal(self, proposal: Proposal) -> tuple[str, ...] | None:
        """Why the pattern covers a proposal (one clause per condition), or None if it does not."""
        clauses = self._family_and_params(proposal.family, proposal.normalised_parameters)
        if clauses is None or not self.files:
            return clauses
        if not proposal.files:
            return (*clauses, f"it names no files, so none tell it apart from {_list(self.files)}")
        common = sorted(set(self.files) & set(proposal.files))
        return (*clauses, f"it plans to touch {_list(common)}") if common else None

    def match_change(
        self, signature: Signature, parameters: Mapping[str, ParamValue]
    ) -> tuple[str, ...] | None:
        """Why the pattern covers a written change, or None if it does not."""
        names = {normalise_name(n): v for n, v in parameters.items()}
        clauses = self._family_and_params(signature.family, names)
        for what, wanted, got in (
            ("files", self.files, signature.files),
            ("symbols", self.symbols, signature.symbols),
        ):
            if clauses is None or not wanted:
                continue
            if self.exact and set(wanted) != set(got):
                return None
            common = sorted(set(wanted) & set(got))
            if not common:
                return None
            clauses = (*clauses, f"it changes {what} {_list(common)}")
        return clauses

    def _family_and_params(
        self, family: str, params: Mapping[str, ParamValue]
    ) -> tuple[str, ...] | None:
        clauses: list[str] = []
        if self.family is not None:
            if family != self.family:
                return None
            clauses.append(f"family {family!r}")
        if self.exact and set(params) != set(self.params):
            return None
        for name, condition in self.params.items():
            if name not in params or not condition.contains(params[name]):
                return None
            clauses.append(f"{name} = {params[name]!r} is {condition.describe()}")
        if self.exact and self.params:
            clauses.append("and it sets no other parameter")
        return tuple(clauses)

    def describe(self) -> str:
        parts = [f"family {self.family}" if self.family else "any family"]
        parts += [f"{name} {condition.describe()}" for name, condition in self.params.items()]
        if self.exact:
            parts.append("no other parameter" if self.params else "no parameters")
        if self.files:
            parts.append(f"files {_list(self.files)}")
        if self.symbols:
            parts.append(f"symbols {_list(self.symbols)}")
        return "; ".join(parts)


def _list(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items)
