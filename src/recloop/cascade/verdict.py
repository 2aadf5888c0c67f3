"""What a cascade stage says about a candidate, and what the whole cascade concluded.

A `Verdict` is one stage's answer: an outcome (pass, reject, error; the online slot answers
`pending`), a cause code from `causes`, one sentence a person can read, the evidence (offending
file and line, a metric table, a log tail, details) and what the stage cost. A `CascadeResult`
is the ordered verdicts of one run; a rejection is also returned as a `Rejection` record (stage,
cause, sentence, evidence, changed files, proposal) for the failure memory to keep.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recloop.cascade.causes import (
    ALL_CAUSES,
    ERROR_CAUSES,
    NOT_PROMISING,
    PASS_CAUSES,
    PENDING_ONLINE,
    REJECT_CAUSES,
)
from recloop.workspace.manifest import Stage

Outcome = Literal["pass", "reject", "error", "pending"]
CascadeOutcome = Literal["rejected", "error", "pending-online", "not-promising", "passed"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cost(_Model):
    """Resources a stage spent: wall-clock seconds and CPU seconds (recloop plus children)."""

    wall_seconds: float = Field(ge=0.0)
    cpu_seconds: float = Field(ge=0.0)

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            wall_seconds=self.wall_seconds + other.wall_seconds,
            cpu_seconds=self.cpu_seconds + other.cpu_seconds,
        )


ZERO_COST = Cost(wall_seconds=0.0, cpu_seconds=0.0)


class Location(_Model):
    """Where in the candidate's code: a worktree-relative path, a line, what is wrong there."""

    path: str
    line: int | None = None
    message: str = ""

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}" if self.message else where


class MetricRow(_Model):
    """One metric of the champion against the candidate, with the bound the rule applied."""

    metric: str
    role: Literal["primary", "guardrail", "cost"]
    champion: float
    candidate: float
    difference: float  # candidate - champion
    ci_low: float | None = None
    ci_high: float | None = None
    bound: float | None = None  # worst allowed value (guardrail) or minimum improvement
    status: Literal["ok", "worse", "violated", "promising", "not-promising"] = "ok"


class Evidence(_Model):
    """Why a stage decided what it did; every part optional."""

    locations: list[Location] = Field(default_factory=list)
    metrics: list[MetricRow] = Field(default_factory=list)
    log_tail: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class Verdict(_Model):
    """One stage's answer about one candidate (see the module docstring)."""

    stage: Stage
    outcome: Outcome
    cause: str
    sentence: str
    evidence: Evidence = Field(default_factory=Evidence)
    cost: Cost = ZERO_COST

    @field_validator("cause")
    @classmethod
    def _known_cause(cls, cause: str) -> str:
        if cause not in ALL_CAUSES:
            raise ValueError(f"unknown cause code {cause!r} (see recloop.cascade.causes)")
        return cause

    @model_validator(mode="after")
    def _cause_fits_outcome(self) -> Verdict:
        allowed: tuple[str, ...] = {
            "pass": PASS_CAUSES,
            "pending": (PENDING_ONLINE,),
            "error": ERROR_CAUSES,
            "reject": REJECT_CAUSES[self.stage],
        }[self.outcome]
        if self.cause not in allowed:
            raise ValueError(f"cause {self.cause!r} does not fit a {self.stage} {self.outcome}")
        return self

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def rejected(self) -> bool:
        return self.outcome == "reject"

    @property
    def stops(self) -> bool:
        """Whether the cascade ends here (a rejection, an error, or offline not promising)."""
        return self.outcome in ("reject", "error") or self.cause == NOT_PROMISING


class Rejection(_Model):
    """A rejected candidate as the failure memory keeps it (converted by `recloop.knowledge`)."""

    candidate: str
    stage: Stage
    cause: str
    sentence: str
    evidence: Evidence
    changed_files: list[str]
    proposal_family: str | None = None
    proposal_params: dict[str, Any] = Field(default_factory=dict)


class CascadeResult(_Model):
    """The verdicts of one cascade run over one candidate, in stage order."""

    candidate: str
    changed_files: list[str]
    verdicts: list[Verdict]
    commit: str | None = None  # the candidate's commit, once the structural stage made it
    proposal_family: str | None = None
    proposal_params: dict[str, Any] = Field(default_factory=dict)

    @property
    def last(self) -> Verdict:
        return self.verdicts[-1]

    @property
    def outcome(self) -> CascadeOutcome:
        last = self.last
        if last.outcome == "reject":
            return "rejected"
        if last.outcome == "error":
            return "error"
        if last.outcome == "pending":
            return "pending-online"
        return "not-promising" if last.cause == NOT_PROMISING else "passed"

    @property
    def cost(self) -> Cost:
        total = ZERO_COST
        for verdict in self.verdicts:
            total = total + verdict.cost
        return total

    @property
    def rejection(self) -> Rejection | None:
        """The rejection record, when a stage rejected the candidate."""
        last = self.last
        if last.outcome != "reject":
            return None
        return Rejection(
            candidate=self.candidate,
            stage=last.stage,
            cause=last.cause,
            sentence=last.sentence,
            evidence=last.evidence,
            changed_files=self.changed_files,
            proposal_family=self.proposal_family,
            proposal_params=self.proposal_params,
        )
