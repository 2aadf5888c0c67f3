"""The knowledge asset of a finished experiment, gathered from the ledger and recorded once.

`finalize` calls `record_outcome_asset` for every finished experiment; the asset's key is the
experiment's, so a repeated finalize (after a crash) finds the first one. The LLM brainstormer
retrieves from these assets' texts (`loop.llm_agents`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recloop.knowledge.assets import (
    ASSET_KIND,
    ExperimentFacts,
    OfflineFacts,
    OnlineFacts,
    asset_attribution,
    asset_text,
    asset_title,
)
from recloop.ledger import Experiment, KnowledgeAsset, Ledger

if TYPE_CHECKING:
    from recloop.loop.machine import Machine


def asset_key(experiment: Experiment) -> str:
    return f"experiment:{experiment.key}"


def record_outcome_asset(
    machine: Machine, experiment: Experiment, info: dict[str, Any]
) -> KnowledgeAsset:
    """Record (once) what the finished `experiment` teaches; `info` is its closing payload."""
    facts = experiment_facts(machine, experiment, info)
    return machine.ledger.add_knowledge_asset(
        asset_key(experiment),
        kind=ASSET_KIND,
        title=asset_title(facts),
        text=asset_text(facts),
        attribution=asset_attribution(facts),
        tags=facts.tags,
        experiment=experiment,
        actor="loop",
    )


def experiment_facts(
    machine: Machine, experiment: Experiment, info: dict[str, Any]
) -> ExperimentFacts:
    idea = machine.idea(experiment)
    candidate = machine.candidate(experiment)
    payload = {} if candidate is None else candidate.payload
    launched = experiment.state == "launched"
    return ExperimentFacts(
        key=experiment.key,
        family=idea.family,
        level=machine.level(experiment),
        hypothesis=idea.hypothesis,
        files=tuple(payload.get("files", ())),
        agent=str(payload.get("agent", "")),
        launched=launched,
        stage=None if launched else str(info.get("stage", "")),
        cause=None if launched else _text(info.get("cause")),
        sentence="" if launched else str(info.get("sentence", "")),
        offline=_offline(machine.ledger, experiment),
        online=_online(machine.ledger, experiment),
    )


def _offline(ledger: Ledger, experiment: Experiment) -> OfflineFacts | None:
    for metric in ledger.metrics(experiment, kind="offline"):
        if metric.payload.get("role") == "primary":
            return OfflineFacts(
                metric=metric.name,
                candidate=metric.value,
                champion=_number(metric.payload.get("champion")),
                difference=_number(metric.payload.get("difference")),
            )
    return None


def _online(ledger: Ledger, experiment: Experiment) -> OnlineFacts | None:
    decision = ledger.get_decision(experiment)
    if decision is None:
        return None
    rule = decision.rule_outcome
    details = rule.get("details") if isinstance(rule.get("details"), dict) else {}
    attribution = details.get("attribution") if isinstance(details, dict) else None
    return OnlineFacts(
        decision=decision.outcome,
        primary_metric=str(rule.get("primary_metric") or ""),
        primary_lift=_number(rule.get("primary_lift")),
        report=str(rule.get("report") or decision.explanation),
        attribution=attribution if isinstance(attribution, dict) else {},
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
