"""What one finished experiment teaches, as a knowledge asset: text to retrieve, facts to query.

Every experiment the loop finishes — launched, rejected at a stage, stopped online — becomes one
asset: what was tried (family, level, hypothesis, files), how far it got and why it stopped
(stage, cause, the stage's sentence), what was measured offline (the primary metric against the
champion of its time) and online (the Evaluation agent's decision, lifts and its explanation,
with the structured attribution when the agent produced one). The text is what retrieval
indexes and what an LLM brainstormer reads; the attribution is the same facts as data. Both are
built from recorded facts only — nothing here judges anything.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ASSET_KIND = "experiment-outcome"


class OfflineFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    champion: float | None = None
    candidate: float
    difference: float | None = None


class OnlineFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: str
    primary_metric: str = ""
    primary_lift: float | None = None
    report: str = ""  # the Evaluation agent's explanation, in words
    attribution: dict[str, Any] = Field(default_factory=dict)  # its structured attribution


class ExperimentFacts(BaseModel):
    """What the ledger knows of one finished experiment, gathered by the loop."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    family: str
    level: str
    hypothesis: str
    files: tuple[str, ...] = ()
    agent: str = ""  # which develop agent wrote the change
    launched: bool
    stage: str | None = None  # where it stopped (None when launched)
    cause: str | None = None
    sentence: str = ""
    offline: OfflineFacts | None = None
    online: OnlineFacts | None = None

    @property
    def outcome(self) -> str:
        """`launched`, or `stopped at <stage>: <cause>`."""
        return "launched" if self.launched else f"stopped at {self.stage}: {self.cause}"

    @property
    def tags(self) -> tuple[str, ...]:
        tags = [f"family:{self.family}", f"level:{self.level}"]
        tags.append("launched" if self.launched else f"stage:{self.stage}")
        if self.cause:
            tags.append(f"cause:{self.cause}")
        if self.online is not None:
            tags.append(f"online:{self.online.decision}")
        return tuple(tags)


def asset_title(facts: ExperimentFacts) -> str:
    return f"{facts.key} ({facts.family}, {facts.level}): {facts.outcome}"


def asset_text(facts: ExperimentFacts) -> str:
    """The asset as a few plain sentences (for retrieval and for people)."""
    lines = [
        f"Experiment {facts.key}, family {facts.family}, level {facts.level}: {facts.outcome}.",
        f"Idea: {facts.hypothesis.strip()}",
    ]
    if facts.files:
        lines.append(f"Files changed: {', '.join(facts.files)}.")
    if not facts.launched and facts.sentence:
        lines.append(f"Why it stopped: {facts.sentence.strip()}")
    if facts.offline is not None:
        lines.append(_offline_sentence(facts.offline))
    if facts.online is not None:
        lines.append(_online_sentence(facts.online))
    return "\n".join(lines)


def asset_attribution(facts: ExperimentFacts) -> dict[str, Any]:
    """The same facts as data (the asset's `attribution` column)."""
    return facts.model_dump(mode="json")


def _offline_sentence(offline: OfflineFacts) -> str:
    text = f"Offline {offline.metric}: {offline.candidate:.4f}"
    if offline.champion is not None:
        text += f" against the champion's {offline.champion:.4f}"
    if offline.difference is not None:
        text += f" (difference {offline.difference:+.4f})"
    return text + "."


def _online_sentence(online: OnlineFacts) -> str:
    text = f"Online A/B test: {online.decision}"
    if online.primary_lift is not None:
        text += f", {online.primary_metric} {online.primary_lift:+.1%}"
    text += "."
    if online.report:
        text += f" {online.report.strip()}"
    return text
