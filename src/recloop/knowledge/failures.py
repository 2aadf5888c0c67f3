"""A failure record: one verdict of the cascade that stopped a candidate, kept as memory.

Every rejection becomes a record (memory must include failures, not only successes): the
proposal's family and parameters when known, the stage and its cause code, the cascade's
sentence and evidence, the changed files and the diff, the champion commit the candidate was
built on, and the change's normalised `Signature` (see `signature`), which is what the promotion
rule counts. The cascade's fields arrive as plain values; this package does not import the
cascade.

A verdict of `error` (the harness or the machine failed, not the candidate) is recorded too, so
nothing is lost, but `counts` is False for it: infrastructure errors never promote a direction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from recloop.knowledge._time import UtcDatetime, as_utc
from recloop.knowledge.proposal import ParamValue, Proposal, relative_posix
from recloop.knowledge.signature import Signature, Sources, change_signature
from recloop.workspace.manifest import Stage

Verdict = Literal["reject", "error"]


class FailureRecord(BaseModel):
    """One stopped candidate; build it with `FailureRecord.from_rejection`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^fr-[0-9a-f]{8}$")
    recorded_at: UtcDatetime
    verdict: Verdict
    stage: Stage
    cause: str = Field(min_length=1)  # the cascade's cause code, e.g. "undefined-name"
    sentence: str
    evidence: JsonValue = None
    changed_files: tuple[str, ...] = ()
    diff: str = ""
    family: str | None = None
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    proposal_id: str | None = None
    candidate: str | None = None
    champion: str | None = None  # the champion commit the candidate was built on
    signature: Signature

    @field_validator("changed_files")
    @classmethod
    def _relative_files(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({relative_posix(f) for f in files}))

    @property
    def counts(self) -> bool:
        """Whether it may count towards a forbidden direction (a rejection, not an error)."""
        return self.verdict == "reject"

    def describe(self) -> str:
        return f"{self.id} {self.stage}/{self.cause}: {self.sentence}"

    @classmethod
    def from_rejection(
        cls,
        *,
        stage: Stage,
        cause: str,
        sentence: str,
        now: datetime,
        verdict: Verdict = "reject",
        evidence: JsonValue | BaseModel = None,
        changed_files: Iterable[str] = (),
        diff: str = "",
        proposal: Proposal | None = None,
        family: str | None = None,
        parameters: dict[str, ParamValue] | None = None,
        proposal_id: str | None = None,
        candidate: str | None = None,
        champion: str | None = None,
        sources: Sources | None = None,
    ) -> FailureRecord:
        """A record of a cascade verdict, its signature computed from `sources` (path ->
        (before, after) text) when given, else from the diff. The family and parameters are the
        proposal's unless given explicitly. `evidence` may be the cascade's pydantic model; it is
        kept as its JSON form."""
        if isinstance(evidence, BaseModel):
            evidence = evidence.model_dump(mode="json")
        if proposal is not None:
            family = family or proposal.family
            parameters = dict(proposal.parameters) if parameters is None else parameters
        parameters = parameters or {}
        files = tuple(changed_files)
        signature = change_signature(
            family=family, parameters=parameters, changed_files=files, diff=diff, sources=sources
        )
        at = as_utc(now)
        identity = [at.isoformat(), verdict, stage, cause, sentence, signature.key, candidate, diff]
        digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:8]
        return cls(
            id=f"fr-{digest}",
            recorded_at=at,
            verdict=verdict,
            stage=stage,
            cause=cause,
            sentence=sentence,
            evidence=evidence,
            changed_files=files,
            diff=diff,
            family=family,
            parameters=parameters,
            proposal_id=proposal_id,
            candidate=candidate,
            champion=champion,
            signature=signature,
        )
