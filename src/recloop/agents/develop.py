"""Develop: turn a proposal into a real commit on a candidate. The `Developer` seam and its
non-LLM implementation.

`Developer` is the port every develop agent implements: `develop(proposal, candidate)` writes
the change into the candidate's worktree, commits it, and returns a `DevelopResult` (the
commit, the diff, the files, the change's scope and risk level), or the reason it could not.
The LLM agent (issue 8) implements the same method and may repair its patch; the cascade
judges whatever commit comes out.

`CatalogueDeveloper` looks the proposal's family up in the transformation catalogue, checks
the parameters against the transformation's space, lets it edit the worktree's code and config
(as text, never writing), then writes through `workspace.patch.write_files`, so the manifest's
path policy (editable and protected globs, size, symlinks) refuses anything it must, and commits
with `Candidates.commit`. The worktree is left untouched unless the write passes the policy.

Failure causes (`DevelopFailure.cause`):

    unknown-family    no transformation of the proposal's family in the catalogue
    not-applicable    the candidate's code lacks what the transformation edits
    bad-parameters    a parameter is missing, unknown, or outside the transformation's space
    edit-failed       the transformation could not produce valid code or config
    nothing-changed   the edit left every file as it was (the champion already is the proposal)
    patch-rejected    the path policy refused a file (the rejections are in the message)
    git-failed        committing failed
    llm-failed        the LLM could not be used (unreachable, timed out, replies never valid)
    budget-exhausted  an LLM token or cost budget ran out (the run stops on it)
    repair-exhausted  the LLM's diffs were rejected by the checks after every repair attempt
    steps-exhausted   the LLM used all its turns without proposing a diff that passed
    check-failed      recloop's checks could not judge the LLM's diff (a harness error)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol, get_args, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents.risk import ChangeScope, risk_level
from recloop.agents.space import Scalar, check_values
from recloop.agents.transform import EDIT_ERRORS, CodeView, Transformation
from recloop.agents.transforms import Catalogue, default_catalogue
from recloop.knowledge.proposal import Proposal
from recloop.workspace.errors import GitError, PatchRejectedError
from recloop.workspace.git import Candidate, Candidates
from recloop.workspace.manifest import Level, Manifest
from recloop.workspace.patch import PathPolicy, write_files

DevelopCause = Literal[
    "unknown-family",
    "not-applicable",
    "bad-parameters",
    "edit-failed",
    "nothing-changed",
    "patch-rejected",
    "git-failed",
    "llm-failed",
    "budget-exhausted",
    "repair-exhausted",
    "steps-exhausted",
    "check-failed",
]
DEVELOP_CAUSES: tuple[str, ...] = get_args(DevelopCause)
AGENT_NAME = "catalogue"


class DevelopFailure(BaseModel):
    """Why no commit came out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cause: DevelopCause
    message: str


class DevelopResult(BaseModel):
    """The commit a develop agent made on a candidate, or why it made none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidate: str
    agent: str
    commit: str | None = None
    diff: str = ""
    files: tuple[str, ...] = ()
    scope: ChangeScope | None = None
    risk: Level | None = None
    sources: dict[str, tuple[str | None, str | None]] = Field(default_factory=dict)
    # path -> (before, after), for the knowledge base's exact change signature
    failure: DevelopFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None and self.commit is not None

    @classmethod
    def committed(
        cls,
        candidates: Candidates,
        candidate: Candidate,
        agent: str,
        message: str,
        sources: dict[str, tuple[str | None, str | None]],
    ) -> DevelopResult:
        """Commit what is written in the candidate's worktree; the result with the change's
        scope and risk level by rule (every develop agent ends here, so they are judged alike)."""
        try:
            commit = candidates.commit(candidate.name, message)
            diff = candidates.diff(candidate.name)
        except GitError as exc:
            failure = DevelopFailure(cause="git-failed", message=str(exc))
            return cls(candidate=candidate.name, agent=agent, failure=failure)
        scope = ChangeScope.between(
            {p: b for p, (b, _) in sources.items()}, {p: a for p, (_, a) in sources.items()}
        )
        return cls(
            candidate=candidate.name,
            agent=agent,
            commit=commit,
            diff=diff,
            files=tuple(sorted(sources)),
            scope=scope,
            risk=risk_level(scope),
            sources=sources,
        )


@runtime_checkable
class Developer(Protocol):
    """The develop port: a proposal and a fresh candidate in, a commit (or a reason) out."""

    def develop(self, proposal: Proposal, candidate: Candidate) -> DevelopResult: ...


class CatalogueDeveloper:
    """The non-LLM developer (see the module docstring)."""

    def __init__(
        self, workspace: str | Path, manifest: Manifest, catalogue: Catalogue | None = None
    ) -> None:
        self.manifest = manifest
        self.catalogue = catalogue or default_catalogue()
        self.candidates = Candidates(workspace, champion=manifest.main_branch)
        self.policy = PathPolicy(
            editable=tuple(manifest.paths.editable), protected=manifest.paths.all_protected
        )

    def develop(self, proposal: Proposal, candidate: Candidate) -> DevelopResult:
        transformation = self.catalogue.get(proposal.family)
        if transformation is None:
            return self._failed(
                candidate, "unknown-family", f"no transformation of family {proposal.family!r}"
            )
        view = CodeView(candidate.path, self.manifest)
        reason = transformation.not_applicable(view)
        if reason is not None:
            return self._failed(candidate, "not-applicable", reason)
        problems = check_values(transformation.space(view), proposal.parameters)
        if problems:
            return self._failed(candidate, "bad-parameters", "; ".join(problems))
        params: dict[str, Scalar] = {
            k: v for k, v in proposal.parameters.items() if isinstance(v, bool | int | float | str)
        }
        try:
            edits = transformation.edit(view, params)
        except EDIT_ERRORS as exc:
            return self._failed(candidate, "edit-failed", str(exc))
        before = {path: view.read(path) for path in edits}
        changed = {path: text for path, text in edits.items() if before[path] != text}
        if not changed:
            return self._failed(candidate, "nothing-changed", "the edit changed no file")
        return self._commit(candidate, transformation, proposal, before, changed)

    def _commit(
        self,
        candidate: Candidate,
        transformation: Transformation,
        proposal: Proposal,
        before: dict[str, str | None],
        changed: dict[str, str],
    ) -> DevelopResult:
        try:
            write_files(candidate.path, dict(changed), self.policy)
        except PatchRejectedError as exc:
            return self._failed(candidate, "patch-rejected", str(exc))
        sources: dict[str, tuple[str | None, str | None]] = {
            path: (before[path], text) for path, text in changed.items()
        }
        message = _message(transformation, proposal)
        return DevelopResult.committed(self.candidates, candidate, AGENT_NAME, message, sources)

    def _failed(self, candidate: Candidate, cause: DevelopCause, message: str) -> DevelopResult:
        failure = DevelopFailure(cause=cause, message=message)
        return DevelopResult(candidate=candidate.name, agent=AGENT_NAME, failure=failure)


def _message(transformation: Transformation, proposal: Proposal) -> str:
    values = ", ".join(f"{k}={v!r}" for k, v in sorted(proposal.parameters.items()))
    return (
        f"{transformation.title} ({values})\n\n{proposal.hypothesis}\n\n"
        f"family: {proposal.family}\nrisk: {proposal.risk}\nagent: recloop {AGENT_NAME} developer\n"
    )
